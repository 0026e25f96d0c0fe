//! Products of the catalog and the rules for their fields.

use serde::Serialize;

use crate::category::{CategoryPath, InvalidName, parse_display_name};
use crate::id::{CategoryId, ProductId};
use crate::money::Money;
use crate::stock_buckets::BucketCount;
use crate::timestamp::Timestamp;

/// Longest product name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Largest stock level a product may hold.
pub const MAX_STOCK: u32 = 1_000_000_000;

/// A product's display name: trimmed, 1–200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ProductName(String);

impl ProductName {
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        parse_display_name(raw, MAX_NAME_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-case form that case-insensitive name searches match against.
    pub fn search_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A free-text description, trimmed, at most 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Description(String);

/// Why a string is not a description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be at most {MAX_DESCRIPTION_CHARS} characters")]
pub struct DescriptionTooLong;

impl Description {
    pub fn parse(raw: &str) -> Result<Self, DescriptionTooLong> {
        let text = raw.trim();
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(DescriptionTooLong);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stock-keeping unit: 1–64 characters of `A–Z a–z 0–9 - _ .`; unique across the
/// catalog regardless of case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sku(String);

/// Why a string is not a SKU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1-64 characters of letters, digits, '-', '_' or '.'")]
pub struct InvalidSku;

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, InvalidSku> {
        let sku = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if sku.is_empty() || sku.len() > 64 || !sku.chars().all(allowed) {
            return Err(InvalidSku);
        }
        Ok(Self(sku.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form under which SKUs must be unique.
    pub fn unique_key(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

/// Why a number is not a stock level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 0 to {MAX_STOCK}")]
pub struct InvalidStock;

/// Parses a stock level: a whole number from 0 to [`MAX_STOCK`].
pub fn parse_stock(value: i64) -> Result<u32, InvalidStock> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= MAX_STOCK)
        .ok_or(InvalidStock)
}

/// Why a number is not a stock change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a non-zero whole number between -{MAX_STOCK} and {MAX_STOCK}")]
pub struct InvalidStockDelta;

/// Parses a relative stock change: non-zero, at most [`MAX_STOCK`] either way.
pub fn parse_stock_delta(value: i64) -> Result<i64, InvalidStockDelta> {
    (value != 0 && value.unsigned_abs() <= u64::from(MAX_STOCK))
        .then_some(value)
        .ok_or(InvalidStockDelta)
}

/// A product as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Option<Description>,
    pub sku: Option<Sku>,
    pub price: Money,
    /// The units in stock: what the product's stock buckets hold together.
    pub stock_quantity: u32,
    /// How many items the stock is split over (1 unless staff split it for a sale).
    pub stock_buckets: BucketCount,
    pub category_path: CategoryPath,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Product {
    pub fn category_id(&self) -> CategoryId {
        self.category_path.leaf()
    }
}

/// The fields of a product to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub name: ProductName,
    pub description: Option<Description>,
    pub sku: Option<Sku>,
    pub price: Money,
    pub stock_quantity: u32,
    pub category_id: CategoryId,
}

impl NewProduct {
    /// The active product this describes, with a fresh id, in the category at `path`
    /// (which must be `category_id`'s), created `now`.
    pub fn into_product(self, path: CategoryPath, now: Timestamp) -> Product {
        debug_assert_eq!(path.leaf(), self.category_id);
        Product {
            id: ProductId::generate(),
            name: self.name,
            description: self.description,
            sku: self.sku,
            price: self.price,
            stock_quantity: self.stock_quantity,
            stock_buckets: BucketCount::ONE,
            category_path: path,
            is_active: true,
            created_at: now,
            updated_at: now,
        }
    }
}

/// How a product's stock changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// Set to this level.
    Set(u32),
    /// Add this (possibly negative) amount atomically; the result may not go below 0.
    Adjust(i64),
}

/// Why a stock adjustment cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StockRefused {
    #[error("stock cannot go below zero")]
    BelowZero,
    #[error("stock cannot go above {MAX_STOCK}")]
    AboveLimit,
}

/// A change to some of a product's writable fields. `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductChange {
    pub name: Option<ProductName>,
    pub description: Option<Option<Description>>,
    pub sku: Option<Option<Sku>>,
    pub price: Option<Money>,
    pub stock: Option<StockChange>,
    /// Split the stock over this many buckets (re-spread evenly).
    pub stock_buckets: Option<BucketCount>,
    pub category_id: Option<CategoryId>,
    pub is_active: Option<bool>,
}

impl ProductChange {
    pub fn is_empty(&self) -> bool {
        *self == ProductChange::default()
    }

    /// Taking the product off sale, and nothing else.
    pub fn deactivate() -> Self {
        Self {
            is_active: Some(false),
            ..Self::default()
        }
    }

    /// `before` with this change applied at `now`; `category_path` is the path of the new
    /// category when the change moves the product (the caller reads it). A stock
    /// adjustment below zero or above [`MAX_STOCK`] is refused ([`StockRefused`]).
    pub fn apply(
        &self,
        before: &Product,
        category_path: Option<CategoryPath>,
        now: Timestamp,
    ) -> Result<Product, StockRefused> {
        let stock_quantity = match self.stock {
            None => before.stock_quantity,
            Some(StockChange::Set(level)) => level,
            Some(StockChange::Adjust(delta)) => {
                let level = i64::from(before.stock_quantity) + delta;
                if level < 0 {
                    return Err(StockRefused::BelowZero);
                }
                u32::try_from(level)
                    .ok()
                    .filter(|l| *l <= MAX_STOCK)
                    .ok_or(StockRefused::AboveLimit)?
            }
        };
        Ok(Product {
            id: before.id,
            name: self.name.clone().unwrap_or_else(|| before.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| before.description.clone()),
            sku: self.sku.clone().unwrap_or_else(|| before.sku.clone()),
            price: self.price.unwrap_or(before.price),
            stock_quantity,
            stock_buckets: self.stock_buckets.unwrap_or(before.stock_buckets),
            category_path: category_path.unwrap_or_else(|| before.category_path.clone()),
            is_active: self.is_active.unwrap_or(before.is_active),
            created_at: before.created_at,
            updated_at: now,
        })
    }
}

/// Which products a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductScope {
    /// The whole catalog.
    All,
    /// The products of the category at this path, and of its descendants unless
    /// `direct_only`.
    Category {
        path: CategoryPath,
        direct_only: bool,
    },
}

/// Filters of a product listing. All must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    /// Lower-case text the name must contain.
    pub name_contains: Option<String>,
    pub in_stock_only: bool,
    pub include_inactive: bool,
}

/// What the store's delete of a never-ordered product found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductDeletion {
    /// The product was never ordered and is gone.
    Deleted,
    /// The product appears in orders, so the store kept it.
    Ordered,
}

/// What removing a product did: orders keep referring to an ordered product, so it is
/// deactivated instead of deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductRemoval {
    /// The product was never ordered and is gone.
    Deleted,
    /// The product appears in orders, so it was kept and deactivated.
    Deactivated,
}

/// Count and sum of the active products' prices under a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriceSummary {
    pub product_count: u64,
    pub price_total: Money,
}

impl PriceSummary {
    pub fn average(&self) -> Option<Money> {
        self.price_total.mean(self.product_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::CategoryPath;
    use crate::testing::ProductBuilder;
    use crate::{CategoryId, Timestamp};

    #[test]
    fn a_change_applies_to_the_product_as_read_and_stock_stays_in_bounds() {
        let at = Timestamp::parse("2026-12-01T10:00:00.000Z").expect("at");
        let later = Timestamp::parse("2026-12-01T11:00:00.000Z").expect("at");
        let product = ProductBuilder::new().stock(2).created_at(at).build();
        let stock = |change| ProductChange {
            stock: Some(change),
            ..ProductChange::default()
        };
        let applied = stock(StockChange::Adjust(3))
            .apply(&product, None, later)
            .expect("applies");
        assert_eq!((applied.stock_quantity, applied.updated_at), (5, later));
        assert_eq!(applied.created_at, at);
        assert!(matches!(
            stock(StockChange::Adjust(-3)).apply(&product, None, later),
            Err(StockRefused::BelowZero)
        ));
        assert!(matches!(
            stock(StockChange::Adjust(i64::from(MAX_STOCK))).apply(&product, None, later),
            Err(StockRefused::AboveLimit)
        ));
        let elsewhere = CategoryPath::root(CategoryId::generate());
        let moved = ProductChange {
            name: Some(ProductName::parse("Phone X").expect("name")),
            sku: Some(Some(Sku::parse("PX").expect("sku"))),
            ..ProductChange::default()
        }
        .apply(&product, Some(elsewhere.clone()), later)
        .expect("applies");
        assert_eq!(moved.category_path, elsewhere);
        assert_eq!(moved.name.as_str(), "Phone X");
        assert_eq!(moved.sku.as_ref().map(Sku::as_str), Some("PX"));
        assert_eq!((moved.price, moved.stock_quantity), (product.price, 2));
    }

    #[test]
    fn skus_are_checked_and_unique_regardless_of_case() {
        assert_eq!(
            Sku::parse(" ab-1.x_2 ").expect("valid").as_str(),
            "ab-1.x_2"
        );
        assert_eq!(Sku::parse("ab-1").expect("valid").unique_key(), "AB-1");
        for bad in ["", "  ", "a b", "a/b", "a#b", &"x".repeat(65)] {
            assert_eq!(Sku::parse(bad), Err(InvalidSku), "{bad:?}");
        }
    }

    #[test]
    fn stock_levels_and_changes_are_bounded() {
        assert_eq!(parse_stock(0), Ok(0));
        assert_eq!(parse_stock(i64::from(MAX_STOCK)), Ok(MAX_STOCK));
        assert_eq!(parse_stock(-1), Err(InvalidStock));
        assert_eq!(parse_stock(i64::from(MAX_STOCK) + 1), Err(InvalidStock));
        assert_eq!(parse_stock_delta(-5), Ok(-5));
        assert_eq!(parse_stock_delta(0), Err(InvalidStockDelta));
        assert_eq!(parse_stock_delta(i64::MIN), Err(InvalidStockDelta));
    }

    #[test]
    fn descriptions_are_trimmed_and_bounded() {
        assert_eq!(Description::parse("  hi ").expect("valid").as_str(), "hi");
        assert!(Description::parse(&"x".repeat(2000)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(2001)),
            Err(DescriptionTooLong)
        );
    }

    #[test]
    fn average_price_is_rounded_and_absent_when_empty() {
        let summary = PriceSummary {
            product_count: 3,
            price_total: Money::parse_price("100.00").expect("price"),
        };
        assert_eq!(
            summary.average().map(|m| m.to_string()),
            Some("33.33".to_owned())
        );
        assert_eq!(PriceSummary::default().average(), None);
    }
}
