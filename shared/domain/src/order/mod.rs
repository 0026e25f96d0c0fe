//! Orders: placing them (priced at the time of ordering), their workflow, and the
//! hand-off of confirmed orders to the notifier.
//!
//! - [`status`]: the state machine and who may move an order along it.
//! - [`channel`]: the sending state of each notification the order owes, and its moves.
//! - [`customer_message`]: the texts owed through the order's life, recorded by the
//!   writes that make their events happen.
//! - [`pricing`]: quantities, VAT, lines and totals.
//! - [`number`]: human-readable order numbers.
//! - [`reference`]: the order's Paybill account number, derived from its number.
//! - [`payments`]: what the order's M-Pesa payments add up to (`payment_status`, …).
//! - [`request`]: a parsed request to place an order and its idempotency key.
//! - [`ports`]: what the service needs from storage and the notifications queue.
//! - [`service`]: the use cases, on top of the ports.

pub mod channel;
pub mod customer_message;
pub mod history;
pub mod number;
pub mod payments;
pub mod ports;
pub mod pricing;
pub mod reference;
pub mod request;
pub mod service;
pub mod status;

use crate::customer::CustomerId;
use crate::id::OrderId;
use crate::payment::Payment;
use crate::timestamp::Timestamp;
use channel::{ChannelStatus, Notifications};

pub use number::OrderNumber;
pub use payments::{Attention, NotPayable, PaymentMarks, PaymentStanding, PaymentStatus};
pub use ports::{
    HandOffChange, IdempotencyRecord, NotificationQueue, OrderError, OrderListing, OrderStore,
    PaymentsAfter, PendingHandOff, PlaceFailure, QueueError, Restock, StatusChange, StockedProduct,
    Unavailable,
};
pub use pricing::{OrderLine, Quantity, Totals, VatRate};
pub use reference::{InvalidPaymentReference, PaymentReference};
pub use request::{
    DeliveryAddress, IdempotencyKey, Notes, OrderRequest, RequestedLine, RequestedLines,
};
pub use service::{
    HandOffPolicy, MAX_STOCK_PORTIONS, OrderService, Placed, RESEND_EVENT, Race, Viewer,
};
pub use status::{IllegalTransition, OrderStatus, Role, StatusChangeError};

/// An order as stored and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub order_number: OrderNumber,
    pub customer_id: CustomerId,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub totals: Totals,
    pub delivery_address: DeliveryAddress,
    pub notes: Option<Notes>,
    /// Where the customer's SMS and the admin's email stand (the notifier moves them).
    pub notifications: Notifications,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    /// While the confirmation has not been acknowledged by the notifier: when the
    /// reconciler should send it (again). Internal, never returned.
    pub hand_off_due: Option<Timestamp>,
    /// Its M-Pesa payments, oldest first (stored inside the order: one read shows them).
    pub payments: Vec<Payment>,
    /// How many payment writes the order has seen (0: never paid); every payment write
    /// holds only while it is still the version read. Internal, never returned.
    pub payments_version: u64,
    /// The texts the customer is owed besides the confirmation (shipped, paid, …), in
    /// the order their events happened; admins see them with the confirmation's.
    pub messages: Vec<customer_message::CustomerMessage>,
}

impl Order {
    /// The customer's SMS went out (`sms_sent` in the API).
    pub fn sms_sent(&self) -> bool {
        self.notifications.sms.status == ChannelStatus::Sent
    }

    /// The admin's email went out (`email_sent` in the API).
    pub fn email_sent(&self) -> bool {
        self.notifications.email.status == ChannelStatus::Sent
    }

    /// What the order's payments add up to.
    pub fn payment_standing(&self) -> PaymentStanding {
        PaymentStanding::of(self.status, self.totals.total_amount, &self.payments)
    }

    /// What the order's item carries about its payments (see [`PaymentMarks`]).
    pub fn payment_marks(&self) -> PaymentMarks {
        PaymentMarks::of(self.status, self.totals.total_amount, &self.payments)
    }

    /// The order's Paybill account number.
    pub fn payment_reference(&self) -> PaymentReference {
        PaymentReference::of(&self.order_number)
    }

    /// The order after `change` (which the caller has authorized).
    pub fn with_change(&self, change: &StatusChange) -> Order {
        let mut order = self.clone();
        order.status = change.to;
        order.updated_at = change.at;
        match change.to {
            OrderStatus::Confirmed => order.confirmed_at = Some(change.at),
            OrderStatus::Cancelled => order.cancelled_at = Some(change.at),
            _ => {}
        }
        order.hand_off_due = change.hand_off.applied_to(self.hand_off_due);
        if let Some(after) = &change.payments {
            order.payments = after.payments.clone();
            order.payments_version = change.payments_version + 1;
        }
        order.messages.extend(change.message.iter().cloned());
        order
    }
}
