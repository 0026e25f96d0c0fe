//! The catalog's ports: what the application needs from storage, in domain terms.
//! The DynamoDB adapter in the `storage` crate implements them.

use std::future::Future;

use crate::audit::Actor;
use crate::category::{Category, CategoryChange, CategoryName, CategoryPath, IllegalMove};
use crate::error::StorageFailure;
use crate::id::{CategoryId, ProductId};
use crate::page::{Page, PageRequest};
use crate::product::{
    PriceSummary, Product, ProductChange, ProductDeletion, ProductFilter, ProductScope,
};

/// Why a catalog operation did not happen. Every variant but `Storage` is the client's
/// business; `Storage` is ours (the database failed or returned something unreadable).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("category not found")]
    CategoryNotFound,
    #[error("no category has the given parent_id")]
    ParentNotFound,
    #[error("no category has the given category_id")]
    UnknownCategory,
    #[error("product not found")]
    ProductNotFound,
    #[error("a sibling category named {0:?} already exists")]
    DuplicateCategoryName(String),
    #[error("a product with SKU {0:?} already exists")]
    DuplicateSku(String),
    #[error("the category still has subcategories or products")]
    CategoryNotEmpty,
    #[error(transparent)]
    IllegalMove(#[from] IllegalMove),
    #[error(
        "moving this category would write {items} items (the categories and products of its subtree, its parents, name claims and history entry); at most {limit} fit in one change"
    )]
    MoveTooLarge { items: usize, limit: usize },
    #[error("stock cannot go below zero")]
    InsufficientStock,
    #[error("stock cannot go above {}", crate::product::MAX_STOCK)]
    StockLimitExceeded,
    #[error("the catalog changed while this request ran; retry it")]
    ConcurrentChange,
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    /// Storage failed, or is unavailable for now (a 503 to retry).
    #[error(transparent)]
    Storage(#[from] StorageFailure),
}

impl From<crate::product::StockRefused> for CatalogError {
    fn from(refused: crate::product::StockRefused) -> Self {
        match refused {
            crate::product::StockRefused::BelowZero => Self::InsufficientStock,
            crate::product::StockRefused::AboveLimit => Self::StockLimitExceeded,
        }
    }
}

/// Which categories a flat listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryListing {
    /// Every category, in tree (path) order.
    All,
    /// Top-level categories, by name.
    Roots,
    /// The children of one category, by name.
    ChildrenOf(CategoryId),
}

/// Storage of categories.
pub trait CategoryStore: Send + Sync {
    /// Creates a category under `parent` (`None`: top level), recording `actor`'s
    /// `category.created` in the same transaction. Sibling names are unique.
    fn create_category(
        &self,
        name: CategoryName,
        parent: Option<CategoryId>,
        actor: &Actor,
    ) -> impl Future<Output = Result<Category, CatalogError>> + Send;

    /// One category, if it exists.
    fn category(
        &self,
        id: CategoryId,
    ) -> impl Future<Output = Result<Option<Category>, CatalogError>> + Send;

    /// The categories with these ids that exist, in the order of `ids`.
    fn categories(
        &self,
        ids: &[CategoryId],
    ) -> impl Future<Output = Result<Vec<Category>, CatalogError>> + Send;

    /// One page of a flat listing.
    fn list_categories(
        &self,
        listing: CategoryListing,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Category>, CatalogError>> + Send;

    /// Every category in the subtree at `root` (the whole forest for `None`).
    fn subtree(
        &self,
        root: Option<&CategoryPath>,
    ) -> impl Future<Output = Result<Vec<Category>, CatalogError>> + Send;

    /// Renames and/or moves a category; a move carries its whole subtree and the category
    /// paths of the products in it along, atomically, with `actor`'s history entry. A
    /// change that changes nothing writes nothing.
    fn update_category(
        &self,
        id: CategoryId,
        change: CategoryChange,
        actor: &Actor,
    ) -> impl Future<Output = Result<Category, CatalogError>> + Send;

    /// Deletes a category that has no children and no products, with `actor`'s history
    /// entry.
    fn delete_category(
        &self,
        id: CategoryId,
        actor: &Actor,
    ) -> impl Future<Output = Result<(), CatalogError>> + Send;
}

/// Storage of products.
pub trait ProductStore: Send + Sync {
    /// Stores a new product with `actor`'s history entry. Its category must still be at
    /// `product.category_path` ([`CatalogError::ConcurrentChange`] otherwise) and its SKU
    /// unclaimed.
    fn insert_product(
        &self,
        product: &Product,
        actor: &Actor,
    ) -> impl Future<Output = Result<(), CatalogError>> + Send;

    /// One product, if it exists (active or not).
    fn product(
        &self,
        id: ProductId,
    ) -> impl Future<Output = Result<Option<Product>, CatalogError>> + Send;

    /// One page of the products in `scope` that pass `filter`.
    fn list_products(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Product>, CatalogError>> + Send;

    /// Applies a change to a product with `actor`'s history entry (before and after
    /// values), atomically; stock never goes below 0. A change that changes nothing
    /// writes nothing.
    fn update_product(
        &self,
        id: ProductId,
        change: ProductChange,
        actor: &Actor,
    ) -> impl Future<Output = Result<Product, CatalogError>> + Send;

    /// Deletes a product unless it appears in orders, atomically with that check and
    /// with `actor`'s history entry.
    fn delete_unordered_product(
        &self,
        id: ProductId,
        actor: &Actor,
    ) -> impl Future<Output = Result<ProductDeletion, CatalogError>> + Send;

    /// Count and price total of the active products in the subtree at `path`.
    fn price_summary(
        &self,
        path: &CategoryPath,
    ) -> impl Future<Output = Result<PriceSummary, CatalogError>> + Send;
}
