//! A product's stock buckets (`STOCK#<product id>#<nn>`): each holds a share of the
//! units, and a copy of the terms an order is priced on (price, on sale), so that placing
//! an order conditions on the buckets it takes from alone and never writes (or checks)
//! the product item, which two indexes project.
//!
//! Invariants: a product with `stock_buckets` = K has buckets 0..K, written with it in
//! one transaction; every write of the product's price or sale flag writes every bucket's
//! copy in the same transaction. A product stored before buckets existed holds its stock
//! on its own item (`stock_quantity`, no `stock_buckets`) until a write moves it into
//! bucket 0 ([`StoredStock::OnProduct`]).

use domain::ProductId;
use domain::product::Product;
use domain::stock_buckets::Buckets;
use serde::{Deserialize, Serialize};

use super::{ItemHead, cents, decode, encode};
use crate::failure::Failure;
use crate::item::{Fields, Item};
use crate::keys;

const BUCKET: &str = "stock bucket";

/// One stock bucket as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StockBucketRecord {
    #[serde(flatten)]
    head: ItemHead,
    #[serde(flatten)]
    fields: BucketFields,
}

/// A bucket's own attributes. A bucket item decodes as this one struct: its key is skipped
/// unread (decoding the record, its flattened head would buffer every attribute first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BucketFields {
    product_id: String,
    bucket: u8,
    stock_quantity: u32,
    price_cents: i64,
    is_active: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ever_ordered: bool,
}

/// What a read found in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BucketRead {
    pub product_id: ProductId,
    pub bucket: usize,
    pub units: u32,
    pub ever_ordered: bool,
}

impl StockBucketRecord {
    /// Bucket `bucket` of `product`, holding `units`, with the product's terms.
    pub fn encode(product: &Product, bucket: usize, units: u32) -> Result<Item, Failure> {
        encode(
            BUCKET,
            &StockBucketRecord {
                head: ItemHead::new(
                    keys::stock_bucket(product.id, bucket),
                    keys::entity::STOCK_BUCKET,
                ),
                fields: BucketFields {
                    product_id: product.id.to_string(),
                    bucket: u8::try_from(bucket).map_err(|_| Failure::record(BUCKET, "bucket"))?,
                    stock_quantity: units,
                    price_cents: cents(BUCKET, product.price)?,
                    is_active: product.is_active,
                    ever_ordered: false,
                },
            },
        )
    }

    pub fn decode(item: Item) -> Result<BucketRead, Failure> {
        let r: BucketFields = decode(BUCKET, item)?;
        Ok(BucketRead {
            product_id: r
                .product_id
                .parse()
                .map_err(|_| Failure::record(BUCKET, "invalid product_id"))?,
            bucket: usize::from(r.bucket),
            units: r.stock_quantity,
            ever_ordered: r.ever_ordered,
        })
    }
}

/// Whether `item` is a stock bucket (its key says so).
pub(crate) fn is_bucket(item: &Item) -> bool {
    Fields(item)
        .str(keys::PK)
        .is_ok_and(|pk| pk.starts_with(keys::STOCK_BUCKET_PREFIX))
}

/// Where a product's stock is, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredStock {
    /// On the product item (stored before buckets existed).
    OnProduct(u32),
    /// In its buckets, bucket 0 first (a bucket not found reads as empty: every write
    /// to one is conditioned on it as read).
    Buckets(Vec<u32>),
}

impl StoredStock {
    /// The units in stock.
    pub fn total(&self) -> u64 {
        match self {
            StoredStock::OnProduct(units) => u64::from(*units),
            StoredStock::Buckets(units) => units.iter().map(|&u| u64::from(u)).sum(),
        }
    }

    /// The stock as buckets (a product's own stock is one bucket).
    pub fn buckets(&self) -> Buckets {
        let units = match self {
            StoredStock::OnProduct(units) => vec![*units],
            StoredStock::Buckets(units) => units.clone(),
        };
        Buckets::new(units)
            .unwrap_or_else(|_| Buckets::spread(0, domain::stock_buckets::BucketCount::ONE))
    }
}

#[cfg(test)]
mod tests {
    use domain::testing::ProductBuilder;

    use super::*;
    use crate::records::attr;

    #[test]
    fn buckets_round_trip_and_carry_the_attributes_orders_condition_on() {
        let product = ProductBuilder::new().stock(9).buckets(3).build();
        let item = StockBucketRecord::encode(&product, 2, 3).expect("encodes");
        for name in [attr::STOCK, attr::PRICE, attr::IS_ACTIVE] {
            assert!(item.contains_key(name), "{name}");
        }
        assert!(is_bucket(&item));
        assert!(
            !item.keys().any(|k| k.starts_with("GSI")),
            "no index lists a bucket"
        );
        assert_eq!(
            StockBucketRecord::decode(item).expect("decodes"),
            BucketRead {
                product_id: product.id,
                bucket: 2,
                units: 3,
                ever_ordered: false
            }
        );
        assert_eq!(StoredStock::Buckets(vec![3, 0, 4]).total(), 7);
        assert_eq!(StoredStock::OnProduct(5).buckets().units(), &[5]);
    }
}
