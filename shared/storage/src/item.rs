//! Conversion between domain values and DynamoDB items.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::category::{Category, CategoryName, CategoryPath};
use domain::product::{Description, Product, ProductName, Sku};
use domain::{CatalogError, CategoryId, Money, ProductId, Timestamp};
use rust_decimal::Decimal;

use crate::keys::{self, PrimaryKey};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// An item that does not have the shape this code writes.
#[derive(Debug, thiserror::Error)]
#[error("stored item has a missing or malformed attribute {0:?}")]
pub(crate) struct MalformedItem(pub &'static str);

impl From<MalformedItem> for CatalogError {
    fn from(err: MalformedItem) -> Self {
        CatalogError::storage(err)
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn path_list(path: &CategoryPath) -> AttributeValue {
    AttributeValue::L(path.ids().iter().map(|id| s(id.to_string())).collect())
}

/// The `PK`/`SK` attributes of `key`, ready for `GetItem`/`Delete`/`Update`.
pub(crate) fn key(key: &PrimaryKey) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), s(&key.pk)),
        (keys::SK.to_owned(), s(&key.sk)),
    ])
}

/// Typed reads of one item's attributes.
pub(crate) struct Fields<'a>(pub &'a Item);

impl Fields<'_> {
    pub fn str(&self, name: &'static str) -> Result<&str, MalformedItem> {
        self.opt_str(name)?.ok_or(MalformedItem(name))
    }

    pub fn opt_str(&self, name: &'static str) -> Result<Option<&str>, MalformedItem> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(MalformedItem(name)),
        }
    }

    pub fn parse<T: FromStr>(&self, name: &'static str) -> Result<T, MalformedItem> {
        self.str(name)?.parse().map_err(|_| MalformedItem(name))
    }

    pub fn number<T: FromStr>(&self, name: &'static str) -> Result<T, MalformedItem> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| MalformedItem(name)),
            _ => Err(MalformedItem(name)),
        }
    }

    pub fn bool(&self, name: &'static str) -> Result<bool, MalformedItem> {
        match self.0.get(name) {
            None => Ok(false),
            Some(AttributeValue::Bool(v)) => Ok(*v),
            Some(_) => Err(MalformedItem(name)),
        }
    }

    pub fn timestamp(&self, name: &'static str) -> Result<Timestamp, MalformedItem> {
        Timestamp::parse(self.str(name)?).map_err(|_| MalformedItem(name))
    }

    pub fn path(&self, name: &'static str) -> Result<CategoryPath, MalformedItem> {
        let Some(AttributeValue::L(values)) = self.0.get(name) else {
            return Err(MalformedItem(name));
        };
        let ids = values
            .iter()
            .map(|v| match v {
                AttributeValue::S(id) => id.parse::<CategoryId>().map_err(|_| MalformedItem(name)),
                _ => Err(MalformedItem(name)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        CategoryPath::from_ids(ids).map_err(|_| MalformedItem(name))
    }
}

/// Category attribute names.
pub(crate) mod category_attr {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const PATH: &str = "path";
    pub const PARENT_ID: &str = "parent_id";
    pub const LEVEL: &str = "level";
    /// Number of direct subcategories.
    pub const CHILD_COUNT: &str = "child_count";
    /// Number of products directly in the category (active or not).
    pub const PRODUCT_COUNT: &str = "product_count";
    /// Incremented by every change to the category or to the set of its children and
    /// products; moves condition on it, so they never work from a stale view.
    pub const REVISION: &str = "revision";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
}

/// Product attribute names.
pub(crate) mod product_attr {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    /// Lower-cased name that `?q=` searches.
    pub const NAME_SEARCH: &str = "name_lc";
    pub const DESCRIPTION: &str = "description";
    pub const SKU: &str = "sku";
    pub const PRICE: &str = "price";
    pub const STOCK: &str = "stock_quantity";
    pub const CATEGORY_ID: &str = "category_id";
    pub const CATEGORY_PATH: &str = "category_path";
    pub const IS_ACTIVE: &str = "is_active";
    /// Set (by the orders service, in the order's transaction) once a product appears in
    /// an order; such a product is deactivated instead of deleted.
    pub const EVER_ORDERED: &str = "ever_ordered";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
}

/// A category with the counters the item also holds.
#[derive(Debug, Clone)]
pub(crate) struct StoredCategory {
    pub category: Category,
    pub child_count: u64,
    pub product_count: u64,
    pub revision: u64,
}

pub(crate) fn decode_category(item: &Item) -> Result<StoredCategory, MalformedItem> {
    use category_attr::*;
    let f = Fields(item);
    let path = f.path(PATH)?;
    let id: CategoryId = f.parse(ID)?;
    if path.leaf() != id {
        return Err(MalformedItem(PATH));
    }
    Ok(StoredCategory {
        category: Category {
            id,
            name: CategoryName::parse(f.str(NAME)?).map_err(|_| MalformedItem(NAME))?,
            path,
            created_at: f.timestamp(CREATED_AT)?,
            updated_at: f.timestamp(UPDATED_AT)?,
        },
        child_count: f.number(CHILD_COUNT)?,
        product_count: f.number(PRODUCT_COUNT)?,
        revision: f.number(REVISION)?,
    })
}

/// The full item of a new category.
pub(crate) fn encode_new_category(category: &Category) -> Item {
    use category_attr::*;
    let key = keys::category(category.id);
    let mut item = self::key(&key);
    let parent = category.parent_id();
    item.extend([
        (keys::ENTITY_TYPE.to_owned(), s(keys::entity::CATEGORY)),
        (keys::GSI1PK.to_owned(), s(keys::CATEGORY_TREE)),
        (keys::GSI1SK.to_owned(), s(keys::path(&category.path))),
        (keys::GSI2PK.to_owned(), s(keys::category_children(parent))),
        (
            keys::GSI2SK.to_owned(),
            s(keys::category_sibling_order(&category.name, category.id)),
        ),
        (ID.to_owned(), s(category.id.to_string())),
        (NAME.to_owned(), s(category.name.as_str())),
        (PATH.to_owned(), path_list(&category.path)),
        (LEVEL.to_owned(), n(category.level())),
        (CHILD_COUNT.to_owned(), n(0)),
        (PRODUCT_COUNT.to_owned(), n(0)),
        (REVISION.to_owned(), n(0)),
        (CREATED_AT.to_owned(), s(category.created_at.to_string())),
        (UPDATED_AT.to_owned(), s(category.updated_at.to_string())),
    ]);
    if let Some(parent) = parent {
        item.insert(PARENT_ID.to_owned(), s(parent.to_string()));
    }
    item
}

/// The item that claims a category name among its siblings.
pub(crate) fn encode_name_claim(parent: Option<CategoryId>, category: &Category) -> Item {
    let mut item = key(&keys::category_name_claim(parent, &category.name));
    item.insert(keys::ENTITY_TYPE.to_owned(), s(keys::entity::CATEGORY_NAME));
    item.insert(category_attr::ID.to_owned(), s(category.id.to_string()));
    item
}

/// A product and whether it has ever been ordered.
#[derive(Debug, Clone)]
pub(crate) struct StoredProduct {
    pub product: Product,
    pub ever_ordered: bool,
}

pub(crate) fn decode_product(item: &Item) -> Result<StoredProduct, MalformedItem> {
    use product_attr::*;
    let f = Fields(item);
    let category_path = f.path(CATEGORY_PATH)?;
    let price: Decimal = f.number(PRICE)?;
    Ok(StoredProduct {
        product: Product {
            id: f.parse::<ProductId>(ID)?,
            name: ProductName::parse(f.str(NAME)?).map_err(|_| MalformedItem(NAME))?,
            description: f
                .opt_str(DESCRIPTION)?
                .map(Description::parse)
                .transpose()
                .map_err(|_| MalformedItem(DESCRIPTION))?,
            sku: f
                .opt_str(SKU)?
                .map(Sku::parse)
                .transpose()
                .map_err(|_| MalformedItem(SKU))?,
            price: Money::from_decimal(price),
            stock_quantity: f.number(STOCK)?,
            category_path,
            is_active: f.bool(IS_ACTIVE)?,
            created_at: f.timestamp(CREATED_AT)?,
            updated_at: f.timestamp(UPDATED_AT)?,
        },
        ever_ordered: f.bool(EVER_ORDERED)?,
    })
}

/// The index attributes that place a product at `path` in the category listings.
pub(crate) fn product_placement(
    path: &CategoryPath,
    id: ProductId,
) -> [(String, AttributeValue); 4] {
    [
        (
            keys::GSI1PK.to_owned(),
            s(keys::category_products(path.root_id())),
        ),
        (
            keys::GSI1SK.to_owned(),
            s(keys::product_in_category(path, id)),
        ),
        (
            product_attr::CATEGORY_ID.to_owned(),
            s(path.leaf().to_string()),
        ),
        (product_attr::CATEGORY_PATH.to_owned(), path_list(path)),
    ]
}

/// The full item of a new product.
pub(crate) fn encode_new_product(product: &Product) -> Item {
    use product_attr::*;
    let mut item = key(&keys::product(product.id));
    item.extend(product_placement(&product.category_path, product.id));
    item.extend([
        (keys::ENTITY_TYPE.to_owned(), s(keys::entity::PRODUCT)),
        (keys::GSI2PK.to_owned(), s(keys::PRODUCT_LIST)),
        (
            keys::GSI2SK.to_owned(),
            s(keys::product_list_order(product.id)),
        ),
        (ID.to_owned(), s(product.id.to_string())),
        (NAME.to_owned(), s(product.name.as_str())),
        (NAME_SEARCH.to_owned(), s(product.name.search_key())),
        (PRICE.to_owned(), n(product.price.as_decimal())),
        (STOCK.to_owned(), n(product.stock_quantity)),
        (
            IS_ACTIVE.to_owned(),
            AttributeValue::Bool(product.is_active),
        ),
        (CREATED_AT.to_owned(), s(product.created_at.to_string())),
        (UPDATED_AT.to_owned(), s(product.updated_at.to_string())),
    ]);
    if let Some(description) = &product.description {
        item.insert(DESCRIPTION.to_owned(), s(description.as_str()));
    }
    if let Some(sku) = &product.sku {
        item.insert(SKU.to_owned(), s(sku.as_str()));
    }
    item
}

/// The item that claims a SKU for a product.
pub(crate) fn encode_sku_claim(sku: &Sku, product: ProductId) -> Item {
    let mut item = key(&keys::sku_claim(sku));
    item.insert(keys::ENTITY_TYPE.to_owned(), s(keys::entity::SKU));
    item.insert(product_attr::ID.to_owned(), s(product.to_string()));
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip_through_items() {
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
        let item = encode_new_category(&category);
        assert_eq!(item.get(keys::ENTITY_TYPE), Some(&s("Category")));
        assert_eq!(
            item.get(category_attr::PARENT_ID),
            Some(&s(root.to_string()))
        );
        let stored = decode_category(&item).expect("decodes");
        assert_eq!(stored.category, category);
        assert_eq!(
            (stored.child_count, stored.product_count, stored.revision),
            (0, 0, 0)
        );
    }

    #[test]
    fn products_round_trip_through_items_with_exact_prices() {
        let now = Timestamp::now();
        let product = Product {
            id: ProductId::generate(),
            name: ProductName::parse("Phone X").expect("name"),
            description: None,
            sku: Some(Sku::parse("PX-1").expect("sku")),
            price: Money::parse_price("1499.99").expect("price"),
            stock_quantity: 7,
            category_path: CategoryPath::root(CategoryId::generate()),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        let item = encode_new_product(&product);
        assert_eq!(
            item.get(product_attr::PRICE),
            Some(&AttributeValue::N("1499.99".into()))
        );
        assert_eq!(item.get(product_attr::NAME_SEARCH), Some(&s("phone x")));
        let stored = decode_product(&item).expect("decodes");
        assert_eq!(stored.product, product);
        assert!(!stored.ever_ordered);
    }

    #[test]
    fn malformed_items_are_reported_by_attribute() {
        let mut item = key(&keys::product(ProductId::generate()));
        item.insert(product_attr::ID.to_owned(), s("not-an-id"));
        assert_eq!(
            decode_product(&item).err().map(|e| e.0),
            Some(product_attr::CATEGORY_PATH)
        );
    }
}
