//! A notification channel's state as the order item stores it (`notification_sms`,
//! `notification_email`), and the attribute paths that conditions and filters use.
//!
//! Invariants: the stored status words are the domain's (`ChannelStatus::as_str`); a
//! `failed` status is what lists an order in GSI5; a malformed state is an error naming
//! the order record, never a made-up value.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Timestamp;
use domain::notification::{Channel, ChannelState, ChannelStatus, Delivery, ErrorClass};
use serde::{Deserialize, Serialize};

use super::attr;
use crate::failure::Failure;
use crate::item::{Item, s};

/// The record a malformed state is reported in: the order that holds it.
const ORDER: &str = "order";

/// A notification channel's state, as the notifier writes it on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChannelRecord {
    status: String,
    attempts: u32,
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_at: Option<String>,
    /// `delivered` or `undelivered`, from the SMS provider's report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_reason: Option<String>,
}

/// `delivery` as stored: its word and, when undelivered, the reason.
pub(crate) fn delivery_fields(delivery: &Delivery) -> (&'static str, Option<&str>) {
    match delivery {
        Delivery::Delivered => (delivery.as_str(), None),
        Delivery::Undelivered(reason) => (delivery.as_str(), Some(reason.as_str())),
    }
}

impl ChannelRecord {
    pub(crate) fn of(state: &ChannelState) -> Self {
        let (delivery, delivery_reason) = state.delivery.as_ref().map(delivery_fields).unzip();
        Self {
            status: state.status.as_str().to_owned(),
            attempts: state.attempts,
            version: state.version,
            last_error: state.last_error.as_ref().map(|c| c.as_str().to_owned()),
            message_id: state.message_id.clone(),
            claimed_at: state.claimed_at.map(|t| t.to_string()),
            delivery: delivery.map(str::to_owned),
            delivery_reason: delivery_reason.flatten().map(str::to_owned),
        }
    }

    /// `state` as the map an update sets.
    pub fn encode(state: &ChannelState) -> Result<AttributeValue, Failure> {
        serde_dynamo::to_attribute_value(Self::of(state)).map_err(|e| Failure::record(ORDER, e))
    }

    pub(crate) fn into_state(self) -> Result<ChannelState, Failure> {
        Ok(ChannelState {
            status: self
                .status
                .parse()
                .map_err(|_| Failure::record(ORDER, "invalid channel status"))?,
            attempts: self.attempts,
            last_error: self.last_error.as_deref().map(ErrorClass::new),
            message_id: self.message_id,
            claimed_at: self
                .claimed_at
                .as_deref()
                .map(Timestamp::parse)
                .transpose()
                .map_err(|_| Failure::record(ORDER, "invalid timestamp"))?,
            version: self.version,
            delivery: match (self.delivery.as_deref(), self.delivery_reason.as_deref()) {
                (None, _) => None,
                (Some("delivered"), _) => Some(Delivery::Delivered),
                (Some("undelivered"), reason) => Some(Delivery::Undelivered(ErrorClass::new(
                    reason.unwrap_or("unknown"),
                ))),
                _ => return Err(Failure::record(ORDER, "invalid delivery")),
            },
        })
    }
}

/// The order attribute holding `channel`'s state.
pub(crate) fn channel_attr(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => attr::NOTIFICATION_SMS,
        Channel::Email => attr::NOTIFICATION_EMAIL,
    }
}

/// The path of `channel`'s status inside the order (`notification_sms.status`), for
/// conditions and filters.
pub(crate) fn channel_status_path(channel: Channel) -> String {
    format!("{}.{}", channel_attr(channel), attr::STATUS)
}

/// A channel's status as stored: `failed` is the one that lists the order in GSI5.
pub(crate) fn stored_status(status: ChannelStatus) -> AttributeValue {
    s(status.as_str())
}

/// The channels whose stored status in the order `item` is `failed`.
pub(crate) fn failed_channels(item: &Item) -> Vec<Channel> {
    let failed = stored_status(ChannelStatus::Failed);
    Channel::ALL
        .into_iter()
        .filter(|channel| match item.get(channel_attr(*channel)) {
            Some(AttributeValue::M(state)) => state.get(attr::STATUS) == Some(&failed),
            _ => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_status_is_read_where_conditions_and_filters_look_for_it() {
        assert_eq!(channel_status_path(Channel::Sms), "notification_sms.status");
        assert_eq!(stored_status(ChannelStatus::Failed), s("failed"));
        let failed = ChannelState {
            status: ChannelStatus::Failed,
            ..ChannelState::default()
        };
        let item: Item = [(
            channel_attr(Channel::Email).to_owned(),
            ChannelRecord::encode(&failed).expect("encodes"),
        )]
        .into();
        assert_eq!(failed_channels(&item), vec![Channel::Email]);
    }

    #[test]
    fn a_state_reads_back_as_written() {
        let state = ChannelState {
            status: ChannelStatus::Sent,
            attempts: 2,
            version: 3,
            message_id: Some("ATXid_1".to_owned()),
            delivery: Some(Delivery::Undelivered(ErrorClass::new("AbsentSubscriber"))),
            ..ChannelState::default()
        };
        let AttributeValue::M(map) = ChannelRecord::encode(&state).expect("encodes") else {
            panic!("a channel state is stored as a map");
        };
        let record: ChannelRecord = serde_dynamo::from_item(map).expect("decodes as its record");
        assert_eq!(record.into_state().expect("valid"), state);
    }
}
