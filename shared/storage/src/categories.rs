//! [`CategoryStore`] on DynamoDB, and the reconciler's one-off re-keying of the categories
//! stored with an earlier sibling sort key ([`DynamoCatalog::rekey_category_siblings`]).
//!
//! Invariants: every change made through the API is one transaction with its history
//! entry; a category's GSI2 sort key is `keys::category_sibling_order` of its name and id,
//! written by the create, rename and move that set the name. The re-keying is not a change
//! anyone made: it writes no history entry and leaves `revision` and `updated_at` alone.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::TransactWriteItem;
use domain::audit::Actor;
use domain::catalog::CategoryListing;
use domain::catalog_history;
use domain::category::{Category, CategoryChange, CategoryName, CategoryPath};
use domain::category_move::{
    ChangeEffect, MovePlan, effect_of, ensure_deletable, plan_move, refuse_cycle,
};
use domain::{CatalogError, CategoryId, CategoryStore, Page, PageRequest, ProductId, Timestamp};

use crate::catalog::{DynamoCatalog, MAX_MOVE_ITEMS};
use crate::expr::Expr;
use crate::item::{key, n, path_list, s};
use crate::keys;
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::{
    CategoryRecord, Placement, ProductRecord, StoredCategory, encode_name_claim,
};
use crate::txn::{self, Op, Transaction};

impl DynamoCatalog {
    /// A category with its counters, read strongly consistently.
    pub(crate) async fn stored_category(
        &self,
        id: CategoryId,
    ) -> Result<Option<StoredCategory>, CatalogError> {
        let item = self.table.get(&keys::category(id)).await?;
        Ok(item.map(CategoryRecord::decode).transpose()?)
    }

    /// An update of a category's counters when a child or product joins (`+1`) or leaves
    /// (`-1`) it. It bumps the revision so that concurrent moves notice.
    pub(crate) fn category_membership(
        &self,
        id: CategoryId,
        counter: &str,
        delta: i64,
        condition: Expr,
    ) -> Result<TransactWriteItem, CatalogError> {
        let expr = condition
            .add(counter, n(delta))
            .add(attr::REVISION, n(1))
            .when_exists(keys::PK);
        txn::update(self.table.name(), key(&keys::category(id)), expr).map_err(Into::into)
    }

    fn name_claim_put(
        &self,
        parent: Option<CategoryId>,
        category: &Category,
    ) -> Result<TransactWriteItem, CatalogError> {
        txn::put(
            self.table.name(),
            encode_name_claim(parent, category)?,
            Expr::new().when_absent(keys::PK),
        )
        .map_err(Into::into)
    }

    fn name_claim_delete(
        &self,
        parent: Option<CategoryId>,
        name: &CategoryName,
        owner: CategoryId,
    ) -> Result<TransactWriteItem, CatalogError> {
        let owned = Expr::new().when_eq(attr::ID, s(owner.to_string()));
        txn::delete(
            self.table.name(),
            key(&keys::category_name_claim(parent, name)),
            owned,
        )
        .map_err(Into::into)
    }

    async fn rename(
        &self,
        current: StoredCategory,
        name: CategoryName,
        actor: &Actor,
    ) -> Result<Category, CatalogError> {
        let old = current.category;
        let parent = old.parent_id();
        let renamed = Category {
            name,
            updated_at: Timestamp::now(),
            ..old.clone()
        };
        let update = Expr::new()
            .set(attr::NAME, s(renamed.name.as_str()))
            .set(
                keys::GSI2SK,
                s(keys::category_sibling_order(&renamed.name, renamed.id)),
            )
            .set(attr::UPDATED_AT, s(renamed.updated_at.to_string()))
            .add(attr::REVISION, n(1))
            .when_eq(keys::GSI1SK, s(keys::path(&old.path)));
        let entry = catalog_history::category_changed(actor, &old, &renamed);
        let mut items = Transaction::new()
            .with(
                Op::Category,
                txn::update(self.table.name(), key(&keys::category(old.id)), update)?,
            )
            .with(Op::History, self.table.history_put(&entry)?);
        let claim_changes = renamed.name.unique_key() != old.name.unique_key();
        if claim_changes {
            items.push(
                Op::NameRelease,
                self.name_claim_delete(parent, &old.name, old.id)?,
            );
            items.push(Op::NameClaim, self.name_claim_put(parent, &renamed)?);
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(renamed),
            Err(e) if e.condition_failed(Op::NameClaim) => Err(
                CatalogError::DuplicateCategoryName(renamed.name.as_str().to_owned()),
            ),
            Err(e) => Err(e.into_catalog_error()),
        }
    }

    /// Moves `current` (and its whole subtree, with the category paths of its products)
    /// under `new_parent`, optionally renaming it, in one transaction.
    async fn relocate(
        &self,
        current: StoredCategory,
        new_parent: Option<CategoryId>,
        name: CategoryName,
        actor: &Actor,
    ) -> Result<Category, CatalogError> {
        let old = current.category;
        let parent_item = match new_parent {
            Some(pid) => Some(
                self.stored_category(pid)
                    .await?
                    .ok_or(CatalogError::ParentNotFound)?,
            ),
            None => None,
        };
        let parent_path = parent_item.as_ref().map(|p| &p.category.path);
        // Refuse a cycle before reading the subtree.
        refuse_cycle(&old.path, parent_path)?;

        let (subtree, products) = self.subtree_of(&old.path).await?;
        // One item of the transaction is the move's history entry: plan within the rest,
        // and count it in the refusal.
        let plan =
            plan_move(&old, parent_path, &subtree, &products, MAX_MOVE_ITEMS - 1).map_err(|e| {
                match e {
                    CatalogError::MoveTooLarge { items, .. } => CatalogError::MoveTooLarge {
                        items: items + 1,
                        limit: MAX_MOVE_ITEMS,
                    },
                    other => other,
                }
            })?;

        let now = Timestamp::now();
        let mut items = self.moved_paths(&plan, &old, new_parent, &name, now)?;
        if let Some(old_parent) = old.parent_id() {
            items.push(
                Op::Membership,
                self.category_membership(old_parent, attr::CHILD_COUNT, -1, Expr::new())?,
            );
        }
        if let Some(parent) = &parent_item {
            let unchanged = unmoved(&parent.category.path);
            items.push(
                Op::Membership,
                self.category_membership(parent.category.id, attr::CHILD_COUNT, 1, unchanged)?,
            );
        }
        let moved = Category {
            id: old.id,
            name,
            path: plan.path,
            created_at: old.created_at,
            updated_at: now,
        };
        items.push(
            Op::NameRelease,
            self.name_claim_delete(old.parent_id(), &old.name, old.id)?,
        );
        items.push(Op::NameClaim, self.name_claim_put(new_parent, &moved)?);
        debug_assert_eq!(items.len(), plan.items);
        let entry = catalog_history::category_changed(actor, &old, &moved);
        items.push(Op::History, self.table.history_put(&entry)?);

        match self.table.transact(items).await {
            Ok(()) => Ok(moved),
            Err(e) if e.condition_failed(Op::NameClaim) => Err(
                CatalogError::DuplicateCategoryName(moved.name.as_str().to_owned()),
            ),
            Err(e) => Err(e.into_catalog_error()),
        }
    }
}

impl DynamoCatalog {
    /// The categories and products of the subtree at `path`, as the indexes show them (at
    /// most [`MAX_MOVE_ITEMS`] of each: more cannot move in one transaction anyway); the
    /// revision conditions of the move make its transaction fail rather than act on a stale
    /// view.
    async fn subtree_of(
        &self,
        path: &CategoryPath,
    ) -> Result<(Vec<StoredCategory>, Vec<(ProductId, CategoryPath)>), CatalogError> {
        let budget = MAX_MOVE_ITEMS;
        let subtree: Vec<StoredCategory> = self
            .table
            .query_all(
                &Listing::gsi1(keys::CATEGORY_TREE, keys::path(path)),
                Some(budget),
            )
            .await?
            .into_iter()
            .map(CategoryRecord::decode)
            .collect::<Result<_, _>>()?;
        let products_listing = Listing::gsi1(
            keys::category_products(path.root_id()),
            keys::products_in_subtree(path),
        );
        let products = self
            .table
            .query_all(&products_listing, Some(budget))
            .await?
            .into_iter()
            .map(|item| {
                ProductRecord::decode(item).map(|p| (p.product.id, p.product.category_path))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((subtree, products))
    }

    /// The writes that give every category and product of `plan` its new path at `now`:
    /// each category conditioned on its revision as read (the moved one also gets its new
    /// parent and name), each product on its place as read.
    fn moved_paths(
        &self,
        plan: &MovePlan,
        old: &Category,
        new_parent: Option<CategoryId>,
        name: &CategoryName,
        now: Timestamp,
    ) -> Result<Transaction, CatalogError> {
        let mut items = Transaction::new();
        for member in &plan.categories {
            let mut expr = Expr::new()
                .set(attr::PATH, path_list(&member.path))
                .set(attr::LEVEL, n(member.path.level()))
                .set(keys::GSI1SK, s(keys::path(&member.path)))
                .set(attr::UPDATED_AT, s(now.to_string()))
                .add(attr::REVISION, n(1))
                .when_eq(attr::REVISION, n(member.revision));
            if member.id == old.id {
                expr = expr
                    .set_or_remove(attr::PARENT_ID, new_parent.map(|p| s(p.to_string())))
                    .set(attr::NAME, s(name.as_str()))
                    .set(keys::GSI2PK, s(keys::category_children(new_parent)))
                    .set(keys::GSI2SK, s(keys::category_sibling_order(name, old.id)));
            }
            items.push(
                Op::Category,
                txn::update(self.table.name(), key(&keys::category(member.id)), expr)?,
            );
        }
        for product in &plan.products {
            let mut expr = Expr::new().when_eq(
                keys::GSI1SK,
                s(keys::product_in_category(&product.from, product.id)),
            );
            for (attr_name, value) in Placement::of(&product.to, product.id).into_item()? {
                expr = expr.set(&attr_name, value);
            }
            // The product's revision moves too: a concurrent update of it starts again
            // from the product as moved.
            expr = expr
                .set(attr::UPDATED_AT, s(now.to_string()))
                .add(attr::REVISION, n(1));
            items.push(
                Op::Product,
                txn::update(self.table.name(), key(&keys::product(product.id)), expr)?,
            );
        }
        Ok(items)
    }
}

/// Condition: the category at `path` still exists and has not moved. Writes that add to
/// a category use it (not the revision), so concurrent additions do not refuse each other,
/// while their revision bump still makes a concurrent move of that category fail.
pub(crate) fn unmoved(path: &CategoryPath) -> Expr {
    Expr::new().when_eq(keys::GSI1SK, s(keys::path(path)))
}

impl CategoryStore for DynamoCatalog {
    #[tracing::instrument(name = "dynamodb.create_category", skip_all, fields(
        category_id = tracing::field::Empty,
        parent_id = parent.map(tracing::field::display),
        actor_id = %actor.id,
    ))]
    async fn create_category(
        &self,
        name: CategoryName,
        parent: Option<CategoryId>,
        actor: &Actor,
    ) -> Result<Category, CatalogError> {
        let id = CategoryId::generate();
        tracing::Span::current().record("category_id", tracing::field::display(id));
        let (path, parent_path) = match parent {
            Some(pid) => {
                let parent = self
                    .stored_category(pid)
                    .await?
                    .ok_or(CatalogError::ParentNotFound)?;
                (
                    parent.category.path.checked_child(id)?,
                    Some(parent.category.path),
                )
            }
            None => (CategoryPath::root(id), None),
        };
        let now = Timestamp::now();
        let category = Category {
            id,
            name,
            path,
            created_at: now,
            updated_at: now,
        };
        let mut items = Transaction::new()
            .with(Op::NameClaim, self.name_claim_put(parent, &category)?)
            .with(
                Op::Category,
                txn::put(
                    self.table.name(),
                    CategoryRecord::encode_new(&category)?,
                    Expr::new().when_absent(keys::PK),
                )?,
            )
            .with(
                Op::History,
                self.table
                    .history_put(&catalog_history::category_created(actor, &category))?,
            );
        if let (Some(pid), Some(parent_path)) = (parent, &parent_path) {
            let unchanged = unmoved(parent_path);
            items.push(
                Op::Membership,
                self.category_membership(pid, attr::CHILD_COUNT, 1, unchanged)?,
            );
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(category),
            Err(e) if e.condition_failed(Op::NameClaim) => Err(
                CatalogError::DuplicateCategoryName(category.name.as_str().to_owned()),
            ),
            Err(e) => Err(e.into_catalog_error()),
        }
    }

    #[tracing::instrument(name = "dynamodb.category", skip_all, fields(category_id = %id))]
    async fn category(&self, id: CategoryId) -> Result<Option<Category>, CatalogError> {
        Ok(self.stored_category(id).await?.map(|c| c.category))
    }

    #[tracing::instrument(name = "dynamodb.categories", skip_all, fields(count = ids.len()))]
    async fn categories(&self, ids: &[CategoryId]) -> Result<Vec<Category>, CatalogError> {
        let mut found: HashMap<CategoryId, Category> = HashMap::new();
        let mut unique: Vec<CategoryId> = ids.to_vec();
        unique.sort();
        unique.dedup();
        let wanted = unique.iter().map(|id| key(&keys::category(*id))).collect();
        for item in self.table.batch_get(wanted, false).await? {
            let category = CategoryRecord::decode(item)?.category;
            found.insert(category.id, category);
        }
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }

    #[tracing::instrument(name = "dynamodb.list_categories", skip_all, fields(
        parent_id = match listing {
            CategoryListing::ChildrenOf(id) => Some(tracing::field::display(id)),
            _ => None,
        },
    ))]
    async fn list_categories(
        &self,
        listing: CategoryListing,
        page: PageRequest,
    ) -> Result<Page<Category>, CatalogError> {
        let listing = match listing {
            CategoryListing::All => Listing::gsi1(keys::CATEGORY_TREE, ""),
            CategoryListing::Roots => Listing::gsi2(keys::category_children(None), ""),
            CategoryListing::ChildrenOf(id) => Listing::gsi2(keys::category_children(Some(id)), ""),
        };
        let page = self.table.query_page(&listing, &page).await?;
        let items = page
            .items
            .into_iter()
            .map(|item| CategoryRecord::decode(item).map(|c| c.category))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    #[tracing::instrument(name = "dynamodb.subtree", skip_all,
        fields(category_id = root.map(|path| tracing::field::display(path.leaf()))))]
    async fn subtree(&self, root: Option<&CategoryPath>) -> Result<Vec<Category>, CatalogError> {
        let prefix = root.map(keys::path).unwrap_or_default();
        let items = self
            .table
            .query_all(&Listing::gsi1(keys::CATEGORY_TREE, prefix), None)
            .await?;
        Ok(items
            .into_iter()
            .map(|i| CategoryRecord::decode(i).map(|c| c.category))
            .collect::<Result<_, _>>()?)
    }

    #[tracing::instrument(name = "dynamodb.update_category", skip_all,
        fields(category_id = %id, actor_id = %actor.id))]
    async fn update_category(
        &self,
        id: CategoryId,
        change: CategoryChange,
        actor: &Actor,
    ) -> Result<Category, CatalogError> {
        let current = self
            .stored_category(id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)?;
        match effect_of(change, &current.category) {
            ChangeEffect::Unchanged => Ok(current.category),
            ChangeEffect::Rename(name) => self.rename(current, name, actor).await,
            ChangeEffect::Move { parent, name } => {
                self.relocate(current, parent, name, actor).await
            }
        }
    }

    #[tracing::instrument(name = "dynamodb.delete_category", skip_all,
        fields(category_id = %id, actor_id = %actor.id))]
    async fn delete_category(&self, id: CategoryId, actor: &Actor) -> Result<(), CatalogError> {
        let current = self
            .stored_category(id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)?;
        ensure_deletable(&current)?;
        let category = &current.category;
        let empty_and_unchanged = Expr::new()
            .when_eq(attr::REVISION, n(current.revision))
            .when_eq(attr::CHILD_COUNT, n(0))
            .when_eq(attr::PRODUCT_COUNT, n(0));
        let mut items = Transaction::new()
            .with(
                Op::Category,
                txn::delete(
                    self.table.name(),
                    key(&keys::category(id)),
                    empty_and_unchanged,
                )?,
            )
            .with(
                Op::NameRelease,
                self.name_claim_delete(category.parent_id(), &category.name, id)?,
            )
            .with(
                Op::History,
                self.table.history_put(&catalog_history::category_deleted(
                    actor,
                    category,
                    Timestamp::now(),
                ))?,
            );
        if let Some(parent) = category.parent_id() {
            items.push(
                Op::Membership,
                self.category_membership(parent, attr::CHILD_COUNT, -1, Expr::new())?,
            );
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(()),
            Err(e) if e.condition_failed(Op::Category) => match self.stored_category(id).await? {
                None => Err(CatalogError::CategoryNotFound),
                // Not empty (any more): say so; otherwise someone changed it meanwhile.
                Some(now) => ensure_deletable(&now).and(Err(CatalogError::ConcurrentChange)),
            },
            Err(e) => Err(e.into_catalog_error()),
        }
    }
}
