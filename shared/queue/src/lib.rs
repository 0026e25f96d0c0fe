//! The notifications queue on SQS. The orders service sends one message per confirmed
//! order; the notifier Lambda consumes them (with a dead-letter queue for messages that
//! keep failing) and, through [`Redelivery`], delays the next delivery of a message it
//! could not finish (its backoff).
//!
//! The message is exactly docs/api.md's: `{"order_id": "...", "event": "order.confirmed"}`.
//! The queue is a standard queue, so a message can arrive more than once (and the
//! reconciler re-sends unacknowledged confirmations): the notifier is idempotent.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::OrderId;
use domain::order::{NotificationQueue, QueueError};
use serde::{Deserialize, Serialize};

/// The `event` of a confirmation message.
pub const ORDER_CONFIRMED: &str = "order.confirmed";

/// Every `event` the notifier takes: what was recorded on the order (the confirmation,
/// and the events its customer messages tell), and the reconciler's re-send of an order
/// with something still to tell. Whichever it is, the notifier reads the order and sends
/// all that is pending on it.
pub const EVENTS: [&str; 7] = [
    ORDER_CONFIRMED,
    "payment.received",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "payment.reversed",
    domain::order::RESEND_EVENT,
];

/// The body of a notifications-queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEvent {
    pub order_id: OrderId,
    pub event: String,
}

impl OrderEvent {
    /// The message for a confirmed order.
    pub fn confirmed(order_id: OrderId) -> Self {
        Self {
            order_id,
            event: ORDER_CONFIRMED.to_owned(),
        }
    }
}

/// [`NotificationQueue`] on an SQS queue.
#[derive(Debug, Clone)]
pub struct SqsNotificationQueue {
    client: aws_sdk_sqs::Client,
    queue_url: Arc<str>,
}

impl SqsNotificationQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl NotificationQueue for SqsNotificationQueue {
    async fn order_confirmed(&self, order: OrderId) -> Result<(), QueueError> {
        self.order_event(order, ORDER_CONFIRMED).await
    }

    async fn order_event(&self, order: OrderId, event: &'static str) -> Result<(), QueueError> {
        let body = serde_json::to_string(&OrderEvent {
            order_id: order,
            event: event.to_owned(),
        })
        .map_err(|e| QueueError(Box::new(e)))?;
        self.client
            .send_message()
            .queue_url(self.queue_url.as_ref())
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError(Box::new(e.into_service_error())))?;
        Ok(())
    }
}

/// The longest visibility timeout SQS accepts: 12 hours.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// Delays the next delivery of a received message (its visibility timeout from now).
pub trait Redelivery: Send + Sync {
    /// The message with `receipt_handle` becomes visible again after `delay` (at most
    /// [`MAX_VISIBILITY`]).
    fn redeliver_after(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

impl Redelivery for SqsNotificationQueue {
    async fn redeliver_after(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.min(MAX_VISIBILITY).as_secs()).unwrap_or(i32::MAX);
        self.client
            .change_message_visibility()
            .queue_url(self.queue_url.as_ref())
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| QueueError(Box::new(e.into_service_error())))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_exactly_the_documented_json() {
        let id: OrderId = "01J0000000000000000000000R".parse().expect("id");
        let body = serde_json::to_value(OrderEvent::confirmed(id)).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"order_id": "01J0000000000000000000000R", "event": "order.confirmed"})
        );
        let parsed: OrderEvent = serde_json::from_value(body).expect("parses");
        assert_eq!(parsed, OrderEvent::confirmed(id));
    }
}
