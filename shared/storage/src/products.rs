//! [`ProductStore`] on DynamoDB.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::product::{
    PriceSummary, Product, ProductChange, ProductDeletion, ProductFilter, ProductScope, StockChange,
};
use domain::{CatalogError, Money, Page, PageRequest, ProductId, ProductStore, Timestamp};

use crate::categories::unmoved;
use crate::expr::Expr;
use crate::item::{key, n, s};
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::{Placement, ProductRecord, StoredProduct, encode_sku_claim};
use crate::table::TableError;
use crate::txn::{self, Op, Transaction};
use crate::{DynamoCatalog, keys};

impl DynamoCatalog {
    /// A product and its order marker, read strongly consistently.
    async fn stored_product(&self, id: ProductId) -> Result<Option<StoredProduct>, CatalogError> {
        let item = self.table.get(&keys::product(id)).await?;
        Ok(item.map(ProductRecord::decode).transpose()?)
    }

    fn sku_claim_delete(
        &self,
        sku: &domain::product::Sku,
        owner: ProductId,
    ) -> Result<TransactWriteItem, CatalogError> {
        let owned = Expr::new().when_eq(attr::ID, s(owner.to_string()));
        txn::delete(self.table.name(), key(&keys::sku_claim(sku)), owned).map_err(Into::into)
    }

    /// Explains why the conditional update of product `id` did not apply.
    async fn explain_product_conflict(
        &self,
        id: ProductId,
        stock: Option<StockChange>,
    ) -> CatalogError {
        match self.stored_product(id).await {
            Ok(now) => StockChange::refusal(stock, now.as_ref().map(|p| &p.product)),
            Err(err) => err,
        }
    }

    /// Applies `expr` to the product item alone, returning the product as written.
    async fn update_product_item(
        &self,
        id: ProductId,
        expr: Expr,
        stock: Option<StockChange>,
    ) -> Result<Product, CatalogError> {
        match self.table.update(&keys::product(id), &expr).await {
            Ok(item) => Ok(ProductRecord::decode(item)?.product),
            Err(TableError::ConditionFailed) => Err(self.explain_product_conflict(id, stock).await),
            Err(other) => Err(other.into()),
        }
    }
}

fn product_filter(filter: &ProductFilter) -> Expr {
    let mut expr = Expr::new();
    if !filter.include_inactive {
        expr = expr.when_eq(attr::IS_ACTIVE, AttributeValue::Bool(true));
    }
    if let Some(min) = filter.min_price {
        expr = expr.when_at_least(attr::PRICE, n(min.minor_units()));
    }
    if let Some(max) = filter.max_price {
        expr = expr.when_at_most(attr::PRICE, n(max.minor_units()));
    }
    if let Some(text) = &filter.name_contains {
        expr = expr.when_contains(attr::NAME_SEARCH, s(text.to_lowercase()));
    }
    if filter.in_stock_only {
        expr = expr.when_greater(attr::STOCK, n(0));
    }
    expr
}

impl ProductStore for DynamoCatalog {
    async fn insert_product(&self, product: &Product) -> Result<(), CatalogError> {
        let unchanged = unmoved(&product.category_path);
        let count = attr::PRODUCT_COUNT;
        let mut items = Transaction::new()
            .with(
                Op::Membership,
                self.category_membership(product.category_id(), count, 1, unchanged)?,
            )
            .with(
                Op::Product,
                txn::put(
                    self.table.name(),
                    ProductRecord::encode_new(product)?,
                    Expr::new().when_absent(keys::PK),
                )?,
            );
        if let Some(sku) = &product.sku {
            let claim = encode_sku_claim(sku, product.id)?;
            items.push(
                Op::SkuClaim,
                txn::put(self.table.name(), claim, Expr::new().when_absent(keys::PK))?,
            );
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed(Op::SkuClaim) => Err(CatalogError::DuplicateSku(
                product
                    .sku
                    .as_ref()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            )),
            Err(e) => Err(e.into_catalog_error()),
        }
    }

    async fn product(&self, id: ProductId) -> Result<Option<Product>, CatalogError> {
        Ok(self.stored_product(id).await?.map(|p| p.product))
    }

    async fn list_products(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        let listing = match scope {
            ProductScope::All => Listing::gsi2(keys::PRODUCT_LIST, ""),
            ProductScope::Category { path, direct_only } => Listing::gsi1(
                keys::category_products(path.root_id()),
                if direct_only {
                    keys::products_directly_in(&path)
                } else {
                    keys::products_in_subtree(&path)
                },
            ),
        };
        let page = self
            .query_page(&listing.filtered(product_filter(&filter)), &page)
            .await?;
        let items = page
            .items
            .into_iter()
            .map(|item| ProductRecord::decode(item).map(|p| p.product))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    async fn update_product(
        &self,
        id: ProductId,
        change: ProductChange,
    ) -> Result<Product, CatalogError> {
        let mut expr = Expr::new()
            .set(attr::UPDATED_AT, s(Timestamp::now().to_string()))
            .when_exists(keys::PK);

        if let Some(name) = &change.name {
            expr = expr
                .set(attr::NAME, s(name.as_str()))
                .set(attr::NAME_SEARCH, s(name.search_key()));
        }
        if let Some(description) = &change.description {
            expr = expr.set_or_remove(
                attr::DESCRIPTION,
                description.as_ref().map(|d| s(d.as_str())),
            );
        }
        if let Some(price) = change.price {
            expr = expr.set(attr::PRICE, n(price.minor_units()));
        }
        if let Some(active) = change.is_active {
            expr = expr.set(attr::IS_ACTIVE, AttributeValue::Bool(active));
        }
        match change.stock {
            Some(StockChange::Set(level)) => expr = expr.set(attr::STOCK, n(level)),
            Some(StockChange::Adjust(delta)) => {
                expr = expr.add(attr::STOCK, n(delta));
                if delta < 0 {
                    expr = expr.when_at_least(attr::STOCK, n(-delta));
                }
            }
            None => {}
        }
        // Changes confined to the product item need no read: one conditional UpdateItem.
        if change.sku.is_none() && change.category_id.is_none() {
            return self.update_product_item(id, expr, change.stock).await;
        }
        let old = self
            .stored_product(id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?
            .product;
        let mut others = Transaction::new();

        if let Some(new_sku) = &change.sku {
            expr = expr.set_or_remove(attr::SKU, new_sku.as_ref().map(|k| s(k.as_str())));
            let old_key = old.sku.as_ref().map(|k| k.unique_key());
            if new_sku.as_ref().map(|k| k.unique_key()) != old_key {
                expr = match &old.sku {
                    Some(sku) => expr.when_eq(attr::SKU, s(sku.as_str())),
                    None => expr.when_absent(attr::SKU),
                };
                if let Some(sku) = &old.sku {
                    others.push(Op::SkuRelease, self.sku_claim_delete(sku, id)?);
                }
                if let Some(sku) = new_sku {
                    let claim = encode_sku_claim(sku, id)?;
                    others.push(
                        Op::SkuClaim,
                        txn::put(self.table.name(), claim, Expr::new().when_absent(keys::PK))?,
                    );
                }
            }
        }
        if let Some(category_id) = change.category_id.filter(|c| *c != old.category_id()) {
            let target = self
                .stored_category(category_id)
                .await?
                .ok_or(CatalogError::UnknownCategory)?;
            for (name, value) in Placement::of(&target.category.path, id).into_item()? {
                expr = expr.set(&name, value);
            }
            let old_place = keys::product_in_category(&old.category_path, id);
            expr = expr.when_eq(keys::GSI1SK, s(old_place));
            let count = attr::PRODUCT_COUNT;
            others.push(
                Op::Membership,
                self.category_membership(old.category_id(), count, -1, Expr::new())?,
            );
            let unchanged = unmoved(&target.category.path);
            others.push(
                Op::Membership,
                self.category_membership(category_id, count, 1, unchanged)?,
            );
        }

        if others.is_empty() {
            return self.update_product_item(id, expr, change.stock).await;
        }

        let mut items = Transaction::new().with(
            Op::Product,
            txn::update(self.table.name(), key(&keys::product(id)), expr)?,
        );
        items.append(others);
        match self.table.transact(items).await {
            Ok(()) => {}
            Err(e) if e.condition_failed(Op::SkuClaim) => {
                let sku = change
                    .sku
                    .flatten()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default();
                return Err(CatalogError::DuplicateSku(sku));
            }
            Err(e) if e.condition_failed(Op::Product) => {
                return Err(self.explain_product_conflict(id, change.stock).await);
            }
            Err(e) => return Err(e.into_catalog_error()),
        }
        self.stored_product(id)
            .await?
            .map(|p| p.product)
            .ok_or(CatalogError::ConcurrentChange)
    }

    async fn delete_unordered_product(
        &self,
        id: ProductId,
    ) -> Result<ProductDeletion, CatalogError> {
        let current = self
            .stored_product(id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        if current.ever_ordered {
            return Ok(ProductDeletion::Ordered);
        }
        let product = &current.product;
        let never_ordered_and_in_place = Expr::new().when_absent(attr::EVER_ORDERED).when_eq(
            keys::GSI1SK,
            s(keys::product_in_category(&product.category_path, id)),
        );
        let count = attr::PRODUCT_COUNT;
        let mut items = Transaction::new()
            .with(
                Op::Product,
                txn::delete(
                    self.table.name(),
                    key(&keys::product(id)),
                    never_ordered_and_in_place,
                )?,
            )
            .with(
                Op::Membership,
                self.category_membership(product.category_id(), count, -1, Expr::new())?,
            );
        if let Some(sku) = &product.sku {
            items.push(Op::SkuRelease, self.sku_claim_delete(sku, id)?);
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(ProductDeletion::Deleted),
            Err(e) if e.condition_failed(Op::Product) => match self.stored_product(id).await? {
                None => Err(CatalogError::ProductNotFound),
                Some(now) if now.ever_ordered => Ok(ProductDeletion::Ordered),
                Some(_) => Err(CatalogError::ConcurrentChange),
            },
            Err(e) => Err(e.into_catalog_error()),
        }
    }

    async fn price_summary(
        &self,
        path: &domain::category::CategoryPath,
    ) -> Result<PriceSummary, CatalogError> {
        let active = Expr::new().when_eq(attr::IS_ACTIVE, AttributeValue::Bool(true));
        let listing = Listing::gsi1(
            keys::category_products(path.root_id()),
            keys::products_in_subtree(path),
        )
        .filtered(active);
        let mut summary = PriceSummary::default();
        let mut total = Money::ZERO;
        for item in self.query_all(&listing, None).await? {
            total = total + ProductRecord::decode(item)?.product.price;
            summary.product_count += 1;
        }
        summary.price_total = total;
        Ok(summary)
    }
}
