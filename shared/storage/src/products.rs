//! [`ProductStore`] on DynamoDB.
//!
//! Invariants: every write of a product is one `TransactWriteItems` that also puts its
//! history entry, built from the product as read (strongly consistent) and as written; it
//! is conditioned on the product's `revision` (and on its stock when the stock changes,
//! since orders move stock without touching the revision), so the entry's "before" values
//! are exactly what the write replaced. A stale read is read again and retried
//! ([`crate::retry`]).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::audit::Actor;
use domain::catalog_history;
use domain::product::{
    PriceSummary, Product, ProductChange, ProductDeletion, ProductFilter, ProductScope,
};
use domain::{CatalogError, Money, Page, PageRequest, ProductId, ProductStore, Timestamp};

use crate::catalog::DynamoCatalog;
use crate::categories::unmoved;
use crate::expr::Expr;
use crate::item::{key, n, s};
use crate::keys;
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::{Placement, ProductRecord, StoredProduct, encode_sku_claim};
use crate::records::catalog::{listed_price, price_cents};
use crate::records::stock::{StockBucketRecord, StoredStock};
use crate::retry::StaleReads;
use crate::stock;
use crate::txn::{self, Op, Transaction};
use domain::stock_buckets::Buckets;

impl DynamoCatalog {
    /// A product with its stock and order marker, read strongly consistently (one
    /// `BatchGetItem` of the product item and its buckets).
    async fn stored_product(&self, id: ProductId) -> Result<Option<StoredProduct>, CatalogError> {
        Ok(self
            .table
            .product_with_stock(id, &self.bucket_counts)
            .await?)
    }

    fn sku_claim_delete(
        &self,
        sku: &domain::product::Sku,
        owner: ProductId,
    ) -> Result<TransactWriteItem, CatalogError> {
        let owned = Expr::new().when_eq(attr::ID, s(owner.to_string()));
        txn::delete(self.table.name(), key(&keys::sku_claim(sku)), owned).map_err(Into::into)
    }

    /// One try at changing the product as `stored` was read: the product as written (or
    /// as read, when the change changes nothing), or `None` when the read went stale.
    async fn try_update_product(
        &self,
        stored: &StoredProduct,
        change: &ProductChange,
        actor: &Actor,
    ) -> Result<Option<Product>, CatalogError> {
        let before = &stored.product;
        let id = before.id;
        let target = match change.category_id.filter(|c| *c != before.category_id()) {
            Some(category_id) => Some(
                self.stored_category(category_id)
                    .await?
                    .ok_or(CatalogError::UnknownCategory)?
                    .category
                    .path,
            ),
            None => None,
        };
        let after = change.apply(before, target.clone(), Timestamp::now())?;
        let Some(entry) = catalog_history::product_changed(actor, before, &after) else {
            return Ok(Some(before.clone()));
        };

        let mut expr = changed_fields(before, &after, unchanged_since(stored))?;
        let mut others = Transaction::new();
        let stock_changed = after.stock_quantity != before.stock_quantity
            || after.stock_buckets != before.stock_buckets;
        let terms_changed = after.price != before.price || after.is_active != before.is_active;
        let in_buckets = matches!(stored.stock, StoredStock::Buckets(_));
        if stock_changed || (terms_changed && in_buckets) {
            let buckets = new_buckets(stored, &after);
            let (update, writes) =
                stock::rewrite(self.table.name(), stored, &after, &buckets, expr)?;
            expr = update;
            for write in writes {
                others.push(Op::Stock, write);
            }
        }
        if after.sku != before.sku {
            expr = expr.set_or_remove(attr::SKU, after.sku.as_ref().map(|k| s(k.as_str())));
            self.move_sku_claim(before, &after, &mut others)?;
        }
        if let Some(path) = &target {
            expr = self.move_to_category(before, path, expr, &mut others)?;
        }

        let mut items = Transaction::new()
            .with(
                Op::Product,
                txn::update(self.table.name(), key(&keys::product(id)), expr)?,
            )
            .with(Op::History, self.table.history_put(&entry)?);
        items.append(others);
        match self.table.transact(items).await {
            Ok(()) => Ok(Some(after)),
            Err(e) if e.condition_failed(Op::SkuClaim) => Err(CatalogError::DuplicateSku(
                after
                    .sku
                    .as_ref()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
            )),
            // A stale read (an order took stock meanwhile, say), or a transaction racing
            // ours: read again and retry.
            Err(e)
                if e.condition_failed(Op::Product)
                    || e.condition_failed(Op::Stock)
                    || e.conflicted() =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into_catalog_error()),
        }
    }
}

impl DynamoCatalog {
    /// Releases `before`'s SKU claim and claims `after`'s, when the unique key changed.
    fn move_sku_claim(
        &self,
        before: &Product,
        after: &Product,
        others: &mut Transaction,
    ) -> Result<(), CatalogError> {
        let claim_of = |sku: &Option<domain::product::Sku>| sku.as_ref().map(|k| k.unique_key());
        if claim_of(&after.sku) == claim_of(&before.sku) {
            return Ok(());
        }
        if let Some(sku) = &before.sku {
            others.push(Op::SkuRelease, self.sku_claim_delete(sku, before.id)?);
        }
        if let Some(sku) = &after.sku {
            let claim = encode_sku_claim(sku, before.id)?;
            others.push(
                Op::SkuClaim,
                txn::put(self.table.name(), claim, Expr::new().when_absent(keys::PK))?,
            );
        }
        Ok(())
    }

    /// `expr` that also files the product under the category at `path` (its index keys,
    /// conditioned on where it was read), with both categories' product counts moved.
    fn move_to_category(
        &self,
        before: &Product,
        path: &domain::category::CategoryPath,
        mut expr: Expr,
        others: &mut Transaction,
    ) -> Result<Expr, CatalogError> {
        let id = before.id;
        for (name, value) in Placement::of(path, id).into_item()? {
            expr = expr.set(&name, value);
        }
        let old_place = keys::product_in_category(&before.category_path, id);
        expr = expr.when_eq(keys::GSI1SK, s(old_place));
        let count = attr::PRODUCT_COUNT;
        others.push(
            Op::Membership,
            self.category_membership(before.category_id(), count, -1, Expr::new())?,
        );
        others.push(
            Op::Membership,
            self.category_membership(path.leaf(), count, 1, unmoved(path))?,
        );
        Ok(expr)
    }
}

/// `expr` that also writes the plain fields `after` changed from `before` (and the
/// revision and time every change bumps).
fn changed_fields(before: &Product, after: &Product, expr: Expr) -> Result<Expr, CatalogError> {
    let mut expr = expr
        .set(attr::UPDATED_AT, s(after.updated_at.to_string()))
        .add(attr::REVISION, n(1));
    if after.name != before.name {
        expr = expr
            .set(attr::NAME, s(after.name.as_str()))
            .set(attr::NAME_SEARCH, s(after.name.search_key()));
    }
    if after.description != before.description {
        let text = after.description.as_ref().map(|d| s(d.as_str()));
        expr = expr.set_or_remove(attr::DESCRIPTION, text);
    }
    if after.price != before.price {
        expr = expr.set(attr::PRICE, n(price_cents(after.price)?));
    }
    if after.is_active != before.is_active {
        expr = expr.set(attr::IS_ACTIVE, AttributeValue::Bool(after.is_active));
    }
    Ok(expr)
}

/// The buckets `after` leaves: a new count (or a product that held its own stock) spreads
/// the total evenly; a new total alone water-fills the buckets as read (added to the
/// emptiest, taken from the fullest); otherwise they stay as read.
fn new_buckets(stored: &StoredProduct, after: &Product) -> Buckets {
    let read = stored.stock.buckets();
    let total = u64::from(after.stock_quantity);
    if after.stock_buckets != read.count() || matches!(stored.stock, StoredStock::OnProduct(_)) {
        return Buckets::spread(total, after.stock_buckets);
    }
    let delta =
        i64::try_from(total).unwrap_or(i64::MAX) - i64::try_from(read.total()).unwrap_or(i64::MAX);
    read.changed_by(delta)
        .unwrap_or_else(|_| Buckets::spread(total, after.stock_buckets))
}

/// The condition that the product is still as `stored` was read (its own fields; its
/// stock is conditioned separately, when a write changes it).
fn unchanged_since(stored: &StoredProduct) -> Expr {
    let exists = Expr::new().when_exists(keys::PK);
    match stored.revision {
        Some(revision) => exists.when_eq(attr::REVISION, n(revision)),
        None => exists.when_absent(attr::REVISION),
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
    expr
}

impl ProductStore for DynamoCatalog {
    #[tracing::instrument(name = "dynamodb.insert_product", skip_all, fields(
        product_id = %product.id,
        category_id = %product.category_id(),
        actor_id = %actor.id,
    ))]
    async fn insert_product(&self, product: &Product, actor: &Actor) -> Result<(), CatalogError> {
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
            )
            .with(
                Op::Stock,
                txn::put(
                    self.table.name(),
                    StockBucketRecord::encode(product, 0, product.stock_quantity)?,
                    Expr::new().when_absent(keys::PK),
                )?,
            )
            .with(
                Op::History,
                self.table
                    .history_put(&catalog_history::product_created(actor, product))?,
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

    #[tracing::instrument(name = "dynamodb.product", skip_all, fields(product_id = %id))]
    async fn product(&self, id: ProductId) -> Result<Option<Product>, CatalogError> {
        Ok(self.stored_product(id).await?.map(|p| p.product))
    }

    #[tracing::instrument(name = "dynamodb.list_products", skip_all, fields(
        category_id = match &scope {
            ProductScope::Category { path, .. } => Some(tracing::field::display(path.leaf())),
            ProductScope::All => None,
        },
    ))]
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
        // Hiding inactive products discards few; a price range or a name search may
        // discard most of what each read evaluates.
        let narrowing = filter.min_price.is_some()
            || filter.max_price.is_some()
            || filter.name_contains.is_some();
        let listing = if narrowing {
            listing.filtered(product_filter(&filter))
        } else {
            listing.filtered_lightly(product_filter(&filter))
        };
        let page = self.table.query_page(&listing, &page).await?;
        let listed = page
            .items
            .into_iter()
            .map(ProductRecord::decode)
            .collect::<Result<Vec<_>, _>>()?;
        // The stock is in the buckets, which no index projects: read after the page, so
        // `in_stock` filters here (a page may hold fewer items; the cursor goes on).
        let items = self
            .table
            .with_stock(listed)
            .await?
            .into_iter()
            .map(|stored| stored.product)
            .filter(|p| !filter.in_stock_only || p.stock_quantity > 0)
            .collect();
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    #[tracing::instrument(name = "dynamodb.update_product", skip_all,
        fields(product_id = %id, actor_id = %actor.id))]
    async fn update_product(
        &self,
        id: ProductId,
        change: ProductChange,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        let mut tries = StaleReads::new();
        while tries.again().await {
            let stored = self
                .stored_product(id)
                .await?
                .ok_or(CatalogError::ProductNotFound)?;
            if let Some(product) = self.try_update_product(&stored, &change, actor).await? {
                return Ok(product);
            }
        }
        Err(CatalogError::ConcurrentChange)
    }

    #[tracing::instrument(name = "dynamodb.delete_unordered_product", skip_all,
        fields(product_id = %id, actor_id = %actor.id))]
    async fn delete_unordered_product(
        &self,
        id: ProductId,
        actor: &Actor,
    ) -> Result<ProductDeletion, CatalogError> {
        let current = self
            .stored_product(id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        if current.ever_ordered {
            return Ok(ProductDeletion::Ordered);
        }
        let product = &current.product;
        // As read (so the history entry's values are what was deleted), never ordered,
        // and still in the category whose counter goes down.
        let mut never_ordered_and_in_place = unchanged_since(&current)
            .when_absent(attr::EVER_ORDERED)
            .when_eq(
                keys::GSI1SK,
                s(keys::product_in_category(&product.category_path, id)),
            );
        let entry = catalog_history::product_deleted(actor, product, Timestamp::now());
        let count = attr::PRODUCT_COUNT;
        let mut items = Transaction::new()
            .with(
                Op::Membership,
                self.category_membership(product.category_id(), count, -1, Expr::new())?,
            )
            .with(Op::History, self.table.history_put(&entry)?);
        if let Some(sku) = &product.sku {
            items.push(Op::SkuRelease, self.sku_claim_delete(sku, id)?);
        }
        match &current.stock {
            StoredStock::OnProduct(units) => {
                never_ordered_and_in_place =
                    never_ordered_and_in_place.when_eq(attr::STOCK, n(*units));
            }
            StoredStock::Buckets(units) => {
                for (bucket, units) in units.iter().enumerate() {
                    let untouched = Expr::new()
                        .when_absent(attr::EVER_ORDERED)
                        .when_eq(attr::STOCK, n(*units));
                    items.push(
                        Op::Stock,
                        txn::delete(
                            self.table.name(),
                            key(&keys::stock_bucket(id, bucket)),
                            untouched,
                        )?,
                    );
                }
            }
        }
        let items = items.with(
            Op::Product,
            txn::delete(
                self.table.name(),
                key(&keys::product(id)),
                never_ordered_and_in_place,
            )?,
        );
        match self.table.transact(items).await {
            Ok(()) => Ok(ProductDeletion::Deleted),
            Err(e) if e.condition_failed(Op::Product) || e.condition_failed(Op::Stock) => {
                match self.stored_product(id).await? {
                    None => Err(CatalogError::ProductNotFound),
                    Some(now) if now.ever_ordered => Ok(ProductDeletion::Ordered),
                    Some(_) => Err(CatalogError::ConcurrentChange),
                }
            }
            Err(e) => Err(e.into_catalog_error()),
        }
    }

    #[tracing::instrument(name = "dynamodb.price_summary", skip_all,
        fields(category_id = %path.leaf()))]
    async fn price_summary(
        &self,
        path: &domain::category::CategoryPath,
    ) -> Result<PriceSummary, CatalogError> {
        let active = Expr::new().when_eq(attr::IS_ACTIVE, AttributeValue::Bool(true));
        let listing = Listing::gsi1(
            keys::category_products(path.root_id()),
            keys::products_in_subtree(path),
        )
        .filtered(active)
        .only(&[attr::PRICE]);
        let mut summary = PriceSummary::default();
        let mut total = Money::ZERO;
        for item in self.table.query_all(&listing, None).await? {
            total = total + listed_price(&item)?;
            summary.product_count += 1;
        }
        summary.price_total = total;
        Ok(summary)
    }
}
