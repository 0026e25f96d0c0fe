//! The customer's messages on the order item: each a top-level map attribute
//! `msg_<key>` (a key such as `order_shipped` or `payment_received_<payment id>`), so the
//! write that makes an event happen adds its message without reading the others, and the
//! notifier's conditional writes address one message's `version` directly.
//!
//! Invariant: a message keeps the figures it tells (cents, the receipt) as the event had
//! them; only its sending state and delivery (the channel record's fields, flattened into
//! the message's map) change afterwards.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Money;
use domain::notification::{CustomerEvent, CustomerMessage, MessageKey};
use domain::payment::Receipt;
use serde::{Deserialize, Serialize};

use super::cents;
use super::channel::ChannelRecord;
use crate::failure::Failure;
use crate::item::Item;

const MESSAGE: &str = "customer message";

/// The prefix of the order item's message attributes.
pub(crate) const MESSAGE_PREFIX: &str = "msg_";

/// The order attribute holding the message `key`.
pub(crate) fn message_attr(key: &MessageKey) -> String {
    format!("{MESSAGE_PREFIX}{key}")
}

/// A customer message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MessageRecord {
    event: String,
    occurred_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receipt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    due_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund_cents: Option<i64>,
    #[serde(flatten)]
    sending: ChannelRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_at: Option<String>,
}

impl MessageRecord {
    /// `message` as the map an update sets.
    pub fn encode(message: &CustomerMessage) -> Result<AttributeValue, Failure> {
        let (mut amount, mut receipt, mut due, mut refund) = (None, None, None, None);
        match &message.event {
            CustomerEvent::PaymentReceived {
                amount: a,
                receipt: r,
                due: d,
            } => {
                amount = Some(cents(MESSAGE, *a)?);
                receipt = Some(r.as_str().to_owned());
                due = Some(cents(MESSAGE, *d)?);
            }
            CustomerEvent::PaymentReversed {
                amount: a,
                receipt: r,
            } => {
                amount = Some(cents(MESSAGE, *a)?);
                receipt = Some(r.as_str().to_owned());
            }
            CustomerEvent::Cancelled { refund: r } => {
                refund = r.map(|r| cents(MESSAGE, r)).transpose()?;
            }
            CustomerEvent::Shipped | CustomerEvent::Delivered => {}
            CustomerEvent::Confirmed { .. } => {
                return Err(Failure::record(
                    MESSAGE,
                    "the confirmation is the order's channels",
                ));
            }
        }
        let record = MessageRecord {
            event: message.event.name().to_owned(),
            occurred_at: message.occurred_at.to_string(),
            amount_cents: amount,
            receipt,
            due_cents: due,
            refund_cents: refund,
            sending: ChannelRecord::of(&message.state),
            sent_at: message.sent_at.map(|t| t.to_string()),
        };
        serde_dynamo::to_attribute_value(record).map_err(|e| Failure::record(MESSAGE, e))
    }

    fn into_message(self, key: MessageKey) -> Result<CustomerMessage, Failure> {
        let invalid = |what: &'static str| Failure::record(MESSAGE, format!("invalid {what}"));
        let amount = || {
            self.amount_cents
                .map(Money::from_minor_units)
                .ok_or_else(|| invalid("amount"))
        };
        let receipt = || {
            self.receipt
                .as_deref()
                .map(Receipt::parse)
                .transpose()
                .map_err(|_| invalid("receipt"))?
                .ok_or_else(|| invalid("receipt"))
        };
        let event = match self.event.as_str() {
            "payment.received" => CustomerEvent::PaymentReceived {
                amount: amount()?,
                receipt: receipt()?,
                due: Money::from_minor_units(self.due_cents.unwrap_or(0)),
            },
            "payment.reversed" => CustomerEvent::PaymentReversed {
                amount: amount()?,
                receipt: receipt()?,
            },
            "order.shipped" => CustomerEvent::Shipped,
            "order.delivered" => CustomerEvent::Delivered,
            "order.cancelled" => CustomerEvent::Cancelled {
                refund: self.refund_cents.map(Money::from_minor_units),
            },
            _ => return Err(invalid("event")),
        };
        let stamp = |raw: &str| domain::Timestamp::parse(raw).map_err(|_| invalid("timestamp"));
        Ok(CustomerMessage {
            key,
            event,
            occurred_at: stamp(&self.occurred_at)?,
            state: self.sending.into_state()?,
            sent_at: self.sent_at.as_deref().map(stamp).transpose()?,
        })
    }

    /// The messages on the order `item`, in the order their events happened.
    pub fn all_in(item: &Item) -> Result<Vec<CustomerMessage>, Failure> {
        let mut messages = Vec::new();
        for (name, value) in item {
            let Some(key) = name.strip_prefix(MESSAGE_PREFIX) else {
                continue;
            };
            let key = MessageKey::parse(key).map_err(|_| Failure::record(MESSAGE, "key"))?;
            let record: MessageRecord = serde_dynamo::from_attribute_value(value.clone())
                .map_err(|e| Failure::record(MESSAGE, e))?;
            messages.push(record.into_message(key)?);
        }
        messages.sort_by(|a, b| (a.occurred_at, &a.key).cmp(&(b.occurred_at, &b.key)));
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use domain::Timestamp;
    use domain::notification::{ChannelStatus, Delivery, ErrorClass};
    use domain::payment::PaymentId;

    use super::*;

    #[test]
    fn messages_round_trip_with_their_figures_and_sort_by_when_they_happened() {
        let early = Timestamp::parse("2026-12-06T10:00:00.000Z").expect("at");
        let later = Timestamp::parse("2026-12-06T11:00:00.000Z").expect("at");
        let mut received = CustomerMessage::new(
            CustomerEvent::PaymentReceived {
                amount: Money::parse_price("500").expect("amount"),
                receipt: Receipt::parse("SLJ7RT61SV").expect("receipt"),
                due: Money::parse_price("250").expect("due"),
            },
            Some(PaymentId::generate()),
            early,
        );
        received.state.status = ChannelStatus::Sent;
        received.sent_at = Some(later);
        received.state.delivery = Some(Delivery::Undelivered(ErrorClass::new("UserInBlacklist")));
        let shipped = CustomerMessage::new(CustomerEvent::Shipped, None, later);
        let mut item = Item::new();
        for m in [&shipped, &received] {
            item.insert(
                message_attr(&m.key),
                MessageRecord::encode(m).expect("encodes"),
            );
        }
        item.insert("status".into(), AttributeValue::S("SHIPPED".into()));
        assert_eq!(
            MessageRecord::all_in(&item).expect("decodes"),
            vec![received, shipped]
        );
    }
}
