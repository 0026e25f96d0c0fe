//! The ports of the orders service: storage of orders (DynamoDB in production) and the
//! notifications queue (SQS). Their adapters live in the `storage` and `queue` crates.

use std::error::Error as StdError;
use std::future::Future;

use crate::customer::{Customer, CustomerId, EmailKey};
use crate::error::{StorageFailure, ValidationErrors};
use crate::id::{OrderId, ProductId};
use crate::order::Order;
use crate::order::request::{Fingerprint, IdempotencyKey};
use crate::order::status::{IllegalTransition, OrderStatus, StatusChangeError};
use crate::page::{Page, PageRequest};
use crate::product::Product;
use crate::stock_buckets::{Buckets, Portion};
use crate::timestamp::Timestamp;

/// A line that cannot be served from stock (or whose product is no longer sold:
/// `available` is then 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub product_id: ProductId,
    pub requested: u32,
    pub available: u32,
}

/// Why an orders operation did not happen. Every variant but `Storage` is the client's
/// business.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("order not found")]
    NotFound,
    /// The request names products that do not exist (field errors per line).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Some lines cannot be served from stock (a 409 listing them as `unavailable`).
    #[error("some items are not available in the requested quantity")]
    OutOfStock(Vec<Unavailable>),
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error(transparent)]
    NotPermitted(#[from] StatusChangeError),
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("the products changed while the order was placed; retry it")]
    ConcurrentChange,
    /// The order's stock is spread over more buckets than one transaction can write
    /// ([`crate::order::MAX_STOCK_PORTIONS`]): fewer lines or units at once will go.
    #[error(
        "this order needs stock from {portions} places, more than one order can take from \
         ({max}); order fewer lines or units at once"
    )]
    StockTooScattered { portions: usize, max: usize },
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    /// Storage failed, or is unavailable for now (a 503 to retry).
    #[error(transparent)]
    Storage(#[from] StorageFailure),
}

/// Why the transaction that places an order did not commit.
#[derive(Debug, thiserror::Error)]
pub enum PlaceFailure {
    /// A product's stock, price or active flag is not what the order was priced on.
    #[error("a product changed since it was read")]
    ProductsChanged,
    /// Another order's transaction was writing some of the same stock at that moment
    /// (DynamoDB's `TransactionConflict`): nothing was written.
    #[error("another order was taking the same stock")]
    Contended,
    /// Another order already has this order number.
    #[error("order number taken")]
    OrderNumberTaken,
    /// The idempotency key is held by an earlier, unexpired request.
    #[error("idempotency key taken")]
    IdempotencyKeyTaken,
    #[error(transparent)]
    Other(#[from] OrderError),
}

/// The first response to a request with an `Idempotency-Key`, kept for 24 hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub customer_id: CustomerId,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    /// The order as the first request returned it.
    pub order: Order,
    pub expires_at: Timestamp,
}

/// A change of an order's status, authorized and computed by the service, that storage
/// applies only if the order is still in status `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub order_id: OrderId,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub at: Timestamp,
    /// The change's history entry, written in the same transaction.
    pub history: crate::audit::AuditEntry,
    /// Stock to give back, in the same transaction (a cancellation).
    pub restock: Vec<Restock>,
    /// What becomes of the order's hand-off to the notifier.
    pub hand_off: HandOffChange,
    /// What the order's payments look like after the change, for the lists
    /// (`?payment_status=`, the open payments).
    pub marks: crate::order::payments::PaymentMarks,
    /// The order's payments version the change was decided on: a status change holds only
    /// while no payment was written since (a payment racing a cancellation is never left
    /// without its refund).
    pub payments_version: u64,
    /// The order's payments after the change, when it changes them (a cancellation
    /// requests the reversal of the money on the order), with their history entries.
    pub payments: Option<PaymentsAfter>,
    /// The text the customer is owed for it (shipped, delivered, cancelled), recorded on
    /// the order in the same write.
    pub message: Option<crate::order::customer_message::CustomerMessage>,
}

/// Units of one product a cancellation gives back, bucket by bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restock {
    pub product_id: ProductId,
    /// Into the buckets the order took them from.
    pub portions: Vec<Portion>,
}

/// A product as placing an order reads it: with what each of its stock buckets holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockedProduct {
    pub product: Product,
    /// Their sum is `product.stock_quantity`.
    pub buckets: Buckets,
}

/// An order's payments as a change leaves them, and the history entries of what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentsAfter {
    pub payments: Vec<crate::payment::Payment>,
    pub history: Vec<crate::audit::AuditEntry>,
}

/// What a status change does to an order's hand-off to the notifier (the mark the
/// reconciler re-sends confirmations by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOffChange {
    /// Mark the order for hand-off, due at this time (a confirmation).
    Mark(Timestamp),
    /// Clear the mark (a cancellation: nothing left to notify).
    Clear,
    /// Leave the mark as it is.
    Keep,
}

impl HandOffChange {
    /// The order's hand-off due time after the change, given the one before.
    pub fn applied_to(self, due: Option<Timestamp>) -> Option<Timestamp> {
        match self {
            HandOffChange::Mark(at) => Some(at),
            HandOffChange::Clear => None,
            HandOffChange::Keep => due,
        }
    }
}

/// Which orders a list shows, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderListing {
    /// One customer's orders, optionally only those in one status.
    Customer(CustomerId, Option<OrderStatus>),
    /// Every order in one status.
    Status(OrderStatus),
    /// Every order with a notification channel (SMS or email) `failed`.
    NotificationFailed,
    /// Every order whose payments add up to this `payment_status`.
    PaymentStatus(crate::order::payments::PaymentStatus),
    /// Every order.
    All,
}

impl OrderListing {
    /// The list's kind, for logs: `customer`, `status`, `notification_failed` or `all`.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderListing::Customer(..) => "customer",
            OrderListing::Status(_) => "status",
            OrderListing::NotificationFailed => "notification_failed",
            OrderListing::PaymentStatus(_) => "payment_status",
            OrderListing::All => "all",
        }
    }

    /// The customer whose orders it lists, if it lists one customer's.
    pub fn customer(&self) -> Option<CustomerId> {
        match self {
            OrderListing::Customer(customer, _) => Some(*customer),
            _ => None,
        }
    }
}

/// A confirmed order whose hand-off to the notifier has not been acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingHandOff {
    pub order_id: OrderId,
    pub due: Timestamp,
    /// Re-sends so far.
    pub resends: u32,
}

/// Storage of orders.
pub trait OrderStore: Send + Sync {
    /// The products (those that exist) with their stock buckets and, when `key` is given,
    /// the customer's unexpired idempotency record for it: one read.
    #[allow(clippy::type_complexity)]
    fn load_for_order(
        &self,
        products: &[ProductId],
        key: Option<(CustomerId, &IdempotencyKey)>,
        now: Timestamp,
    ) -> impl Future<Output = Result<(Vec<StockedProduct>, Option<IdempotencyRecord>), OrderError>> + Send;

    /// The customer's unexpired idempotency record for `key`.
    fn idempotency_record(
        &self,
        customer: CustomerId,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, OrderError>> + Send;

    /// Writes `order` and decrements the stock of every line, in one transaction that
    /// holds only if every product is active, priced as in the order and has the stock;
    /// with the idempotency record when given. Nothing is written on failure.
    fn place(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), PlaceFailure>> + Send;

    /// Waits before an order that lost `times` races for the same stock bucket to other
    /// orders' transactions ([`PlaceFailure::Contended`]) draws its buckets again and
    /// tries once more: storage's backoff (jittered, growing with `times`).
    fn hold_off(&self, times: u32) -> impl Future<Output = ()> + Send;

    fn order(&self, id: OrderId) -> impl Future<Output = Result<Option<Order>, OrderError>> + Send;

    /// Applies `change` if the order is still in `change.from` (else
    /// [`OrderError::ConcurrentChange`]), restocking and recording its history entry in
    /// the same transaction.
    fn change_status(
        &self,
        change: &StatusChange,
    ) -> impl Future<Output = Result<(), OrderError>> + Send;

    fn list_orders(
        &self,
        listing: OrderListing,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Order>, OrderError>> + Send;

    /// The customers among `ids` that exist (staff's order lists show their names and
    /// e-mails): one batched read.
    fn customers(
        &self,
        ids: &[CustomerId],
    ) -> impl Future<Output = Result<Vec<Customer>, OrderError>> + Send;

    /// The customer who holds `email` now (the newest, should an address have passed from
    /// one account to another), if any.
    fn customer_with_email(
        &self,
        email: &EmailKey,
    ) -> impl Future<Output = Result<Option<CustomerId>, OrderError>> + Send;

    /// Hand-offs due at or before `now`, oldest first, at most `limit`.
    fn due_hand_offs(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PendingHandOff>, OrderError>> + Send;

    /// Records a re-send: the hand-off is next due at `next_due`. Does nothing if the
    /// notifier has acknowledged the order meanwhile.
    fn reschedule_hand_off(
        &self,
        order_id: OrderId,
        next_due: Timestamp,
        resends: u32,
    ) -> impl Future<Output = Result<(), OrderError>> + Send;
}

/// Why a message did not reach the queue.
#[derive(Debug, thiserror::Error)]
#[error("the notifications queue refused the message")]
pub struct QueueError(#[source] pub Box<dyn StdError + Send + Sync>);

/// The notifications queue.
pub trait NotificationQueue: Send + Sync {
    /// Sends `{"order_id": ..., "event": "order.confirmed"}`.
    fn order_confirmed(
        &self,
        order: OrderId,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Sends `{"order_id": ..., "event": <event>}`: something was recorded on the order
    /// that the notifier has to tell (`order.shipped`, `payment.received`, …; the
    /// reconciler's re-sends say `order.notify`).
    fn order_event(
        &self,
        order: OrderId,
        event: &'static str,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}
