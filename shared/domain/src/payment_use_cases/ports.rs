//! The ports of the payments service: storage of payments beside their order (DynamoDB in
//! production) and M-Pesa itself (Daraja). Their adapters live in the `storage` and
//! `mpesa` crates.
//!
//! Invariants:
//! - Every change to an order's payments is one [`PaymentWrite`], applied atomically and
//!   only while the order's payments are still at the version they were read at
//!   ([`PaymentWrite::expected_version`]): two writers that read the same state (a
//!   callback racing the reconciler's query, two `POST /pay`) cannot both apply.
//! - A receipt or a `CheckoutRequestID` is claimed by one payment for good
//!   ([`Claim`]): a second claim of either makes the whole write fail with
//!   [`WriteFailure::ReceiptTaken`] / [`WriteFailure::CheckoutTaken`] and nothing of it is
//!   written, so one receipt never counts twice, whichever way it arrived.

use std::future::Future;

use crate::audit::AuditEntry;
use crate::error::StorageFailure;
use crate::id::OrderId;
use crate::money::Money;
use crate::order::{Order, OrderStatus, StatusChange};
use crate::timestamp::Timestamp;

use crate::payment::record::{Payment, PaymentId, Receipt};

/// Why a payments operation did not happen. Every variant but `Storage` is the caller's
/// business.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("order not found")]
    OrderNotFound,
    #[error("payment not found")]
    PaymentNotFound,
    /// Staff named an order that does not exist (assigning a payment to it).
    #[error("no order has that id")]
    TargetOrderNotFound,
    #[error(transparent)]
    NotPayable(#[from] crate::order::payments::NotPayable),
    #[error("the order has no phone number to prompt, and none was given")]
    NoPhoneNumber,
    #[error("M-Pesa refused the prompt: {0}")]
    PromptRefused(String),
    #[error("M-Pesa did not answer; the payment stays pending until M-Pesa settles it")]
    MpesaNoAnswer,
    #[error("the payment is already assigned to an order")]
    AlreadyAssigned,
    #[error("the order's payments changed meanwhile; retry")]
    ConcurrentChange,
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error(transparent)]
    Storage(#[from] StorageFailure),
}

/// A uniqueness claim a write takes: the item must not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A prompt's `CheckoutRequestID`, leading callbacks to its order and payment.
    Checkout {
        checkout_request_id: String,
        order_id: OrderId,
        payment_id: PaymentId,
    },
    /// An M-Pesa receipt, counted once for ever (`order_id` `None`: unmatched).
    Receipt {
        receipt: Receipt,
        order_id: Option<OrderId>,
        payment_id: PaymentId,
    },
    /// A reversal's `ConversationID`, leading its result to its order and payment.
    Reversal {
        conversation_id: String,
        order_id: OrderId,
        payment_id: PaymentId,
    },
}

/// One atomic change of an order's payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentWrite {
    pub order_id: OrderId,
    /// The version the payments were read at; the write holds only while it is current.
    pub expected_version: u64,
    /// The order's status when it was read; the write holds only while it is current (a
    /// payment racing a cancellation is decided again on the cancelled order).
    pub expected_status: OrderStatus,
    /// Every payment of the order, oldest first, as they are after the write.
    pub payments_after: Vec<Payment>,
    /// What they look like for the lists (`?payment_status=`, the open payments).
    pub marks: crate::order::payments::PaymentMarks,
    /// The order's confirmation, when this write makes a `PENDING` order fully paid.
    pub confirmation: Option<StatusChange>,
    /// History entries of the write (payments and, with a confirmation, its entry).
    pub history: Vec<AuditEntry>,
    /// Uniqueness claims taken by the write.
    pub claims: Vec<Claim>,
    /// The unmatched payment this write puts on the order (staff's assignment): it is
    /// marked assigned in the same write, which holds only while it is not yet.
    pub assigns: Option<PaymentId>,
    /// The texts the customer is owed for it (a payment received, a refund arrived),
    /// recorded on the order in the same write; the order is then marked for the notifier
    /// (due at `tell_by`) unless its confirmation marks it already.
    pub messages: Vec<crate::notification::CustomerMessage>,
    pub tell_by: Timestamp,
    pub at: Timestamp,
}

/// Why a [`PaymentWrite`] was not applied (nothing of it was written).
#[derive(Debug, thiserror::Error)]
pub enum WriteFailure {
    /// The order's payments moved on since the read: read again and decide again.
    #[error("the order's payments changed since they were read")]
    ConcurrentChange,
    /// The receipt already counts (on this or another payment).
    #[error("the receipt is already recorded")]
    ReceiptTaken,
    /// The checkout id is already recorded.
    #[error("the checkout request id is already recorded")]
    CheckoutTaken,
    /// The unmatched payment being assigned was assigned meanwhile.
    #[error("the payment is already assigned")]
    AlreadyAssigned,
    #[error(transparent)]
    Other(#[from] PaymentError),
}

/// Where a prompt's `CheckoutRequestID` (or a reversal's `ConversationID`) leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptRef {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
}

/// A Paybill payment that named no order, kept until staff assign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedPayment {
    pub payment: Payment,
    /// When M-Pesa says the money was paid (its `TransTime`), or when it reached us.
    pub paid_at: Timestamp,
    /// The order staff assigned it to (then it is no longer listed as unmatched).
    pub assigned_to: Option<OrderId>,
}

/// Storage of payments.
pub trait PaymentStore: Send + Sync {
    /// The order `id` with its payments: one strongly consistent read.
    fn order(
        &self,
        id: OrderId,
    ) -> impl Future<Output = Result<Option<Order>, PaymentError>> + Send;

    /// The order whose payment reference is this order number's.
    fn order_by_number(
        &self,
        number: &crate::order::OrderNumber,
    ) -> impl Future<Output = Result<Option<OrderId>, PaymentError>> + Send;

    /// Where `checkout_request_id` leads, if a prompt claimed it.
    fn prompt_by_checkout(
        &self,
        checkout_request_id: &str,
    ) -> impl Future<Output = Result<Option<PromptRef>, PaymentError>> + Send;

    /// The phone number on the customer's profile, if they set one.
    fn customer_phone(
        &self,
        customer: crate::customer::CustomerId,
    ) -> impl Future<Output = Result<Option<crate::customer::PhoneNumber>, PaymentError>> + Send;

    /// An unmatched payment, if it is one.
    fn unmatched(
        &self,
        id: PaymentId,
    ) -> impl Future<Output = Result<Option<UnmatchedPayment>, PaymentError>> + Send;

    /// Where a reversal's `conversation_id` leads, if a reversal claimed it.
    fn reversal_by_conversation(
        &self,
        conversation_id: &str,
    ) -> impl Future<Output = Result<Option<PromptRef>, PaymentError>> + Send;

    /// Applies `write` atomically (see [`PaymentWrite`]).
    fn write(&self, write: &PaymentWrite) -> impl Future<Output = Result<(), WriteFailure>> + Send;

    /// Every open order (see [`PaymentMarks`]): those with a prompt pending, a reversal
    /// awaiting its answer or a payment staff must act on, newest first.
    ///
    /// [`PaymentMarks`]: crate::order::PaymentMarks
    fn open_orders(&self) -> impl Future<Output = Result<Vec<Order>, PaymentError>> + Send;

    /// The payments that named no order and are not assigned yet, newest first.
    fn unmatched_page(
        &self,
        page: &crate::page::PageRequest,
    ) -> impl Future<Output = Result<crate::page::Page<UnmatchedPayment>, PaymentError>> + Send;

    /// Keeps a payment that names no order, with its receipt's claim, atomically
    /// ([`WriteFailure::ReceiptTaken`] when the receipt is already recorded).
    fn keep_unmatched(
        &self,
        unmatched: &UnmatchedPayment,
    ) -> impl Future<Output = Result<(), WriteFailure>> + Send;
}

/// What M-Pesa answered to a prompt's status query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryAnswer {
    /// "The transaction is being processed", a quota error or a timeout: ask again later.
    Pending,
    /// A definite `ResultCode` (`"0"`: paid).
    Completed { code: String, description: String },
}

/// Why M-Pesa did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// A definite no: nothing was taken.
    #[error("M-Pesa refused: {code} {description}")]
    Refused { code: String, description: String },
    /// No usable answer: M-Pesa may or may not have taken the request.
    #[error("M-Pesa did not answer ({0})")]
    NoAnswer(String),
}

/// A prompt to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRequest {
    pub phone: crate::customer::PhoneNumber,
    /// Whole shillings, at most the prompt limit.
    pub amount: Money,
    /// The order's `payment_reference` (M-Pesa's `AccountReference`).
    pub account_reference: String,
}

/// M-Pesa itself.
pub trait MpesaGateway: Send + Sync {
    /// Sends a prompt to the payer's phone; its `CheckoutRequestID` when M-Pesa took it.
    fn prompt(
        &self,
        request: &PromptRequest,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;

    /// Asks M-Pesa how the prompt `checkout_request_id` ended.
    fn query(
        &self,
        checkout_request_id: &str,
    ) -> impl Future<Output = Result<QueryAnswer, GatewayError>> + Send;

    /// Asks M-Pesa to give the payment with `receipt` back (the whole `amount`); its
    /// `ConversationID` when M-Pesa took the request. The result comes later, posted to the
    /// reversal routes.
    fn reverse(
        &self,
        receipt: &Receipt,
        amount: Money,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;
}
