//! The catalog's use cases that combine several store calls or decide something: a
//! category with its ancestors, a (sub)tree, the products and the average price of a
//! category's subtree, creating a product and removing one. Handlers parse and present;
//! the steps between live here, over the store ports.
//!
//! Invariants: an unknown category is [`CatalogError::CategoryNotFound`] when it is the
//! subject of the request and [`CatalogError::UnknownCategory`] when a new product names
//! it; a product that appears in orders is never deleted, only deactivated. Each use case
//! runs in a span named after it that carries the ids it concerns (and the acting staff
//! member's id, never their email).

use crate::audit::Actor;
use crate::catalog::{CatalogError, CategoryStore, ProductStore};
use crate::category::{Category, CategoryNode, build_forest};
use crate::product::{
    NewProduct, PriceSummary, Product, ProductChange, ProductDeletion, ProductFilter,
    ProductRemoval, ProductScope,
};
use crate::{CategoryId, Page, PageRequest, ProductId, Timestamp};

/// The catalog's use cases on `store`.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'s, S>(&'s S);

impl<'s, S: CategoryStore + ProductStore> Catalog<'s, S> {
    pub fn new(store: &'s S) -> Self {
        Self(store)
    }

    /// The category `id`.
    #[tracing::instrument(name = "catalog.category", skip_all, fields(category_id = %id))]
    pub async fn category(&self, id: CategoryId) -> Result<Category, CatalogError> {
        self.0
            .category(id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)
    }

    /// The category `id` and its ancestors, root first.
    #[tracing::instrument(name = "catalog.with_ancestors", skip_all, fields(category_id = %id))]
    pub async fn with_ancestors(
        &self,
        id: CategoryId,
    ) -> Result<(Category, Vec<Category>), CatalogError> {
        let category = self.category(id).await?;
        let ancestors = self.0.categories(category.path.ancestors()).await?;
        Ok((category, ancestors))
    }

    /// The whole forest, or the tree under `root`.
    #[tracing::instrument(name = "catalog.tree", skip_all,
        fields(category_id = root.map(tracing::field::display)))]
    pub async fn tree(&self, root: Option<CategoryId>) -> Result<Vec<CategoryNode>, CatalogError> {
        let root = match root {
            Some(id) => Some(self.category(id).await?),
            None => None,
        };
        let categories = self.0.subtree(root.as_ref().map(|c| &c.path)).await?;
        Ok(build_forest(categories))
    }

    /// A page of the products in category `id` (`direct_only`) or in its whole subtree.
    #[tracing::instrument(name = "catalog.products", skip_all,
        fields(category_id = %id, direct_only = direct_only))]
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
    #[tracing::instrument(name = "catalog.price_summary", skip_all, fields(category_id = %id))]
    pub async fn price_summary(
        &self,
        id: CategoryId,
    ) -> Result<(Category, PriceSummary), CatalogError> {
        let category = self.category(id).await?;
        let summary = self.0.price_summary(&category.path).await?;
        Ok((category, summary))
    }

    /// Creates a product, active, in the existing category `new.category_id`.
    #[tracing::instrument(name = "catalog.create_product", skip_all,
        fields(category_id = %new.category_id, product_id = tracing::field::Empty,
            actor_id = %actor.id))]
    pub async fn create_product(
        &self,
        new: NewProduct,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        let category = self
            .0
            .category(new.category_id)
            .await?
            .ok_or(CatalogError::UnknownCategory)?;
        let product = new.into_product(category.path, Timestamp::now());
        tracing::Span::current().record("product_id", tracing::field::display(product.id));
        self.0.insert_product(&product, actor).await?;
        Ok(product)
    }

    /// Applies `change` to product `id`; an empty change only reads it.
    #[tracing::instrument(name = "catalog.update_product", skip_all,
        fields(product_id = %id, actor_id = %actor.id))]
    pub async fn update_product(
        &self,
        id: ProductId,
        change: ProductChange,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        if change.is_empty() {
            self.0
                .product(id)
                .await?
                .ok_or(CatalogError::ProductNotFound)
        } else {
            self.0.update_product(id, change, actor).await
        }
    }

    /// Deletes product `id`, or deactivates it when orders refer to it.
    #[tracing::instrument(name = "catalog.remove_product", skip_all,
        fields(product_id = %id, actor_id = %actor.id))]
    pub async fn remove_product(
        &self,
        id: ProductId,
        actor: &Actor,
    ) -> Result<ProductRemoval, CatalogError> {
        match self.0.delete_unordered_product(id, actor).await? {
            ProductDeletion::Deleted => Ok(ProductRemoval::Deleted),
            ProductDeletion::Ordered => {
                self.0
                    .update_product(id, ProductChange::deactivate(), actor)
                    .await?;
                Ok(ProductRemoval::Deactivated)
            }
        }
    }
}
