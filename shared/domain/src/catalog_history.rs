//! The catalog's entries in the change history: a category created, renamed, moved or
//! deleted; a product created, updated, its stock changed, taken off sale or deleted —
//! each field's value before and after, labelled with the name as it was.
//!
//! Invariant: a change that changes no recorded field has no entry ([`product_changed`]
//! is `None`), so "one write, one entry" holds with no empty entries.

use crate::audit::{Action, Actor, AuditEntry, Value};
use crate::category::Category;
use crate::product::Product;
use crate::timestamp::Timestamp;

// --- Categories ------------------------------------------------------------------------

/// `category.created`: its name and parent, from nothing.
pub fn category_created(actor: &Actor, category: &Category) -> AuditEntry {
    AuditEntry::new(
        actor,
        category.created_at,
        Action::CategoryCreated,
        category.id,
    )
    .labelled(category.name.as_str())
    .field("name", Value::Null, Value::text(category.name.as_str()))
    .field(
        "parent_id",
        Value::Null,
        Value::optional(category.parent_id()),
    )
}

/// `category.moved` when the parent changed (with the name, if that changed too),
/// otherwise `category.renamed`.
pub fn category_changed(actor: &Actor, before: &Category, after: &Category) -> AuditEntry {
    let moved = before.parent_id() != after.parent_id();
    let action = if moved {
        Action::CategoryMoved
    } else {
        Action::CategoryRenamed
    };
    AuditEntry::new(actor, after.updated_at, action, after.id)
        .labelled(after.name.as_str())
        .field(
            "name",
            Value::text(before.name.as_str()),
            Value::text(after.name.as_str()),
        )
        .field(
            "parent_id",
            Value::optional(before.parent_id()),
            Value::optional(after.parent_id()),
        )
}

/// `category.deleted`: its name and parent, to nothing.
pub fn category_deleted(actor: &Actor, category: &Category, at: Timestamp) -> AuditEntry {
    AuditEntry::new(actor, at, Action::CategoryDeleted, category.id)
        .labelled(category.name.as_str())
        .field("name", Value::text(category.name.as_str()), Value::Null)
        .field(
            "parent_id",
            Value::optional(category.parent_id()),
            Value::Null,
        )
}

// --- Products --------------------------------------------------------------------------

/// A product's recorded fields, as the API names and shows them.
fn product_fields(product: &Product) -> [(&'static str, Value); 8] {
    [
        ("name", Value::text(product.name.as_str())),
        (
            "description",
            Value::optional(product.description.as_ref().map(|d| d.as_str())),
        ),
        (
            "sku",
            Value::optional(product.sku.as_ref().map(|s| s.as_str())),
        ),
        ("price", Value::text(product.price)),
        (
            "stock_quantity",
            Value::Number(i64::from(product.stock_quantity)),
        ),
        (
            "stock_buckets",
            Value::Number(i64::from(product.stock_buckets.as_u8())),
        ),
        ("category_id", Value::text(product.category_id())),
        ("is_active", Value::Bool(product.is_active)),
    ]
}

fn product_entry(
    actor: &Actor,
    at: Timestamp,
    action: Action,
    id: crate::ProductId,
    before: Option<&Product>,
    after: Option<&Product>,
) -> AuditEntry {
    let from = before.map_or_else(product_fields_null, product_fields);
    let to = after.map_or_else(product_fields_null, product_fields);
    let mut entry = AuditEntry::new(actor, at, action, id);
    if let Some(named) = after.or(before) {
        entry = entry.labelled(named.name.as_str());
    }
    from.into_iter()
        .zip(to)
        .fold(entry, |entry, (f, t)| entry.field(f.0, f.1, t.1))
}

fn product_fields_null() -> [(&'static str, Value); 8] {
    [
        ("name", Value::Null),
        ("description", Value::Null),
        ("sku", Value::Null),
        ("price", Value::Null),
        ("stock_quantity", Value::Null),
        ("stock_buckets", Value::Null),
        ("category_id", Value::Null),
        ("is_active", Value::Null),
    ]
}

/// `product.created`: every field, from nothing.
pub fn product_created(actor: &Actor, product: &Product) -> AuditEntry {
    product_entry(
        actor,
        product.created_at,
        Action::ProductCreated,
        product.id,
        None,
        Some(product),
    )
}

/// The entry for a change from `before` to `after`, or `None` when no recorded field
/// changed. Only the stock changed: `product.stock_changed`; only taken off sale:
/// `product.deactivated`; anything else: `product.updated` with every changed field.
pub fn product_changed(actor: &Actor, before: &Product, after: &Product) -> Option<AuditEntry> {
    let entry = product_entry(
        actor,
        after.updated_at,
        Action::ProductUpdated,
        after.id,
        Some(before),
        Some(after),
    );
    let only = |field: &str| entry.changes.len() == 1 && entry.changes.contains_key(field);
    let action = if entry.changes.is_empty() {
        return None;
    } else if only("stock_quantity") {
        Action::ProductStockChanged
    } else if only("is_active") && !after.is_active {
        Action::ProductDeactivated
    } else {
        Action::ProductUpdated
    };
    Some(AuditEntry { action, ..entry })
}

/// `product.deleted`: every field, to nothing.
pub fn product_deleted(actor: &Actor, product: &Product, at: Timestamp) -> AuditEntry {
    product_entry(
        actor,
        at,
        Action::ProductDeleted,
        product.id,
        Some(product),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::test_support::{actor, change};
    use crate::category::{CategoryName, CategoryPath};
    use crate::testing::ProductBuilder;
    use crate::{CategoryId, Money};

    /// A "Phone" at 1499 with 3 in stock.
    fn product() -> Product {
        ProductBuilder::new()
            .name("Phone")
            .price("1499")
            .stock(3)
            .build()
    }

    #[test]
    fn a_stock_change_alone_is_stock_changed_with_both_quantities() {
        let before = product();
        let after = Product {
            stock_quantity: 8,
            stock_buckets: crate::stock_buckets::BucketCount::ONE,
            ..before.clone()
        };
        let entry = product_changed(&actor(), &before, &after).expect("changed");
        assert_eq!(entry.action, Action::ProductStockChanged);
        assert_eq!(
            change(&entry, "stock_quantity"),
            (Value::Number(3), Value::Number(8))
        );
        assert_eq!(entry.changes.len(), 1);
    }

    #[test]
    fn several_fields_are_an_update_listing_each_and_nothing_else() {
        let before = product();
        let after = Product {
            price: Money::parse_price("999.5").expect("price"),
            stock_quantity: 0,
            stock_buckets: crate::stock_buckets::BucketCount::ONE,
            ..before.clone()
        };
        let entry = product_changed(&actor(), &before, &after).expect("changed");
        assert_eq!(entry.action, Action::ProductUpdated);
        assert_eq!(
            change(&entry, "price"),
            (Value::Text("1499.00".into()), Value::Text("999.50".into()))
        );
        assert_eq!(entry.changes.len(), 2);
    }

    #[test]
    fn taking_a_product_off_sale_is_deactivated_and_no_change_has_no_entry() {
        let before = product();
        let after = Product {
            is_active: false,
            ..before.clone()
        };
        let entry = product_changed(&actor(), &before, &after).expect("changed");
        assert_eq!(entry.action, Action::ProductDeactivated);
        // Back on sale is an update, not a deactivation.
        let back = product_changed(&actor(), &after, &before).expect("changed");
        assert_eq!(back.action, Action::ProductUpdated);
        assert_eq!(product_changed(&actor(), &before, &before.clone()), None);
    }

    #[test]
    fn creation_and_deletion_record_every_set_field_from_or_to_nothing() {
        let p = product();
        let created = product_created(&actor(), &p);
        assert_eq!(created.action, Action::ProductCreated);
        assert_eq!(
            change(&created, "name"),
            (Value::Null, Value::Text("Phone".into()))
        );
        // Unset optional fields stay out: null to null is no change.
        assert!(!created.changes.contains_key("sku"));
        let deleted = product_deleted(&actor(), &p, p.updated_at);
        for entry in [&created, &deleted] {
            assert_eq!(entry.entity_label.as_deref(), Some("Phone"));
        }
        assert_eq!(
            change(&deleted, "stock_quantity"),
            (Value::Number(3), Value::Null)
        );
        assert_eq!(deleted.entity_id, p.id.to_string());
    }

    #[test]
    fn a_category_move_records_both_parents_and_a_rename_the_names() {
        let at = Timestamp::now();
        let (a, b, c) = (
            CategoryId::generate(),
            CategoryId::generate(),
            CategoryId::generate(),
        );
        let before = Category {
            id: c,
            name: CategoryName::parse("Phones").expect("name"),
            path: CategoryPath::root(a).child(c),
            created_at: at,
            updated_at: at,
        };
        let moved = Category {
            path: CategoryPath::root(b).child(c),
            ..before.clone()
        };
        let entry = category_changed(&actor(), &before, &moved);
        assert_eq!(entry.action, Action::CategoryMoved);
        assert_eq!(
            change(&entry, "parent_id"),
            (Value::Text(a.to_string()), Value::Text(b.to_string()))
        );
        let renamed = Category {
            name: CategoryName::parse("Mobiles").expect("name"),
            ..before.clone()
        };
        let entry = category_changed(&actor(), &before, &renamed);
        assert_eq!(entry.action, Action::CategoryRenamed);
        assert_eq!(entry.changes.keys().collect::<Vec<_>>(), ["name"]);
        assert_eq!(
            entry.entity_label.as_deref(),
            Some("Mobiles"),
            "the name it now has"
        );
        let deleted = category_deleted(&actor(), &before, at);
        assert_eq!(
            deleted.entity_label.as_deref(),
            Some("Phones"),
            "the name it had"
        );
        assert_eq!(
            change(&deleted, "parent_id"),
            (Value::Text(a.to_string()), Value::Null)
        );
    }
}
