//! The notifier's ports: where channel states are kept (the order item on DynamoDB), and
//! the two providers (Africa's Talking for SMS, SES v2 for email). Adapters live in the
//! `storage` and `messaging` crates.

use std::future::Future;

use crate::customer::PhoneNumber;
use crate::id::OrderId;
use crate::notification::delivery_report::{SentSms, SmsId};
use crate::notification::message::EmailContent;
use crate::order::channel::{Channel, ChannelState, ErrorClass, Outcome};
use crate::order::customer_message::CustomerMessage;
use crate::order::{OrderError, OrderStore};

/// Why a provider did not take a message. `detail` is for logs: it names what went wrong
/// (an HTTP status, the provider's status name), never a number, an address or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: 5xx, timeouts, throttling, insufficient balance.
    #[error("transient send failure ({class}): {detail}")]
    Transient { class: ErrorClass, detail: String },
    /// Will never succeed: an invalid or blacklisted number, a malformed request.
    #[error("permanent send failure ({class}): {detail}")]
    Permanent { class: ErrorClass, detail: String },
}

impl SendError {
    pub fn transient(class: &str, detail: impl Into<String>) -> Self {
        Self::Transient {
            class: ErrorClass::new(class),
            detail: detail.into(),
        }
    }

    pub fn permanent(class: &str, detail: impl Into<String>) -> Self {
        Self::Permanent {
            class: ErrorClass::new(class),
            detail: detail.into(),
        }
    }

    /// The channel outcome this failure stands for.
    pub fn outcome(&self) -> Outcome {
        match self {
            SendError::Transient { class, .. } => Outcome::Transient(class.clone()),
            SendError::Permanent { class, .. } => Outcome::Permanent(class.clone()),
        }
    }
}

/// A message the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accepted {
    /// The provider's id of the message, when it gives one.
    pub message_id: Option<String>,
}

/// Sends SMS.
pub trait SmsSender: Send + Sync {
    fn send_sms(
        &self,
        to: &PhoneNumber,
        text: &str,
    ) -> impl Future<Output = Result<Accepted, SendError>> + Send;
}

/// Sends the admin's email (sender and recipient are the adapter's configuration).
pub trait EmailSender: Send + Sync {
    fn send_email(
        &self,
        email: &EmailContent,
    ) -> impl Future<Output = Result<Accepted, SendError>> + Send;
}

/// Where channel states live: on the order.
pub trait NotificationStore: OrderStore {
    /// Writes `state` as `channel`'s state if the stored state is still at
    /// `expected_version` (absent counts as version 0). `false`: someone else wrote first.
    /// The same write keeps the order on the list of failed notifications exactly while
    /// one of its channels is `failed` ([`crate::order::OrderListing::NotificationFailed`]).
    fn save_channel(
        &self,
        order: OrderId,
        channel: Channel,
        expected_version: u32,
        state: &ChannelState,
    ) -> impl Future<Output = Result<bool, OrderError>> + Send;

    /// Writes `message` (its sending state, when it was sent, its delivery) over the
    /// stored one if that is still at `expected_version`. `false`: someone else wrote
    /// first. A failed or undelivered message lists the order among the failed
    /// notifications for good, in the same write.
    fn save_message(
        &self,
        order: OrderId,
        message: &CustomerMessage,
        expected_version: u32,
    ) -> impl Future<Output = Result<bool, OrderError>> + Send;

    /// Remembers that the SMS `id` is `sent`, so its delivery report finds its message:
    /// written once the provider accepted it, before the send is recorded.
    fn remember_sms(
        &self,
        id: &SmsId,
        sent: &SentSms,
    ) -> impl Future<Output = Result<(), OrderError>> + Send;

    /// Clears the order's hand-off mark: the notifier is done with it, so the reconciler
    /// stops re-sending its confirmation. Idempotent.
    fn acknowledge(&self, order: OrderId) -> impl Future<Output = Result<(), OrderError>> + Send;
}
