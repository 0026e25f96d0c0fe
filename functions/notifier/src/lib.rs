//! The notifier: consumes the notifications queue (`{"order_id", "event":
//! "order.confirmed"}`) and, per order, sends the customer's SMS and the admin's email at
//! most once each (see [`domain::notification`]).
//!
//! Invariants of a batch:
//! - Records are handled concurrently and independently; the response lists only the
//!   records to deliver again (`ReportBatchItemFailures`), so one failing message never
//!   re-delivers its neighbours, and nothing panics on any body.
//! - A body that is not an `order.confirmed` message, an unknown order and an order that
//!   is not (or no longer) confirmed are logged and acknowledged: retrying cannot help.
//! - A record to deliver again first gets its visibility timeout set from its
//!   `ApproximateReceiveCount` (base × 2^(receives−1), capped); after `maxReceiveCount`
//!   receives the queue's redrive policy moves it to the dead-letter queue.

pub mod config;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use domain::CustomerStore;
use domain::notification::{EmailSender, Handled, NotificationStore, Notifier, SmsSender};
use queue::{ORDER_CONFIRMED, OrderEvent, Redelivery};

/// Backoff before a record that failed is delivered again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first receive.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// The delay after the `receive_count`-th receive failed: base × 2^(receives−1),
    /// capped at `max` (60 s, 120 s, 240 s, … by default).
    pub fn delay(&self, receive_count: u32) -> Duration {
        let doublings = receive_count.saturating_sub(1).min(20);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

/// Whether a record is done with or must come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Acknowledge,
    Retry,
}

/// Handles batches of the notifications queue.
#[derive(Debug)]
pub struct BatchHandler<S, C, M, E, R> {
    notifier: Notifier<S, C, M, E>,
    redelivery: R,
    backoff: Backoff,
}

impl<S, C, M, E, R> BatchHandler<S, C, M, E, R>
where
    S: NotificationStore,
    C: CustomerStore,
    M: SmsSender,
    E: EmailSender,
    R: Redelivery,
{
    /// The handler, shared by every invocation of a warm function.
    pub fn new(notifier: Notifier<S, C, M, E>, redelivery: R, backoff: Backoff) -> Arc<Self> {
        Arc::new(Self {
            notifier,
            redelivery,
            backoff,
        })
    }

    /// Handles every record of `event`; the response names the ones to deliver again.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let verdicts =
            futures::future::join_all(event.records.iter().map(|record| self.record(record))).await;
        let mut response = SqsBatchResponse::default();
        for (record, verdict) in event.records.iter().zip(verdicts) {
            if verdict == Verdict::Retry {
                // Guarded in `record`: a record without an id is never retried.
                if let Some(id) = &record.message_id {
                    response.add_failure(id.clone());
                }
            }
        }
        response
    }

    async fn record(&self, record: &SqsMessage) -> Verdict {
        let Some(message_id) = record.message_id.as_deref() else {
            tracing::error!("a record without a messageId cannot be reported; acknowledged");
            return Verdict::Acknowledge;
        };
        let event = record
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<OrderEvent>(body).ok())
            .filter(|event| event.event == ORDER_CONFIRMED);
        let Some(event) = event else {
            tracing::warn!(message_id, "not an order.confirmed message; acknowledged");
            return Verdict::Acknowledge;
        };
        let order_id = event.order_id;
        let verdict = match self.notifier.notify(order_id).await {
            Ok(Handled::Done | Handled::Ignored(_)) => Verdict::Acknowledge,
            Ok(Handled::Retry) => Verdict::Retry,
            Err(err) => {
                tracing::warn!(message_id, order_id = %order_id, error = %err,
                    source = ?std::error::Error::source(&err), "notification failed; will retry");
                Verdict::Retry
            }
        };
        if verdict == Verdict::Retry {
            self.delay(record, message_id, order_id).await;
        }
        verdict
    }

    /// Sets the record's visibility timeout from its receive count before it is reported
    /// failed. If that fails the queue's own visibility timeout applies.
    async fn delay(&self, record: &SqsMessage, message_id: &str, order_id: domain::OrderId) {
        let receives = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let delay = self.backoff.delay(receives);
        let Some(receipt) = record.receipt_handle.as_deref() else {
            return;
        };
        match self.redelivery.redeliver_after(receipt, delay).await {
            Ok(()) => tracing::info!(message_id, order_id = %order_id, receives,
                retry_in_seconds = delay.as_secs(), "delivery delayed"),
            Err(err) => tracing::warn!(message_id, order_id = %order_id, error = %err,
                "could not delay the next delivery"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(60),
            max: Duration::from_secs(900),
        };
        let delays: Vec<u64> = (0..=7).map(|n| backoff.delay(n).as_secs()).collect();
        assert_eq!(delays, [60, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(900));
    }
}
