//! The texts a customer is owed through an order's life besides its confirmation: one per
//! order and event (`payment.received` and `payment.reversed`: one per payment), recorded
//! on the order by the very write that makes the event happen, then sent by the notifier
//! at most once, in the order the events happened.
//!
//! Invariants:
//! - A message's key names its event and, for a payment's events, the payment: writing
//!   the same event again (a callback delivered twice) finds the key taken and adds
//!   nothing.
//! - A message keeps the figures it tells (amount, receipt, what was still due, the
//!   refund) as they were when the event happened, so a later change of the order never
//!   changes what it says: an event for a state the order has since left is still told,
//!   as it happened.
//! - Its sending state is a [`ChannelState`], with the same moves as the confirmation's
//!   channels: claimed before the provider is called, final once sent, skipped or failed;
//!   then, once, the provider's delivery report.

use std::fmt;

use crate::money::Money;
use crate::order::channel::ChannelState;
use crate::order::{Order, OrderStatus, PaymentReference, PaymentStanding};
use crate::payment::{Payment, PaymentId, PaymentState, Receipt, ReversalState};
use crate::timestamp::Timestamp;

/// A message's key on its order: `order_shipped`, `payment_received_<payment id>`, …
/// (lower-case ASCII letters, digits and `_`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKey(String);

/// Why text is not a message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a message key")]
pub struct InvalidMessageKey;

impl MessageKey {
    fn of_event(event: &CustomerEvent, payment: Option<PaymentId>) -> Self {
        let name = event.name().replace('.', "_");
        Self(match payment {
            Some(id) => format!("{name}_{}", id.to_string().to_ascii_lowercase()),
            None => name,
        })
    }

    /// Reads a stored key back.
    pub fn parse(s: &str) -> Result<Self, InvalidMessageKey> {
        let valid = !s.is_empty()
            && s.len() <= 80
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        valid.then(|| Self(s.to_owned())).ok_or(InvalidMessageKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to pay an order that is not paid yet: the shop's Paybill and the order's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayBy {
    /// The shop's Paybill number (digits).
    pub paybill: String,
    pub reference: PaymentReference,
}

/// What happened to an order, with the figures the customer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerEvent {
    /// `order.confirmed`; `pay` when it is not paid yet and the shop takes Paybill.
    Confirmed { total: Money, pay: Option<PayBy> },
    /// `payment.received`: `due` is what is still to pay (zero: paid in full).
    PaymentReceived {
        amount: Money,
        receipt: Receipt,
        due: Money,
    },
    /// `order.shipped`.
    Shipped,
    /// `order.delivered`.
    Delivered,
    /// `order.cancelled`; `refund` when money was on it and its reversal was requested.
    Cancelled { refund: Option<Money> },
    /// `payment.reversed`: the refund arrived.
    PaymentReversed { amount: Money, receipt: Receipt },
}

impl CustomerEvent {
    /// The event's name, as messages and the API name it.
    pub fn name(&self) -> &'static str {
        match self {
            CustomerEvent::Confirmed { .. } => "order.confirmed",
            CustomerEvent::PaymentReceived { .. } => "payment.received",
            CustomerEvent::Shipped => "order.shipped",
            CustomerEvent::Delivered => "order.delivered",
            CustomerEvent::Cancelled { .. } => "order.cancelled",
            CustomerEvent::PaymentReversed { .. } => "payment.reversed",
        }
    }
}

/// One text the customer is owed about `event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMessage {
    pub key: MessageKey,
    pub event: CustomerEvent,
    /// When the event happened (messages are sent in this order).
    pub occurred_at: Timestamp,
    /// Its sending, as the notifier moves it, and its delivery, as the provider reported.
    pub state: ChannelState,
    /// When the provider accepted it.
    pub sent_at: Option<Timestamp>,
}

impl CustomerMessage {
    /// A message about `event` (of `payment`, for a payment's events) at `at`, not sent.
    pub fn new(event: CustomerEvent, payment: Option<PaymentId>, at: Timestamp) -> Self {
        Self {
            key: MessageKey::of_event(&event, payment),
            event,
            occurred_at: at,
            state: ChannelState::default(),
            sent_at: None,
        }
    }

    /// The message an order moving to `to` owes its customer: shipped, delivered, or
    /// cancelled (telling the refund requested when `refund` is some).
    pub fn for_status(to: OrderStatus, refund: Option<Money>, at: Timestamp) -> Option<Self> {
        let event = match to {
            OrderStatus::Shipped => CustomerEvent::Shipped,
            OrderStatus::Delivered => CustomerEvent::Delivered,
            OrderStatus::Cancelled => CustomerEvent::Cancelled {
                refund: refund.filter(|r| *r != Money::ZERO),
            },
            _ => return None,
        };
        Some(Self::new(event, None, at))
    }

    /// The messages a write of `order`'s payments owes its customer: one for each payment
    /// that succeeded by it (with what is still due after it), one for each reversal
    /// M-Pesa completed by it.
    pub fn for_payments(order: &Order, after: &[Payment], at: Timestamp) -> Vec<Self> {
        let was = |id: PaymentId| order.payments.iter().find(|p| p.id == id);
        let standing = PaymentStanding::of(order.status, order.totals.total_amount, after);
        let mut messages = Vec::new();
        for payment in after {
            let before = was(payment.id);
            let succeeded_now = matches!(payment.state, PaymentState::Succeeded)
                && before.is_none_or(|b| b.state != PaymentState::Succeeded);
            // Money on a cancelled order goes back: its refund is what is told.
            let told = succeeded_now && order.status != OrderStatus::Cancelled;
            if let (true, Some(receipt)) = (told, &payment.receipt) {
                let event = CustomerEvent::PaymentReceived {
                    amount: payment.amount,
                    receipt: receipt.clone(),
                    due: standing.amount_due,
                };
                messages.push(Self::new(event, Some(payment.id), at));
            }
            let reversed = |p: &Payment| {
                p.reversal
                    .as_ref()
                    .is_some_and(|r| r.state == ReversalState::Reversed)
            };
            let reversed_now = reversed(payment) && !before.is_some_and(reversed);
            if let (true, Some(receipt)) = (reversed_now, &payment.receipt) {
                let event = CustomerEvent::PaymentReversed {
                    amount: payment.amount,
                    receipt: receipt.clone(),
                };
                messages.push(Self::new(event, Some(payment.id), at));
            }
        }
        messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Timestamp {
        Timestamp::parse("2026-12-06T10:00:00.000Z").expect("at")
    }

    #[test]
    fn keys_name_the_event_and_a_payments_event_its_payment() {
        let shipped = CustomerMessage::for_status(OrderStatus::Shipped, None, at()).expect("one");
        assert_eq!(shipped.key.as_str(), "order_shipped");
        let payment = PaymentId::generate();
        let reversed = CustomerMessage::new(
            CustomerEvent::PaymentReversed {
                amount: Money::parse_price("10").expect("amount"),
                receipt: crate::payment::Receipt::parse("SLJ7RT61SV").expect("receipt"),
            },
            Some(payment),
            at(),
        );
        let expected = format!("payment_reversed_{}", payment.to_string().to_lowercase());
        assert_eq!(reversed.key.as_str(), expected);
        assert_eq!(MessageKey::parse(&expected), Ok(reversed.key.clone()));
        for bad in ["", "Order_Shipped", "order.shipped", &"x".repeat(81)] {
            assert_eq!(MessageKey::parse(bad), Err(InvalidMessageKey), "{bad:?}");
        }
    }

    #[test]
    fn only_shipped_delivered_and_cancelled_are_told_and_a_refund_of_nothing_is_not() {
        for quiet in [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Processing,
        ] {
            assert!(CustomerMessage::for_status(quiet, None, at()).is_none());
        }
        let cancelled =
            CustomerMessage::for_status(OrderStatus::Cancelled, Some(Money::ZERO), at())
                .expect("told");
        assert_eq!(cancelled.event, CustomerEvent::Cancelled { refund: None });
        assert_eq!(cancelled.state, ChannelState::default());
    }
}
