//! A product's stock on the table: reading a product with its buckets, and the writes
//! that take units for an order, put them back, rewrite the buckets for staff's changes
//! and move the stock of a product stored before buckets existed into bucket 0.
//!
//! Invariants: every write of a bucket is conditioned on it: an order's take on the
//! bucket existing, holding the units and carrying the terms the order was priced on; a
//! put-back on the bucket existing (never creating a stray one past the product's
//! count); staff's rewrites on every bucket holding what was read. Reads of a product's
//! stock are strongly consistent; a list's bucket reads follow its index page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::product::Product;
use domain::stock_buckets::{Buckets, Portion};
use domain::{Money, ProductId};

use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{Fields, Item, key, n};
use crate::keys;
use crate::records::attr;
use crate::records::catalog::{StoredProduct, price_cents};
use crate::records::stock::{StockBucketRecord, StoredStock};
use crate::table::Table;
use crate::txn::{self, Op, Transaction};

/// How many stock buckets each product had when this instance last read it, so that a
/// read asks for a product and all its buckets at once (a product not seen yet is asked
/// with bucket 0, and its other buckets read next when it has more).
#[derive(Debug, Clone, Default)]
pub(crate) struct BucketCounts(Arc<Mutex<HashMap<ProductId, usize>>>);

/// Products remembered at most; beyond, the memory starts afresh.
const REMEMBERED_PRODUCTS: usize = 10_000;

impl BucketCounts {
    fn expected(&self, id: ProductId) -> usize {
        self.0
            .lock()
            .ok()
            .and_then(|counts| counts.get(&id).copied())
            .unwrap_or(1)
    }

    fn remember(&self, id: ProductId, count: usize) {
        if let Ok(mut counts) = self.0.lock() {
            if counts.len() >= REMEMBERED_PRODUCTS {
                counts.clear();
            }
            counts.insert(id, count);
        }
    }
}

impl Table {
    /// The products `ids` that exist, with their stock, and the items at `also` that
    /// exist: one strongly consistent `BatchGetItem` of the product items, the buckets
    /// `counts` expects and `also`; a second for the buckets of products that have more
    /// than expected (the first read of a product this instance has not seen split).
    pub(crate) async fn products_with_stock(
        &self,
        ids: &[ProductId],
        counts: &BucketCounts,
        also: Vec<Item>,
    ) -> Result<(Vec<StoredProduct>, Vec<Item>), Failure> {
        let mut wanted = also;
        let extra = wanted.len();
        for id in ids {
            wanted.push(key(&keys::product(*id)));
            wanted.extend(bucket_keys(*id, 0..counts.expected(*id)));
        }
        let found = self.batch_get(wanted, true).await?;
        let (stock_items, others): (Vec<Item>, Vec<Item>) =
            found.into_iter().partition(is_product_or_bucket);
        debug_assert!(others.len() <= extra);
        let mut stored = StoredProduct::with_their_buckets(stock_items)?;
        let mut missing = Vec::new();
        for (id, product) in &stored {
            let (expected, count) = (counts.expected(*id), product.product.stock_buckets.get());
            counts.remember(*id, count);
            if matches!(product.stock, StoredStock::Buckets(_)) && count > expected {
                missing.extend(bucket_keys(*id, expected..count));
            }
        }
        if !missing.is_empty() {
            for item in self.batch_get(missing, true).await? {
                let read = StockBucketRecord::decode(item)?;
                if let Some(product) = stored.remove(&read.product_id) {
                    stored.insert(read.product_id, product.with_buckets([read]));
                }
            }
        }
        let products = ids.iter().filter_map(|id| stored.remove(id)).collect();
        Ok((products, others))
    }

    /// One product with its stock (see [`Table::products_with_stock`]).
    pub(crate) async fn product_with_stock(
        &self,
        id: ProductId,
        counts: &BucketCounts,
    ) -> Result<Option<StoredProduct>, Failure> {
        let (mut found, _) = self.products_with_stock(&[id], counts, Vec::new()).await?;
        Ok(found.pop())
    }

    /// `products` (read from an index) with what their buckets hold: one strongly
    /// consistent `BatchGetItem` a hundred buckets; none when every product still holds
    /// its own stock.
    pub(crate) async fn with_stock(
        &self,
        products: Vec<StoredProduct>,
    ) -> Result<Vec<StoredProduct>, Failure> {
        let wanted: Vec<Item> = products
            .iter()
            .flat_map(|p| bucket_keys(p.product.id, 0..bucket_count(&p.stock)))
            .collect();
        if wanted.is_empty() {
            return Ok(products);
        }
        let mut reads: HashMap<ProductId, Vec<_>> = HashMap::new();
        for item in self.batch_get(wanted, true).await? {
            let read = StockBucketRecord::decode(item)?;
            reads.entry(read.product_id).or_default().push(read);
        }
        Ok(products
            .into_iter()
            .map(|p| {
                let found = reads.remove(&p.product.id).unwrap_or_default();
                p.with_buckets(found)
            })
            .collect())
    }

    /// Moves the stock of `stored`, a product stored before buckets existed, into bucket
    /// 0 (one transaction, conditioned on the product as read): the product as it is
    /// then, or `None` when it changed meanwhile (read it again).
    pub(crate) async fn move_into_buckets(
        &self,
        stored: &StoredProduct,
    ) -> Result<Option<StoredProduct>, Failure> {
        let StoredStock::OnProduct(units) = stored.stock else {
            return Ok(Some(stored.clone()));
        };
        let product = &stored.product;
        let as_read = Expr::new()
            .remove(attr::STOCK)
            .set(attr::STOCK_BUCKETS, n(1))
            .when_exists(keys::PK)
            .when_absent(attr::STOCK_BUCKETS)
            .when_eq(attr::STOCK, n(units))
            .when_eq(attr::PRICE, n(price_cents(product.price)?))
            .when_eq(attr::IS_ACTIVE, AttributeValue::Bool(product.is_active));
        let items = Transaction::new()
            .with(
                Op::Product,
                txn::update(self.name(), key(&keys::product(product.id)), as_read)?,
            )
            .with(
                Op::Stock,
                txn::put(
                    self.name(),
                    StockBucketRecord::encode(product, 0, units)?,
                    Expr::new().when_absent(keys::PK),
                )?,
            );
        match self.transact(items).await {
            Ok(()) => Ok(Some(StoredProduct {
                stock: StoredStock::Buckets(vec![units]),
                ..stored.clone()
            })),
            Err(err) if err.condition_failed(Op::Product) || err.conflicted() => Ok(None),
            Err(err) => Err(err.into_failure()),
        }
    }
}

/// How many buckets `stock` names (none when it is on the product item).
fn bucket_count(stock: &StoredStock) -> usize {
    match stock {
        StoredStock::OnProduct(_) => 0,
        StoredStock::Buckets(units) => units.len(),
    }
}

/// The keys of buckets `range` of `product`.
pub(crate) fn bucket_keys(
    product: ProductId,
    range: std::ops::Range<usize>,
) -> impl Iterator<Item = Item> {
    range.map(move |n| key(&keys::stock_bucket(product, n)))
}

/// Whether `item` is a product or one of its stock buckets.
fn is_product_or_bucket(item: &Item) -> bool {
    Fields(item).str(keys::PK).is_ok_and(|pk| {
        pk.starts_with(keys::STOCK_BUCKET_PREFIX) || pk.starts_with(keys::PRODUCT_PREFIX)
    })
}

/// An order's take of `portion` from a bucket of `product`: only if the bucket holds the
/// units and the product is on sale at `unit_price`.
pub(crate) fn take(
    table: &str,
    product: ProductId,
    portion: &Portion,
    unit_price: Money,
) -> Result<TransactWriteItem, Failure> {
    let expr = Expr::new()
        .add(attr::STOCK, n(-i64::from(portion.units)))
        .set(attr::EVER_ORDERED, AttributeValue::Bool(true))
        .when_exists(keys::PK)
        .when_eq(attr::IS_ACTIVE, AttributeValue::Bool(true))
        .when_eq(attr::PRICE, n(unit_price.minor_units()))
        .when_at_least(attr::STOCK, n(portion.units));
    txn::update(
        table,
        key(&keys::stock_bucket(product, portion.bucket)),
        expr,
    )
}

/// A cancellation putting `portion` back into its bucket, which must still exist.
pub(crate) fn put_back(
    table: &str,
    product: ProductId,
    portion: &Portion,
) -> Result<TransactWriteItem, Failure> {
    let expr = Expr::new()
        .add(attr::STOCK, n(portion.units))
        .when_exists(keys::PK);
    txn::update(
        table,
        key(&keys::stock_bucket(product, portion.bucket)),
        expr,
    )
}

/// A cancellation putting `units` back onto a product that still holds its own stock.
pub(crate) fn put_back_on_product(
    table: &str,
    product: ProductId,
    units: u32,
) -> Result<TransactWriteItem, Failure> {
    let expr = Expr::new()
        .add(attr::STOCK, n(units))
        .when_exists(keys::PK)
        .when_absent(attr::STOCK_BUCKETS);
    txn::update(table, key(&keys::product(product)), expr)
}

/// Where the units of `portions` go back for `stored` as it is now: a product holding
/// its own stock takes them all; a bucket it no longer has (staff lowered the count since)
/// gives its units to bucket 0. One write a bucket (a transaction writes an item once).
pub(crate) fn put_back_now(
    table: &str,
    stored: &StoredProduct,
    portions: &[Portion],
) -> Result<Vec<TransactWriteItem>, Failure> {
    let id = stored.product.id;
    match &stored.stock {
        StoredStock::OnProduct(_) => {
            let units = portions.iter().map(|p| p.units).sum();
            Ok(vec![put_back_on_product(table, id, units)?])
        }
        StoredStock::Buckets(held) => domain::stock_buckets::put_back_into(portions, held.len())
            .iter()
            .map(|portion| put_back(table, id, portion))
            .collect(),
    }
}

/// The writes that leave the stock of `before` as `buckets` with the terms of `after`:
/// what to add to the product item's update, and the bucket writes. Every bucket as read
/// is conditioned on what it held (so the history's totals are exact); a product that held
/// its own stock has it moved out.
pub(crate) fn rewrite(
    table: &str,
    before: &StoredProduct,
    after: &Product,
    buckets: &Buckets,
    mut product_update: Expr,
) -> Result<(Expr, Vec<TransactWriteItem>), Failure> {
    let read: &[u32] = match &before.stock {
        StoredStock::OnProduct(units) => {
            product_update = product_update
                .remove(attr::STOCK)
                .when_eq(attr::STOCK, n(*units));
            &[]
        }
        StoredStock::Buckets(units) => units,
    };
    let count = buckets.units().len();
    if count != read.len() {
        product_update = product_update.set(attr::STOCK_BUCKETS, n(count));
    }
    if before.ever_ordered {
        // An order's mark on a bucket outlives the bucket: kept on the product.
        product_update = product_update.set(attr::EVER_ORDERED, AttributeValue::Bool(true));
    }
    let mut writes = Vec::new();
    for bucket in 0..count.max(read.len()) {
        let was = read
            .get(bucket)
            .map(|units| Expr::new().when_eq(attr::STOCK, n(*units)));
        let write = match (buckets.units().get(bucket), was) {
            (Some(units), was) => txn::put(
                table,
                StockBucketRecord::encode(after, bucket, *units)?,
                was.unwrap_or_else(|| Expr::new().when_absent(keys::PK)),
            )?,
            (None, Some(was)) => {
                txn::delete(table, key(&keys::stock_bucket(after.id, bucket)), was)?
            }
            (None, None) => continue,
        };
        writes.push(write);
    }
    Ok((product_update, writes))
}
