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
//! - a payment's entries hold what the API shows of it, never the payer's number or name;
//! - an entry carries its entity's label as it was (a name, an order number), so staff
//!   read a name even after the entity was renamed or deleted.
//!
//! Each entity's module builds its entries from these: [`crate::catalog_history`] the
//! categories' and products', [`crate::order::history`] the orders' (status, payments).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::customer::CustomerId;
use crate::id::{InvalidId, OrderId, ulid_id};
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
    pub(crate) fn text(s: impl ToString) -> Self {
        Self::Text(s.to_string())
    }

    pub(crate) fn optional(s: Option<impl ToString>) -> Self {
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
    /// What staff read for the entity, as it was at the time: a category's or product's
    /// name, an order's number (none on entries recorded before labels existed).
    pub entity_label: Option<String>,
    pub changes: Changes,
}

impl AuditEntry {
    pub(crate) fn new(
        actor: &Actor,
        at: Timestamp,
        action: Action,
        entity_id: impl ToString,
    ) -> Self {
        Self {
            id: AuditEntryId::generate(),
            at,
            actor: actor.clone(),
            action,
            entity_id: entity_id.to_string(),
            entity_label: None,
            changes: Changes::new(),
        }
    }

    /// The same entry, labelled `label` (what staff read for its entity).
    pub(crate) fn labelled(self, label: impl Into<String>) -> Self {
        Self {
            entity_label: Some(label.into()),
            ..self
        }
    }

    pub fn entity_type(&self) -> EntityType {
        self.action.entity_type()
    }

    /// Records `field` going from `from` to `to`, unless they are equal.
    pub(crate) fn field(mut self, field: &str, from: Value, to: Value) -> Self {
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
    /// Storage failed, or is unavailable for now (a 503 to retry).
    #[error(transparent)]
    Storage(#[from] crate::error::StorageFailure),
}

/// Reading the history (entries are written by the stores of what they describe).
pub trait AuditLog: Send + Sync {
    fn audit_entries(
        &self,
        listing: AuditListing,
        page: crate::page::PageRequest,
    ) -> impl std::future::Future<Output = Result<crate::page::Page<AuditEntry>, AuditError>> + Send;
}

/// Parses an entity id of `kind`: a canonical id of that kind.
pub fn parse_entity_id(kind: EntityType, raw: &str) -> Result<String, InvalidId> {
    let id = match kind {
        EntityType::Category => raw.parse::<crate::id::CategoryId>()?.to_string(),
        EntityType::Product => raw.parse::<crate::id::ProductId>()?.to_string(),
        EntityType::Order => raw.parse::<OrderId>()?.to_string(),
    };
    Ok(id)
}

/// What the tests of entries share: an admin, and a field's change.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{Actor, AuditEntry, Value};

    pub(crate) fn actor() -> Actor {
        Actor::account(
            "01J0000000000000000000000C".parse().expect("id"),
            "admin@example.com",
        )
    }

    pub(crate) fn change(entry: &AuditEntry, field: &str) -> (Value, Value) {
        let c = &entry.changes[field];
        (c.from.clone(), c.to.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::actor;
    use super::*;

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
