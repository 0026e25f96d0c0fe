//! Changing and deleting categories: what a change does (nothing, a rename, a move), when a
//! category may be deleted, and the plan of a move (with its whole subtree, and the
//! category paths of their products) — pure, from what storage read; storage turns each
//! decision into one transaction.
//!
//! Invariants: a category never moves into its own subtree; the plan fits one transaction
//! (`max_items`); the subtree read must be complete — every category's counters match
//! the children and products seen — or the move is refused as a concurrent change (an index
//! lagging behind a recent write looks exactly like that); every path is rebased from the
//! old path onto the new one, within the depth limit.

use std::collections::HashMap;

use crate::catalog::CatalogError;
use crate::category::{
    Category, CategoryChange, CategoryName, CategoryPath, IllegalMove, moved_path,
};
use crate::{CategoryId, ProductId};

/// A category with the counters and revision its item holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryState {
    pub category: Category,
    /// Direct subcategories.
    pub child_count: u64,
    /// Products directly in the category.
    pub product_count: u64,
    /// Bumped by every change; a move is conditioned on the revision it read.
    pub revision: u64,
}

/// What a change does to the category it is applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEffect {
    /// Nothing: the same name and the same parent.
    Unchanged,
    /// A new name, under the same parent.
    Rename(CategoryName),
    /// Another parent (`None`: the top level), with the name it will have there.
    Move {
        parent: Option<CategoryId>,
        name: CategoryName,
    },
}

/// What `change` does to `current`: a move when it names another parent, else a rename
/// when it names another name (a different spelling counts), else nothing.
pub fn effect_of(change: CategoryChange, current: &Category) -> ChangeEffect {
    let name = change.name.unwrap_or_else(|| current.name.clone());
    match change.parent_id {
        Some(parent) if parent != current.parent_id() => ChangeEffect::Move { parent, name },
        _ if name == current.name => ChangeEffect::Unchanged,
        _ => ChangeEffect::Rename(name),
    }
}

/// Refuses to delete a category that still has subcategories or products.
pub fn ensure_deletable(current: &CategoryState) -> Result<(), CatalogError> {
    if current.child_count > 0 || current.product_count > 0 {
        Err(CatalogError::CategoryNotEmpty)
    } else {
        Ok(())
    }
}

/// Items a move writes besides the subtree's categories and products: the old name claim
/// released, the new one taken.
const CLAIM_ITEMS: usize = 2;

/// A category of the subtree at its new place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedCategory {
    pub id: CategoryId,
    pub path: CategoryPath,
    /// The revision read: the write is conditioned on it.
    pub revision: u64,
}

/// A product of the subtree at its new place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedProduct {
    pub id: ProductId,
    pub from: CategoryPath,
    pub to: CategoryPath,
}

/// Everything a move writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePlan {
    /// The moved category's new path.
    pub path: CategoryPath,
    /// Every category of the subtree (the moved one included).
    pub categories: Vec<MovedCategory>,
    pub products: Vec<MovedProduct>,
    /// Items of the transaction: the above, the parents' counters and the name claims.
    pub items: usize,
}

/// Refuses a move of the category at `moving` under the category at `new_parent` when that
/// parent is in the moving category's own subtree (checked before reading the subtree).
pub fn refuse_cycle(
    moving: &CategoryPath,
    new_parent: Option<&CategoryPath>,
) -> Result<(), CatalogError> {
    match new_parent {
        Some(parent) if parent.is_within(moving) => Err(IllegalMove::IntoOwnSubtree.into()),
        _ => Ok(()),
    }
}

/// Items the move of `moving` under `new_parent` writes besides its subtree.
pub fn fixed_items(moving: &Category, new_parent: Option<&CategoryPath>) -> usize {
    CLAIM_ITEMS + usize::from(moving.parent_id().is_some()) + usize::from(new_parent.is_some())
}

/// Plans the move of `moving` under `new_parent` (`None`: to the top level), given its
/// subtree (`moving` included) and the subtree's products (id and category path) as read.
#[tracing::instrument(name = "category_move.plan", skip_all, fields(
    category_id = %moving.id,
    parent_id = new_parent.map(|p| tracing::field::display(p.leaf())),
    categories = subtree.len(),
    products = products.len(),
))]
pub fn plan_move(
    moving: &Category,
    new_parent: Option<&CategoryPath>,
    subtree: &[CategoryState],
    products: &[(ProductId, CategoryPath)],
    max_items: usize,
) -> Result<MovePlan, CatalogError> {
    refuse_cycle(&moving.path, new_parent)?;
    let items = subtree.len() + products.len() + fixed_items(moving, new_parent);
    if items > max_items {
        return Err(CatalogError::MoveTooLarge {
            items,
            limit: max_items,
        });
    }
    check_counts(subtree, products)?;
    let old = &moving.path;
    let height = subtree
        .iter()
        .map(|c| c.category.path.level().saturating_sub(old.level()))
        .max()
        .unwrap_or(0);
    let path = moved_path(old, new_parent, height)?;
    let rebase = |p: &CategoryPath| p.rebased(old, &path).ok_or(CatalogError::ConcurrentChange);
    let categories = subtree
        .iter()
        .map(|member| {
            Ok(MovedCategory {
                id: member.category.id,
                path: rebase(&member.category.path)?,
                revision: member.revision,
            })
        })
        .collect::<Result<_, CatalogError>>()?;
    let products = products
        .iter()
        .map(|(id, from)| {
            Ok(MovedProduct {
                id: *id,
                from: from.clone(),
                to: rebase(from)?,
            })
        })
        .collect::<Result<_, CatalogError>>()?;
    Ok(MovePlan {
        path,
        categories,
        products,
        items,
    })
}

/// The subtree read from the indexes is complete: every category's counters match the
/// children and products seen.
fn check_counts(
    subtree: &[CategoryState],
    products: &[(ProductId, CategoryPath)],
) -> Result<(), CatalogError> {
    let mut children: HashMap<CategoryId, u64> = HashMap::new();
    let mut direct_products: HashMap<CategoryId, u64> = HashMap::new();
    for member in subtree {
        if let Some(parent) = member.category.parent_id() {
            *children.entry(parent).or_default() += 1;
        }
    }
    for (_, path) in products {
        *direct_products.entry(path.leaf()).or_default() += 1;
    }
    let complete = subtree.iter().all(|member| {
        let id = member.category.id;
        children.get(&id).copied().unwrap_or(0) == member.child_count
            && direct_products.get(&id).copied().unwrap_or(0) == member.product_count
    });
    if complete {
        Ok(())
    } else {
        Err(CatalogError::ConcurrentChange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::category::CategoryName;

    fn state(path: &CategoryPath, name: &str, children: u64, products: u64) -> CategoryState {
        let now = Timestamp::now();
        CategoryState {
            category: Category {
                id: path.leaf(),
                name: CategoryName::parse(name).expect("name"),
                path: path.clone(),
                created_at: now,
                updated_at: now,
            },
            child_count: children,
            product_count: products,
            revision: 7,
        }
    }

    /// Root R > A > B, with one product in B; another root S.
    struct World {
        a: CategoryPath,
        b: CategoryPath,
        s: CategoryPath,
        product: (ProductId, CategoryPath),
    }

    fn world() -> World {
        let r = CategoryPath::root(CategoryId::generate());
        let a = r.child(CategoryId::generate());
        let b = a.child(CategoryId::generate());
        World {
            s: CategoryPath::root(CategoryId::generate()),
            product: (ProductId::generate(), b.clone()),
            a,
            b,
        }
    }

    #[test]
    fn a_subtree_moves_with_its_products_under_the_new_parent() {
        let w = world();
        let subtree = [state(&w.a, "A", 1, 0), state(&w.b, "B", 0, 1)];
        let moving = &subtree[0].category;
        let plan = plan_move(
            moving,
            Some(&w.s),
            &subtree,
            std::slice::from_ref(&w.product),
            100,
        )
        .expect("plan");
        assert_eq!(plan.path, w.s.child(w.a.leaf()));
        assert_eq!(
            plan.categories[1].path,
            w.s.child(w.a.leaf()).child(w.b.leaf())
        );
        assert_eq!(
            plan.categories[1].revision, 7,
            "conditioned on the revision read"
        );
        assert_eq!(plan.products[0].from, w.b);
        assert_eq!(plan.products[0].to, plan.categories[1].path);
        // 2 categories + 1 product + 2 name claims + old and new parents' counters.
        assert_eq!(plan.items, 7);
        let to_top = plan_move(moving, None, &subtree, &[w.product], 100).expect("plan");
        assert_eq!(to_top.path, CategoryPath::root(w.a.leaf()));
        assert_eq!(to_top.items, 6, "no new parent's counter");
    }

    #[test]
    fn a_category_never_moves_into_its_own_subtree() {
        let w = world();
        let subtree = [state(&w.a, "A", 1, 0), state(&w.b, "B", 0, 1)];
        let into_child = plan_move(
            &subtree[0].category,
            Some(&w.b),
            &subtree,
            &[w.product],
            100,
        );
        assert!(matches!(
            into_child,
            Err(CatalogError::IllegalMove(IllegalMove::IntoOwnSubtree))
        ));
        assert!(refuse_cycle(&w.a, Some(&w.a)).is_err(), "nor under itself");
        assert!(
            refuse_cycle(&w.b, Some(&w.a)).is_ok(),
            "a child may move up"
        );
    }

    #[test]
    fn an_incomplete_read_is_a_concurrent_change() {
        let w = world();
        // B's product is missing from the read (a lagging index).
        let subtree = [state(&w.a, "A", 1, 0), state(&w.b, "B", 0, 1)];
        let missing_product = plan_move(&subtree[0].category, Some(&w.s), &subtree, &[], 100);
        assert!(matches!(
            missing_product,
            Err(CatalogError::ConcurrentChange)
        ));
        // B itself is missing.
        let missing_child = plan_move(&subtree[0].category, Some(&w.s), &subtree[..1], &[], 100);
        assert!(matches!(missing_child, Err(CatalogError::ConcurrentChange)));
    }

    #[test]
    fn a_change_is_a_move_a_rename_or_nothing() {
        let w = world();
        let current = state(&w.b, "Phones", 0, 0).category;
        let name = |n: &str| CategoryName::parse(n).expect("name");
        let change = |name: Option<&str>, parent: Option<Option<CategoryId>>| CategoryChange {
            name: name.map(|n| CategoryName::parse(n).expect("name")),
            parent_id: parent,
        };
        assert_eq!(
            effect_of(change(None, None), &current),
            ChangeEffect::Unchanged
        );
        assert_eq!(
            effect_of(change(Some("Phones"), Some(current.parent_id())), &current),
            ChangeEffect::Unchanged,
            "the same parent is not a move"
        );
        assert_eq!(
            effect_of(change(Some("phones"), None), &current),
            ChangeEffect::Rename(name("phones")),
            "a different spelling is a rename"
        );
        assert_eq!(
            effect_of(change(None, Some(None)), &current),
            ChangeEffect::Move {
                parent: None,
                name: name("Phones")
            }
        );
        assert_eq!(
            effect_of(change(Some("Mobiles"), Some(Some(w.s.leaf()))), &current),
            ChangeEffect::Move {
                parent: Some(w.s.leaf()),
                name: name("Mobiles")
            }
        );
    }

    #[test]
    fn only_an_empty_category_can_be_deleted() {
        let w = world();
        assert!(ensure_deletable(&state(&w.b, "B", 0, 0)).is_ok());
        assert!(matches!(
            ensure_deletable(&state(&w.b, "B", 1, 0)),
            Err(CatalogError::CategoryNotEmpty)
        ));
        assert!(matches!(
            ensure_deletable(&state(&w.b, "B", 0, 3)),
            Err(CatalogError::CategoryNotEmpty)
        ));
    }

    #[test]
    fn a_move_larger_than_one_transaction_is_refused_before_planning() {
        let w = world();
        let subtree = [state(&w.a, "A", 1, 0), state(&w.b, "B", 0, 1)];
        let plan = plan_move(&subtree[0].category, Some(&w.s), &subtree, &[w.product], 6);
        assert!(matches!(
            plan,
            Err(CatalogError::MoveTooLarge { items: 7, limit: 6 })
        ));
    }
}
