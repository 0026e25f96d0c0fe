//! The catalog's items: a category (`CATEGORY#<id>`) with its counters, the claim of a name
//! among siblings (`CATEGORY_NAME#…`), a product (`PRODUCT#<id>`) and the claim of a SKU
//! (`SKU#…`).
//!
//! A product's price is stored as an integer number of cents (`price_cents`): exact, and
//! still a DynamoDB number, so price filters and the orders' price condition compare
//! numerically.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::category::{Category, CategoryName, CategoryPath};
use domain::product::{Description, Product, ProductName, Sku};
use domain::{CategoryId, Money, ProductId, Timestamp};
use serde::{Deserialize, Serialize};

use super::stock::{BucketRead, StockBucketRecord, StoredStock};
use super::{Gsi1, Gsi2, ItemHead, attr, cents, claim, decode, encode};
use crate::failure::Failure;
use crate::item::Item;
use crate::keys;
use domain::stock_buckets::BucketCount;

const CATEGORY: &str = "category";
const PRODUCT: &str = "product";

fn ids(path: &CategoryPath) -> Vec<String> {
    path.ids().iter().map(ToString::to_string).collect()
}

fn path_of(record: &'static str, ids: &[String]) -> Result<CategoryPath, Failure> {
    let ids = ids
        .iter()
        .map(|id| id.parse::<CategoryId>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Failure::record(record, "invalid path id"))?;
    CategoryPath::from_ids(ids).map_err(|e| Failure::record(record, format!("path: {e}")))
}

fn timestamp(record: &'static str, raw: &str) -> Result<Timestamp, Failure> {
    Timestamp::parse(raw).map_err(|_| Failure::record(record, "invalid timestamp"))
}

/// A category with the counters its item also holds.
pub(crate) type StoredCategory = domain::category_move::CategoryState;

/// A category as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CategoryRecord {
    #[serde(flatten)]
    head: ItemHead,
    #[serde(flatten)]
    gsi1: Gsi1,
    #[serde(flatten)]
    gsi2: Gsi2,
    #[serde(flatten)]
    fields: CategoryFields,
}

/// A category's own attributes. A category item decodes as this one struct: its keys are
/// skipped unread (decoding the record, its flattened parts would buffer every attribute
/// first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CategoryFields {
    id: String,
    name: String,
    path: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_id: Option<String>,
    level: usize,
    child_count: u64,
    product_count: u64,
    revision: u64,
    created_at: String,
    updated_at: String,
}

impl CategoryRecord {
    /// The item of a new category (no children, no products, revision 0).
    pub fn encode_new(category: &Category) -> Result<Item, Failure> {
        let key = keys::category(category.id);
        let parent = category.parent_id();
        encode(
            CATEGORY,
            &CategoryRecord {
                head: ItemHead::new(key, keys::entity::CATEGORY),
                gsi1: Gsi1::new(keys::CATEGORY_TREE, keys::path(&category.path)),
                gsi2: Gsi2::new(
                    keys::category_children(parent),
                    keys::category_sibling_order(&category.name, category.id),
                ),
                fields: CategoryFields {
                    id: category.id.to_string(),
                    name: category.name.as_str().to_owned(),
                    path: ids(&category.path),
                    parent_id: parent.map(|p| p.to_string()),
                    level: category.level(),
                    child_count: 0,
                    product_count: 0,
                    revision: 0,
                    created_at: category.created_at.to_string(),
                    updated_at: category.updated_at.to_string(),
                },
            },
        )
    }

    /// The category (and counters) a stored item holds.
    pub fn decode(item: Item) -> Result<StoredCategory, Failure> {
        let r: CategoryFields = decode(CATEGORY, item)?;
        let id: CategoryId =
            r.id.parse()
                .map_err(|_| Failure::record(CATEGORY, "invalid id"))?;
        let path = path_of(CATEGORY, &r.path)?;
        if path.leaf() != id {
            return Err(Failure::record(
                CATEGORY,
                "path does not end at the category",
            ));
        }
        Ok(StoredCategory {
            category: Category {
                id,
                name: CategoryName::parse(&r.name)
                    .map_err(|_| Failure::record(CATEGORY, "invalid name"))?,
                path,
                created_at: timestamp(CATEGORY, &r.created_at)?,
                updated_at: timestamp(CATEGORY, &r.updated_at)?,
            },
            child_count: r.child_count,
            product_count: r.product_count,
            revision: r.revision,
        })
    }
}

/// The item that claims a category's name among its siblings.
pub(crate) fn encode_name_claim(
    parent: Option<CategoryId>,
    category: &Category,
) -> Result<Item, Failure> {
    claim(
        keys::category_name_claim(parent, &category.name),
        keys::entity::CATEGORY_NAME,
        category.id.to_string(),
    )
}

/// The item that claims a SKU for a product.
pub(crate) fn encode_sku_claim(sku: &Sku, product: ProductId) -> Result<Item, Failure> {
    claim(keys::sku_claim(sku), keys::entity::SKU, product.to_string())
}

/// A product, whether it has ever been ordered, and where its stock is.
#[derive(Debug, Clone)]
pub(crate) struct StoredProduct {
    /// Its `stock_quantity` is the stock's total.
    pub product: Product,
    /// Set on the product item, or on a bucket an order took from.
    pub ever_ordered: bool,
    /// Bumped by every change of the product's own fields (not by orders' stock updates,
    /// which condition on the stock itself); `None` on items written before it existed.
    pub revision: Option<u64>,
    pub stock: StoredStock,
}

impl StoredProduct {
    /// The product with what its buckets hold (`reads`: its buckets that were found).
    pub fn with_buckets(mut self, reads: impl IntoIterator<Item = BucketRead>) -> Self {
        if let StoredStock::Buckets(units) = &mut self.stock {
            for read in reads {
                if let Some(u) = units.get_mut(read.bucket) {
                    *u = read.units;
                }
                self.ever_ordered |= read.ever_ordered;
            }
        }
        self.product.stock_quantity = u32::try_from(self.stock.total()).unwrap_or(u32::MAX);
        self
    }

    /// The products among `items` with what their buckets among them hold, by id.
    pub fn with_their_buckets(
        items: Vec<Item>,
    ) -> Result<std::collections::HashMap<domain::ProductId, Self>, Failure> {
        let (buckets, products): (Vec<Item>, Vec<Item>) =
            items.into_iter().partition(super::stock::is_bucket);
        let mut reads: std::collections::HashMap<domain::ProductId, Vec<BucketRead>> =
            std::collections::HashMap::new();
        for item in buckets {
            let read = StockBucketRecord::decode(item)?;
            reads.entry(read.product_id).or_default().push(read);
        }
        products
            .into_iter()
            .map(|item| {
                let stored = ProductRecord::decode(item)?;
                let id = stored.product.id;
                let found = reads.remove(&id).unwrap_or_default();
                Ok((id, stored.with_buckets(found)))
            })
            .collect()
    }
}

/// The index attributes that place a product at `path` in the category listings, as the
/// new item holds them and as a move rewrites them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Placement {
    #[serde(flatten)]
    gsi1: Gsi1,
    category_id: String,
    category_path: Vec<String>,
}

impl Placement {
    pub fn of(path: &CategoryPath, id: ProductId) -> Self {
        Self {
            gsi1: Gsi1::new(
                keys::category_products(path.root_id()),
                keys::product_in_category(path, id),
            ),
            category_id: path.leaf().to_string(),
            category_path: ids(path),
        }
    }

    /// Its attributes, to set in an update.
    pub fn into_item(self) -> Result<Item, Failure> {
        encode(PRODUCT, &self)
    }
}

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProductRecord {
    #[serde(flatten)]
    head: ItemHead,
    #[serde(flatten)]
    placement: Placement,
    #[serde(flatten)]
    gsi2: Gsi2,
    #[serde(flatten)]
    fields: ProductFields,
}

/// A product's own attributes. A product item decodes as this one struct: its keys are
/// skipped unread (decoding the record, its flattened parts would buffer every attribute
/// first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ProductFields {
    id: String,
    name: String,
    name_lc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    price_cents: i64,
    /// The stock of a product stored before buckets existed (none once moved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stock_quantity: Option<u32>,
    /// How many buckets hold the stock (absent: the stock is `stock_quantity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stock_buckets: Option<u8>,
    #[serde(default)]
    is_active: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ever_ordered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
    created_at: String,
    updated_at: String,
    /// Where the product sits: written by its [`Placement`] (never from here), read here.
    #[serde(default, skip_serializing)]
    category_path: Vec<String>,
}

/// The price of a product item read with only its price attribute (a price summary's).
pub(crate) fn listed_price(item: &Item) -> Result<Money, Failure> {
    match item.get(attr::PRICE) {
        Some(AttributeValue::N(cents)) => cents
            .parse::<i64>()
            .map(Money::from_minor_units)
            .map_err(|_| Failure::malformed(attr::PRICE)),
        _ => Err(Failure::malformed(attr::PRICE)),
    }
}

/// A product's price in cents, as stored.
pub(crate) fn price_cents(price: Money) -> Result<i64, Failure> {
    cents(PRODUCT, price)
}

impl ProductRecord {
    /// The item of a new product.
    pub fn encode_new(product: &Product) -> Result<Item, Failure> {
        let key = keys::product(product.id);
        encode(
            PRODUCT,
            &ProductRecord {
                head: ItemHead::new(key, keys::entity::PRODUCT),
                placement: Placement::of(&product.category_path, product.id),
                gsi2: Gsi2::new(keys::PRODUCT_LIST, keys::product_list_order(product.id)),
                fields: ProductFields {
                    id: product.id.to_string(),
                    name: product.name.as_str().to_owned(),
                    name_lc: product.name.search_key(),
                    description: product.description.as_ref().map(|d| d.as_str().to_owned()),
                    sku: product.sku.as_ref().map(|s| s.as_str().to_owned()),
                    price_cents: price_cents(product.price)?,
                    stock_quantity: None,
                    stock_buckets: Some(product.stock_buckets.as_u8()),
                    is_active: product.is_active,
                    ever_ordered: false,
                    revision: Some(0),
                    created_at: product.created_at.to_string(),
                    updated_at: product.updated_at.to_string(),
                    category_path: Vec::new(),
                },
            },
        )
    }

    /// The product (and its order marker) a stored item holds; a product whose stock is
    /// in buckets shows none until [`StoredProduct::with_buckets`] adds theirs.
    pub fn decode(item: Item) -> Result<StoredProduct, Failure> {
        let r: ProductFields = decode(PRODUCT, item)?;
        let invalid = |what: &'static str| Failure::record(PRODUCT, format!("invalid {what}"));
        let (stock, count) = match (r.stock_buckets, r.stock_quantity) {
            (Some(k), _) => {
                let count = BucketCount::new(i64::from(k)).map_err(|_| invalid("stock_buckets"))?;
                (StoredStock::Buckets(vec![0; count.get()]), count)
            }
            (None, Some(units)) => (StoredStock::OnProduct(units), BucketCount::ONE),
            (None, None) => return Err(invalid("stock")),
        };
        Ok(StoredProduct {
            product: Product {
                id: r.id.parse().map_err(|_| invalid("id"))?,
                name: ProductName::parse(&r.name).map_err(|_| invalid("name"))?,
                description: r
                    .description
                    .as_deref()
                    .map(Description::parse)
                    .transpose()
                    .map_err(|_| invalid("description"))?,
                sku: r
                    .sku
                    .as_deref()
                    .map(Sku::parse)
                    .transpose()
                    .map_err(|_| invalid("sku"))?,
                price: Money::from_minor_units(r.price_cents),
                stock_quantity: u32::try_from(stock.total()).unwrap_or(u32::MAX),
                stock_buckets: count,
                category_path: path_of(PRODUCT, &r.category_path)?,
                is_active: r.is_active,
                created_at: timestamp(PRODUCT, &r.created_at)?,
                updated_at: timestamp(PRODUCT, &r.updated_at)?,
            },
            ever_ordered: r.ever_ordered,
            revision: r.revision,
            stock,
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use domain::testing::ProductBuilder;

    use super::*;
    use crate::records::attr;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    /// "Phone X" (SKU PX-1) at `price`, with 7 units in one bucket.
    fn product(price: &str) -> Product {
        ProductBuilder::new()
            .name("Phone X")
            .sku("PX-1")
            .price(price)
            .stock(7)
            .build()
    }

    #[test]
    fn categories_round_trip_with_their_keys() {
        let now = Timestamp::now();
        let root = CategoryId::generate();
        let id = CategoryId::generate();
        let category = Category {
            id,
            name: CategoryName::parse("Phones").expect("name"),
            path: CategoryPath::root(root).child(id),
            created_at: now,
            updated_at: now,
        };
        let item = CategoryRecord::encode_new(&category).expect("encodes");
        assert_eq!(item.get(keys::ENTITY_TYPE), Some(&s("Category")));
        assert_eq!(
            item.get(keys::GSI1SK),
            Some(&s(&keys::path(&category.path)))
        );
        assert_eq!(item.get(attr::PARENT_ID), Some(&s(&root.to_string())));
        assert_eq!(item.get(attr::LEVEL), Some(&AttributeValue::N("1".into())));
        let stored = CategoryRecord::decode(item.clone()).expect("decodes");
        assert_eq!(stored.category, category);
        assert_eq!(
            (stored.child_count, stored.product_count, stored.revision),
            (0, 0, 0)
        );
    }

    #[test]
    fn prices_are_exact_integer_cents_on_awkward_values() {
        for price in [
            "0.01",
            "0.10",
            "0.3",
            "1499.99",
            "999999999.99",
            "1000000000",
        ] {
            let product = product(price);
            let item = ProductRecord::encode_new(&product).expect("encodes");
            let cents = i64::try_from(product.price.minor_units()).expect("fits");
            assert_eq!(
                item.get(attr::PRICE),
                Some(&AttributeValue::N(cents.to_string())),
                "{price}"
            );
            let stored = ProductRecord::decode(item.clone())
                .expect("decodes")
                .with_buckets([BucketRead {
                    product_id: product.id,
                    bucket: 0,
                    units: 7,
                    ever_ordered: false,
                }]);
            assert_eq!(stored.product, product, "{price}");
            assert_eq!(stored.product.price.to_string(), product.price.to_string());
            assert!(!stored.ever_ordered);
        }
    }

    #[test]
    fn products_carry_the_attributes_expressions_use() {
        let product = product("1499.99");
        let item = ProductRecord::encode_new(&product).expect("encodes");
        for attr in [
            attr::ID,
            attr::NAME,
            attr::NAME_SEARCH,
            attr::SKU,
            attr::PRICE,
            attr::STOCK_BUCKETS,
            attr::IS_ACTIVE,
            attr::UPDATED_AT,
            keys::GSI1PK,
            keys::GSI1SK,
            keys::GSI2PK,
            keys::GSI2SK,
        ] {
            assert!(item.contains_key(attr), "{attr}");
        }
        assert_eq!(item.get(attr::NAME_SEARCH), Some(&s("phone x")));
        assert!(
            !item.contains_key(attr::EVER_ORDERED),
            "absent until ordered"
        );
        assert!(
            !item.contains_key(attr::STOCK),
            "the stock is in the buckets, which no index projects"
        );
        assert!(
            !item.contains_key(attr::DESCRIPTION),
            "no made-up description"
        );
        let placement = Placement::of(&product.category_path, product.id)
            .into_item()
            .expect("encodes");
        for (name, value) in placement {
            assert_eq!(item.get(&name), Some(&value), "{name}");
        }
    }

    #[test]
    fn malformed_items_are_errors_naming_the_record() {
        let mut item = ProductRecord::encode_new(&product("1")).expect("encodes");
        item.insert(attr::ID.to_owned(), s("not-an-id"));
        let err = ProductRecord::decode(item.clone()).expect_err("bad id");
        assert!(err.to_string().starts_with("product item"), "{err}");
        item.remove(attr::PRICE);
        assert!(
            ProductRecord::decode(item.clone()).is_err(),
            "missing price"
        );
    }

    #[test]
    fn claims_hold_their_owner() {
        let id = ProductId::generate();
        let sku = Sku::parse("px-1").expect("sku");
        let item = encode_sku_claim(&sku, id).expect("encodes");
        assert_eq!(item.get(keys::PK), Some(&s(&keys::sku_claim(&sku).pk)));
        assert_eq!(item.get("id"), Some(&s(&id.to_string())));
        assert_eq!(item.get(keys::ENTITY_TYPE), Some(&s("Sku")));
    }
}
