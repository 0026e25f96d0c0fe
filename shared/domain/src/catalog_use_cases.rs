//! The catalog's read use cases that combine several store calls: a category with its
//! ancestors, a (sub)tree, the products and the average price of a category's subtree.
//! Handlers parse and present; the steps between live here, over the store ports.
//!
//! Invariant: an unknown category is [`CatalogError::CategoryNotFound`], whichever step
//! asked for it (the category itself or the root of a tree).

use crate::catalog::{CatalogError, CategoryStore, ProductStore};
use crate::category::{Category, CategoryNode, build_forest};
use crate::product::{PriceSummary, Product, ProductFilter, ProductScope};
use crate::{CategoryId, Page, PageRequest};

/// The catalog's use cases on `store`.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'s, S>(&'s S);

impl<'s, S: CategoryStore + ProductStore> Catalog<'s, S> {
    pub fn new(store: &'s S) -> Self {
        Self(store)
    }

    /// The category `id`.
    pub async fn category(&self, id: CategoryId) -> Result<Category, CatalogError> {
        self.0
            .category(id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)
    }

    /// The category `id` and its ancestors, root first.
    pub async fn with_ancestors(
        &self,
        id: CategoryId,
    ) -> Result<(Category, Vec<Category>), CatalogError> {
        let category = self.category(id).await?;
        let ancestors = self.0.categories(category.path.ancestors()).await?;
        Ok((category, ancestors))
    }

    /// The whole forest, or the tree under `root`.
    pub async fn tree(&self, root: Option<CategoryId>) -> Result<Vec<CategoryNode>, CatalogError> {
        let root = match root {
            Some(id) => Some(self.category(id).await?),
            None => None,
        };
        let categories = self.0.subtree(root.as_ref().map(|c| &c.path)).await?;
        Ok(build_forest(categories))
    }

    /// A page of the products in category `id` (`direct_only`) or in its whole subtree.
    pub async fn products(
        &self,
        id: CategoryId,
        direct_only: bool,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        let category = self.category(id).await?;
        let scope = ProductScope::Category {
            path: category.path,
            direct_only,
        };
        self.0.list_products(scope, filter, page).await
    }

    /// The category `id` and the price summary of its subtree's products.
    pub async fn price_summary(
        &self,
        id: CategoryId,
    ) -> Result<(Category, PriceSummary), CatalogError> {
        let category = self.category(id).await?;
        let summary = self.0.price_summary(&category.path).await?;
        Ok((category, summary))
    }
}
