//! The change history (audit log): one entry for every successful change that staff or a
//! customer makes through the API to a category, a product or an order, and for every move
//! of an M-Pesa payment (recorded on the order it pays, made by staff or by M-Pesa's own
//! calls) — who ([`Actor`]), when, what, and each changed field's value before and after.
//!
//! Invariants:
//! - entries are built here, from the entity as it was and as it is written, never from
//!   the request: an entry says what happened, not what was asked;
//! - a change that changes nothing has no entry ([`product_changed`] is `None`), so "one
//!   write, one entry" holds with no empty entries;
//! - stores write an entry in the same transaction as the change it describes, and never
//!   change it afterwards (it only expires, after [`Retention`]);
//! - a payment's entries hold what the API shows of it, never the payer's number or name.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::category::Category;
use crate::customer::CustomerId;
use crate::id::{InvalidId, OrderId, ulid_id};
use crate::money::Money;
use crate::order::OrderStatus;
use crate::payment::{Payment, PaymentState, ReversalState};
use crate::product::Product;
use crate::timestamp::Timestamp;

ulid_id!(
    /// Identifies a history entry. ULIDs sort by creation time, so the history reads
    /// newest first by id.
    AuditEntryId
);

/// Whose change it is: a signed-in account, or M-Pesa for its own calls (callbacks, the
/// answers to our queries) that move a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorId {
    Customer(CustomerId),
    Mpesa,
}

/// Why text is not an actor id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an actor is a customer id or `mpesa`")]
pub struct InvalidActorId;

impl ActorId {
    /// How M-Pesa is named as an actor (the API's `actor.id`, and as stored).
    pub const MPESA: &'static str = "mpesa";

    /// A customer id, or [`Self::MPESA`]: what [`Display`](fmt::Display) wrote.
    pub fn parse(s: &str) -> Result<Self, InvalidActorId> {
        if s == Self::MPESA {
            return Ok(Self::Mpesa);
        }
        s.parse().map(Self::Customer).map_err(|_| InvalidActorId)
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Customer(id) => fmt::Display::fmt(id, f),
            Self::Mpesa => f.write_str(Self::MPESA),
        }
    }
}

/// Who made a change: the signed-in account as its access token names it (id and
/// e-mail), or M-Pesa (no e-mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: ActorId,
    pub email: Option<String>,
}

impl Actor {
    /// A signed-in account.
    pub fn account(id: CustomerId, email: impl Into<String>) -> Self {
        Self {
            id: ActorId::Customer(id),
            email: Some(email.into()),
        }
    }

    /// M-Pesa, for the changes its own calls make.
    pub fn mpesa() -> Self {
        Self {
            id: ActorId::Mpesa,
            email: None,
        }
    }
}

/// The kinds of entity whose changes are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    Category,
    Product,
    Order,
}

impl EntityType {
    pub const ALL: [EntityType; 3] = [Self::Category, Self::Product, Self::Order];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Product => "product",
            Self::Order => "order",
        }
    }
}

/// Why a string is not an entity type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: category, product, order")]
pub struct UnknownEntityType;

impl FromStr for EntityType {
    type Err = UnknownEntityType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(UnknownEntityType)
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened. The names are the contract's (`category.created`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    CategoryCreated,
    CategoryRenamed,
    CategoryMoved,
    CategoryDeleted,
    ProductCreated,
    ProductUpdated,
    ProductStockChanged,
    ProductDeactivated,
    ProductDeleted,
    OrderConfirmed,
    OrderStatusChanged,
    OrderCancelled,
    PaymentReceived,
    PaymentFailed,
    PaymentAssigned,
    PaymentReversalRequested,
    PaymentReversed,
    PaymentReversalFailed,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Self::CategoryCreated,
        Self::CategoryRenamed,
        Self::CategoryMoved,
        Self::CategoryDeleted,
        Self::ProductCreated,
        Self::ProductUpdated,
        Self::ProductStockChanged,
        Self::ProductDeactivated,
        Self::ProductDeleted,
        Self::OrderConfirmed,
        Self::OrderStatusChanged,
        Self::OrderCancelled,
        Self::PaymentReceived,
        Self::PaymentFailed,
        Self::PaymentAssigned,
        Self::PaymentReversalRequested,
        Self::PaymentReversed,
        Self::PaymentReversalFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CategoryCreated => "category.created",
            Self::CategoryRenamed => "category.renamed",
            Self::CategoryMoved => "category.moved",
            Self::CategoryDeleted => "category.deleted",
            Self::ProductCreated => "product.created",
            Self::ProductUpdated => "product.updated",
            Self::ProductStockChanged => "product.stock_changed",
            Self::ProductDeactivated => "product.deactivated",
            Self::ProductDeleted => "product.deleted",
            Self::OrderConfirmed => "order.confirmed",
            Self::OrderStatusChanged => "order.status_changed",
            Self::OrderCancelled => "order.cancelled",
            Self::PaymentReceived => "payment.received",
            Self::PaymentFailed => "payment.failed",
            Self::PaymentAssigned => "payment.assigned",
            Self::PaymentReversalRequested => "payment.reversal_requested",
            Self::PaymentReversed => "payment.reversed",
            Self::PaymentReversalFailed => "payment.reversal_failed",
        }
    }

    /// The kind of entity this action changes (a payment's actions change its order: a
    /// payment is recorded on the order it pays).
    pub fn entity_type(self) -> EntityType {
        match self {
            Self::CategoryCreated
            | Self::CategoryRenamed
            | Self::CategoryMoved
            | Self::CategoryDeleted => EntityType::Category,
            Self::ProductCreated
            | Self::ProductUpdated
            | Self::ProductStockChanged
            | Self::ProductDeactivated
            | Self::ProductDeleted => EntityType::Product,
            Self::OrderConfirmed
            | Self::OrderStatusChanged
            | Self::OrderCancelled
            | Self::PaymentReceived
            | Self::PaymentFailed
            | Self::PaymentAssigned
            | Self::PaymentReversalRequested
            | Self::PaymentReversed
            | Self::PaymentReversalFailed => EntityType::Order,
        }
    }
}

/// Why a string is not an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown history action")]
pub struct UnknownAction;

impl FromStr for Action {
    type Err = UnknownAction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(UnknownAction)
    }
}

/// A field's value as the history shows it: what the API shows for that field (money as
/// its two-decimal string, ids as strings, stock as a number), or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Text(String),
    Number(i64),
    Bool(bool),
}

impl Value {
    fn text(s: impl ToString) -> Self {
        Self::Text(s.to_string())
    }

    fn optional(s: Option<impl ToString>) -> Self {
        s.map_or(Self::Null, Self::text)
    }
}

/// One field's value before and after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub from: Value,
    pub to: Value,
}

/// The changed fields of an entry, by field name.
pub type Changes = BTreeMap<String, FieldChange>;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: Action,
    /// The id of the changed entity (of the kind `action.entity_type()`).
    pub entity_id: String,
    pub changes: Changes,
}

impl AuditEntry {
    fn new(actor: &Actor, at: Timestamp, action: Action, entity_id: impl ToString) -> Self {
        Self {
            id: AuditEntryId::generate(),
            at,
            actor: actor.clone(),
            action,
            entity_id: entity_id.to_string(),
            changes: Changes::new(),
        }
    }

    pub fn entity_type(&self) -> EntityType {
        self.action.entity_type()
    }

    /// Records `field` going from `from` to `to`, unless they are equal.
    fn field(mut self, field: &str, from: Value, to: Value) -> Self {
        if from != to {
            self.changes
                .insert(field.to_owned(), FieldChange { from, to });
        }
        self
    }
}

/// How long entries are kept before DynamoDB's TTL removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    days: u32,
}

/// Why a number of days is not a retention.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number of days from 1 to {}", Retention::MAX_DAYS)]
pub struct InvalidRetention;

impl Retention {
    /// Ten years: longer is a mistake in the configuration, not a policy.
    pub const MAX_DAYS: u32 = 3650;
    /// The default: 400 days, a year of history with a month to spare.
    pub const DEFAULT: Retention = Retention { days: 400 };

    pub fn days(days: u32) -> Result<Self, InvalidRetention> {
        (1..=Self::MAX_DAYS)
            .contains(&days)
            .then_some(Self { days })
            .ok_or(InvalidRetention)
    }

    /// When an entry made `at` expires, in seconds since the Unix epoch.
    pub fn expires_at(&self, at: Timestamp) -> i64 {
        at.unix_seconds() + i64::from(self.days) * 86_400
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self::DEFAULT
    }
}

// --- Categories ------------------------------------------------------------------------

/// `category.created`: its name and parent, from nothing.
pub fn category_created(actor: &Actor, category: &Category) -> AuditEntry {
    AuditEntry::new(
        actor,
        category.created_at,
        Action::CategoryCreated,
        category.id,
    )
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
    from.into_iter()
        .zip(to)
        .fold(AuditEntry::new(actor, at, action, id), |entry, (f, t)| {
            entry.field(f.0, f.1, t.1)
        })
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

// --- Orders ----------------------------------------------------------------------------

/// An order's status going from `from` to `to` at `at`: `order.confirmed` and
/// `order.cancelled` for those two targets, `order.status_changed` otherwise.
pub fn order_status_changed(
    actor: &Actor,
    order: OrderId,
    from: OrderStatus,
    to: OrderStatus,
    at: Timestamp,
) -> AuditEntry {
    let action = match to {
        OrderStatus::Confirmed => Action::OrderConfirmed,
        OrderStatus::Cancelled => Action::OrderCancelled,
        _ => Action::OrderStatusChanged,
    };
    AuditEntry::new(actor, at, action, order).field(
        "status",
        Value::text(from.as_str()),
        Value::text(to.as_str()),
    )
}

// --- Payments --------------------------------------------------------------------------
//
// A payment is recorded on the order it pays (entity `order`). Every entry names its payment
// (`payment_id`, from null) and holds only what the API shows of a payment: never the
// payer's number or name, nor what they typed as the account number.

/// An entry about `payment` on `order`, naming the payment.
fn payment_entry(
    actor: &Actor,
    at: Timestamp,
    action: Action,
    order: OrderId,
    payment: &Payment,
) -> AuditEntry {
    AuditEntry::new(actor, at, action, order).field(
        "payment_id",
        Value::Null,
        Value::text(payment.id),
    )
}

impl AuditEntry {
    /// The money a payment brings to an order: its method, amount and receipt, from null.
    fn payment_money(self, payment: &Payment) -> Self {
        self.field(
            "payment_method",
            Value::Null,
            Value::text(payment.method.as_str()),
        )
        .field("payment_amount", Value::Null, Value::text(payment.amount))
        .field(
            "receipt",
            Value::Null,
            Value::optional(payment.receipt.as_ref()),
        )
    }

    /// The order's `amount_paid` before and after.
    fn amount_paid(self, before: Money, after: Money) -> Self {
        self.field("amount_paid", Value::text(before), Value::text(after))
    }
}

fn reversal_state(payment: &Payment) -> Value {
    Value::optional(payment.reversal.as_ref().map(|r| r.state.as_str()))
}

fn reversal_result_code(payment: &Payment) -> Value {
    Value::optional(
        payment
            .reversal
            .as_ref()
            .and_then(|r| r.result_code.as_deref()),
    )
}

/// `payment.received`: M-Pesa confirmed `payment`'s money for `order` (a confirmed prompt,
/// or a Paybill payment that named the order). The payment (`payment_id`,
/// `payment_method`, `payment_amount`, and `receipt` once it has one, from null) and the
/// order's `amount_paid` before and after. A payment that confirms the order also records
/// [`order_status_changed`].
pub fn payment_received(
    actor: &Actor,
    order: OrderId,
    payment: &Payment,
    amount_paid_before: Money,
    amount_paid_after: Money,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentReceived, order, payment)
        .payment_money(payment)
        .amount_paid(amount_paid_before, amount_paid_after)
}

/// `payment.failed`: a prompt refused, cancelled or unanswered. `payment_state` pending →
/// failed and M-Pesa's `result_code` (from null; a prompt failed by the 10-minute rule has
/// none).
pub fn payment_failed(
    actor: &Actor,
    order: OrderId,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentFailed, order, payment)
        .field(
            "payment_state",
            Value::text(PaymentState::Pending.as_str()),
            Value::text(payment.state.as_str()),
        )
        .field(
            "result_code",
            Value::Null,
            Value::optional(payment.result.as_ref().and_then(|r| r.code.as_deref())),
        )
}

/// `payment.assigned`: staff put an unmatched payment on `order`. The payment
/// (`payment_id`, `payment_method`, `payment_amount`, `receipt`, from null).
pub fn payment_assigned(
    actor: &Actor,
    order: OrderId,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentAssigned, order, payment).payment_money(payment)
}

/// `payment.reversal_requested`: `reversal_state` to `requested`, from null (or from
/// `failed` when a failed reversal is requested again).
pub fn payment_reversal_requested(
    actor: &Actor,
    order: OrderId,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    let retried = payment.reversal.as_ref().is_some_and(|r| r.attempts > 1);
    let before = if retried {
        Value::text(ReversalState::Failed.as_str())
    } else {
        Value::Null
    };
    payment_entry(actor, at, Action::PaymentReversalRequested, order, payment).field(
        "reversal_state",
        before,
        reversal_state(payment),
    )
}

/// `payment.reversed`: M-Pesa gave the money back. `payment_state` succeeded → reversed,
/// `reversal_state` requested → reversed, M-Pesa's `result_code` (from null: `0`, or
/// `R000001` when it was already reversed) and the order's `amount_paid` before and after.
pub fn payment_reversed(
    actor: &Actor,
    order: OrderId,
    payment: &Payment,
    paid_before: Money,
    paid_after: Money,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentReversed, order, payment)
        .field(
            "payment_state",
            Value::text(PaymentState::Succeeded.as_str()),
            Value::text(payment.state.as_str()),
        )
        .field(
            "reversal_state",
            Value::text(ReversalState::Requested.as_str()),
            reversal_state(payment),
        )
        .field("result_code", Value::Null, reversal_result_code(payment))
        .amount_paid(paid_before, paid_after)
}

/// `payment.reversal_failed`: M-Pesa refused the reversal or never answered; the money is
/// still the shop's. `reversal_state` requested → failed and M-Pesa's `result_code` (from
/// null; none on a timeout).
pub fn payment_reversal_failed(
    actor: &Actor,
    order: OrderId,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentReversalFailed, order, payment)
        .field(
            "reversal_state",
            Value::text(ReversalState::Requested.as_str()),
            reversal_state(payment),
        )
        .field("result_code", Value::Null, reversal_result_code(payment))
}

/// Which entries a history listing covers, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditListing {
    /// The whole shop's history.
    All,
    /// One entity's history.
    Entity(EntityType, String),
}

/// Why the history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error("storage failed")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("storage is unavailable (unreachable, timed out or throttled); retry later")]
    StorageUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Reading the history (entries are written by the stores of what they describe).
pub trait AuditLog: Send + Sync {
    fn audit_entries(
        &self,
        listing: AuditListing,
        page: crate::PageRequest,
    ) -> impl std::future::Future<Output = Result<crate::Page<AuditEntry>, AuditError>> + Send;
}

/// Parses an entity id of `kind`: a canonical id of that kind.
pub fn parse_entity_id(kind: EntityType, raw: &str) -> Result<String, InvalidId> {
    let id = match kind {
        EntityType::Category => raw.parse::<crate::CategoryId>()?.to_string(),
        EntityType::Product => raw.parse::<crate::ProductId>()?.to_string(),
        EntityType::Order => raw.parse::<OrderId>()?.to_string(),
    };
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::{CategoryName, CategoryPath};
    use crate::payment::{PaymentId, PromptOutcome, Receipt, ReversalOutcome};
    use crate::product::ProductName;
    use crate::{CategoryId, ProductId};

    fn actor() -> Actor {
        Actor::account(
            "01J0000000000000000000000C".parse().expect("id"),
            "admin@example.com",
        )
    }

    fn product() -> Product {
        let at = Timestamp::parse("2026-12-01T10:00:00.000Z").expect("at");
        Product {
            id: ProductId::generate(),
            name: ProductName::parse("Phone").expect("name"),
            description: None,
            sku: None,
            price: Money::parse_price("1499").expect("price"),
            stock_quantity: 3,
            stock_buckets: crate::stock_buckets::BucketCount::ONE,
            category_path: CategoryPath::root(CategoryId::generate()),
            is_active: true,
            created_at: at,
            updated_at: at,
        }
    }

    fn change(entry: &AuditEntry, field: &str) -> (Value, Value) {
        let c = &entry.changes[field];
        (c.from.clone(), c.to.clone())
    }

    #[test]
    fn action_names_are_the_contracts_and_parse_back() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>(), Ok(action));
            // A payment is recorded on its order.
            let (kind, _) = action.as_str().split_once('.').expect("kind.verb");
            let kind = if kind == "payment" { "order" } else { kind };
            assert_eq!(action.entity_type().as_str(), kind, "{}", action.as_str());
        }
        assert_eq!(
            "payment.reversal_requested".parse::<Action>(),
            Ok(Action::PaymentReversalRequested)
        );
        assert_eq!("order.shipped".parse::<Action>(), Err(UnknownAction));
        assert_eq!("customer".parse::<EntityType>(), Err(UnknownEntityType));
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
        let deleted = category_deleted(&actor(), &before, at);
        assert_eq!(
            change(&deleted, "parent_id"),
            (Value::Text(a.to_string()), Value::Null)
        );
    }

    #[test]
    fn order_actions_follow_the_target_status() {
        let id = OrderId::generate();
        let at = Timestamp::now();
        let entry = |from, to| order_status_changed(&actor(), id, from, to, at).action;
        use OrderStatus::*;
        assert_eq!(entry(Pending, Confirmed), Action::OrderConfirmed);
        assert_eq!(entry(Confirmed, Cancelled), Action::OrderCancelled);
        assert_eq!(entry(Shipped, Delivered), Action::OrderStatusChanged);
    }

    #[test]
    fn an_actor_is_an_account_or_mpesa_and_its_id_reads_back() {
        let account = actor();
        assert_eq!(account.email.as_deref(), Some("admin@example.com"));
        let shown = account.id.to_string();
        assert_eq!(shown, "01J0000000000000000000000C");
        assert_eq!(ActorId::parse(&shown), Ok(account.id));
        let mpesa = Actor::mpesa();
        assert_eq!(
            (mpesa.id.to_string().as_str(), mpesa.email),
            ("mpesa", None)
        );
        assert_eq!(ActorId::parse("mpesa"), Ok(ActorId::Mpesa));
        for bad in [
            "",
            "MPESA",
            "m-pesa",
            "admin@example.com",
            "01J0000000000000000000000",
        ] {
            assert_eq!(ActorId::parse(bad), Err(InvalidActorId), "{bad:?}");
        }
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("timestamp")
    }

    fn shillings(n: u32) -> Money {
        Money::from_whole_shillings(n)
    }

    fn receipt() -> Receipt {
        Receipt::parse("SLJ7RT61SV").expect("receipt")
    }

    /// A prompt for 1161 to a phone number.
    fn prompt(order: OrderId) -> Payment {
        Payment::prompt(
            PaymentId::generate(),
            order,
            shillings(1161),
            "+254712345678".into(),
            at("2026-12-06T10:00:00Z"),
        )
    }

    /// A Paybill payment of 500 with the payer's (masked) number, name and account text.
    fn paybill(order: OrderId) -> Payment {
        Payment::paybill(
            PaymentId::generate(),
            Some(order),
            shillings(500),
            receipt(),
            Some("2547 ***** 678".into()),
            Some("Wanjiru Kamau".into()),
            "ORD 1042 Wanjiru".into(),
            at("2026-12-06T10:00:00Z"),
        )
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn fields(entry: &AuditEntry) -> Vec<&str> {
        entry.changes.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_received_payment_names_itself_and_moves_amount_paid_on_its_order() {
        let order = OrderId::generate();
        let t = at("2026-12-06T10:00:09Z");
        let mut payment = prompt(order);
        payment.attach_receipt(receipt(), t);
        payment.settle(&PromptOutcome::Confirmed, t);
        let entry = payment_received(
            &Actor::mpesa(),
            order,
            &payment,
            shillings(0),
            shillings(1161),
            t,
        );
        assert_eq!(entry.action, Action::PaymentReceived);
        assert_eq!(
            (entry.entity_type(), entry.entity_id.clone()),
            (EntityType::Order, order.to_string())
        );
        assert_eq!((entry.actor.clone(), entry.at), (Actor::mpesa(), t));
        assert_eq!(
            fields(&entry),
            [
                "amount_paid",
                "payment_amount",
                "payment_id",
                "payment_method",
                "receipt"
            ]
        );
        assert_eq!(
            change(&entry, "payment_id"),
            (Value::Null, Value::Text(payment.id.to_string()))
        );
        assert_eq!(
            change(&entry, "payment_amount"),
            (Value::Null, text("1161.00"))
        );
        assert_eq!(
            change(&entry, "payment_method"),
            (Value::Null, text("mpesa_prompt"))
        );
        assert_eq!(change(&entry, "receipt"), (Value::Null, text("SLJ7RT61SV")));
        assert_eq!(
            change(&entry, "amount_paid"),
            (text("0.00"), text("1161.00"))
        );

        // A confirmed prompt whose receipt has not come yet records none.
        let mut no_receipt = prompt(order);
        no_receipt.settle(&PromptOutcome::Confirmed, t);
        let entry = payment_received(
            &Actor::mpesa(),
            order,
            &no_receipt,
            shillings(500),
            shillings(1661),
            t,
        );
        assert!(!entry.changes.contains_key("receipt"));
        assert_eq!(
            change(&entry, "amount_paid"),
            (text("500.00"), text("1661.00"))
        );
    }

    #[test]
    fn a_failed_prompt_records_its_state_and_mpesas_code_if_any() {
        let order = OrderId::generate();
        let t = at("2026-12-06T10:00:30Z");
        let mut refused = prompt(order);
        refused.settle(
            &PromptOutcome::Refused {
                code: "1032".into(),
                description: "Request cancelled by user".into(),
            },
            t,
        );
        let entry = payment_failed(&Actor::mpesa(), order, &refused, t);
        assert_eq!(entry.action, Action::PaymentFailed);
        assert_eq!(entry.entity_id, order.to_string());
        assert_eq!(
            fields(&entry),
            ["payment_id", "payment_state", "result_code"]
        );
        assert_eq!(
            change(&entry, "payment_state"),
            (text("pending"), text("failed"))
        );
        assert_eq!(change(&entry, "result_code"), (Value::Null, text("1032")));

        // Failed by the 10-minute rule: M-Pesa gave no code.
        let mut silent = prompt(order);
        silent.settle(&PromptOutcome::NoAnswer, t);
        let entry = payment_failed(&Actor::mpesa(), order, &silent, t);
        assert_eq!(fields(&entry), ["payment_id", "payment_state"]);
    }

    #[test]
    fn an_assigned_payment_records_the_money_it_brings() {
        let order = OrderId::generate();
        let t = at("2026-12-06T12:00:00Z");
        let payment = Payment {
            order_id: None,
            ..paybill(order)
        };
        let entry = payment_assigned(&actor(), order, &payment, t);
        assert_eq!(entry.action, Action::PaymentAssigned);
        assert_eq!(
            (entry.entity_type(), entry.entity_id.clone()),
            (EntityType::Order, order.to_string())
        );
        assert_eq!(entry.actor, actor());
        assert_eq!(
            fields(&entry),
            ["payment_amount", "payment_id", "payment_method", "receipt"]
        );
        assert_eq!(
            change(&entry, "payment_method"),
            (Value::Null, text("mpesa_paybill"))
        );
        assert_eq!(
            change(&entry, "payment_amount"),
            (Value::Null, text("500.00"))
        );
    }

    #[test]
    fn a_reversal_records_its_state_mpesas_code_and_the_money_that_went_back() {
        let order = OrderId::generate();
        let t = at("2026-12-06T13:00:00Z");
        let mut payment = paybill(order);

        payment.request_reversal(t).expect("requested");
        let requested = payment_reversal_requested(&actor(), order, &payment, t);
        assert_eq!(requested.action, Action::PaymentReversalRequested);
        assert_eq!(fields(&requested), ["payment_id", "reversal_state"]);
        assert_eq!(
            change(&requested, "reversal_state"),
            (Value::Null, text("requested"))
        );

        let refused = ReversalOutcome::Failed {
            code: Some("R000002".into()),
        };
        payment.settle_reversal(&refused, t);
        let failed = payment_reversal_failed(&Actor::mpesa(), order, &payment, t);
        assert_eq!(failed.action, Action::PaymentReversalFailed);
        assert_eq!(
            change(&failed, "reversal_state"),
            (text("requested"), text("failed"))
        );
        assert_eq!(
            change(&failed, "result_code"),
            (Value::Null, text("R000002"))
        );

        // Requested again after the failure.
        payment.request_reversal(t).expect("requested again");
        let again = payment_reversal_requested(&actor(), order, &payment, t);
        assert_eq!(
            change(&again, "reversal_state"),
            (text("failed"), text("requested"))
        );

        payment.settle_reversal(&ReversalOutcome::AlreadyReversed, t);
        let reversed = payment_reversed(
            &Actor::mpesa(),
            order,
            &payment,
            shillings(500),
            shillings(0),
            t,
        );
        assert_eq!(reversed.action, Action::PaymentReversed);
        assert_eq!(
            fields(&reversed),
            [
                "amount_paid",
                "payment_id",
                "payment_state",
                "result_code",
                "reversal_state"
            ]
        );
        assert_eq!(
            change(&reversed, "payment_state"),
            (text("succeeded"), text("reversed"))
        );
        assert_eq!(
            change(&reversed, "reversal_state"),
            (text("requested"), text("reversed"))
        );
        assert_eq!(
            change(&reversed, "result_code"),
            (Value::Null, text("R000001"))
        );
        assert_eq!(
            change(&reversed, "amount_paid"),
            (text("500.00"), text("0.00"))
        );

        // A reversal that timed out has no code.
        let mut timed_out = paybill(order);
        timed_out.request_reversal(t).expect("requested");
        timed_out.settle_reversal(&ReversalOutcome::Failed { code: None }, t);
        let failed = payment_reversal_failed(&Actor::mpesa(), order, &timed_out, t);
        assert_eq!(fields(&failed), ["payment_id", "reversal_state"]);
    }

    #[test]
    fn no_payment_entry_holds_the_payers_number_name_or_account_text() {
        let order = OrderId::generate();
        let t = at("2026-12-06T13:00:00Z");
        let mut payment = paybill(order);
        payment.phone_number = Some("+254712345678".into());
        let mut reversing = payment.clone();
        reversing.request_reversal(t).expect("requested");
        let entries = [
            payment_received(&actor(), order, &payment, shillings(0), shillings(500), t),
            payment_failed(&actor(), order, &payment, t),
            payment_assigned(&actor(), order, &payment, t),
            payment_reversal_requested(&actor(), order, &reversing, t),
            payment_reversed(&actor(), order, &reversing, shillings(500), shillings(0), t),
            payment_reversal_failed(&actor(), order, &reversing, t),
        ];
        for entry in &entries {
            for (field, c) in &entry.changes {
                for value in [&c.from, &c.to] {
                    let Value::Text(shown) = value else { continue };
                    for personal in ["712345678", "Wanjiru", "ORD 1042"] {
                        assert!(
                            !shown.contains(personal),
                            "{} {field}: {shown}",
                            entry.action.as_str()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn retention_is_bounded_and_sets_the_expiry() {
        assert_eq!(Retention::days(0), Err(InvalidRetention));
        assert_eq!(Retention::days(3651), Err(InvalidRetention));
        let at = Timestamp::parse("2026-12-01T00:00:00.000Z").expect("at");
        assert_eq!(
            Retention::DEFAULT.expires_at(at),
            at.unix_seconds() + 400 * 86_400
        );
    }
}
