//! The notifier: consumes the notifications queue (`{"order_id", "event"}`: the
//! confirmation, an event a customer message tells, or the reconciler's re-send) and, per
//! order, sends the confirmation's SMS and email and every customer message at most once
//! each (see [`domain::notification`]).
//!
//! Invariants of a batch:
//! - Records are handled concurrently and independently; the response lists only the
//!   records to deliver again (`ReportBatchItemFailures`), so one failing message never
//!   re-delivers its neighbours, and nothing panics on any body.
//! - A body that is not a notifications message, an unknown order and an order with
//!   nothing to tell are logged and acknowledged: retrying cannot help.
//! - A record to deliver again first gets its visibility timeout set from its
//!   `ApproximateReceiveCount` (base × 2^(receives−1), capped); after `maxReceiveCount`
//!   receives the queue's redrive policy moves it to the dead-letter queue.

pub mod config;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use domain::CustomerStore;
use domain::notification::{EmailSender, Handled, NotificationStore, Notifier, SmsSender};
use queue::{EVENTS, OrderEvent, Redelivery};

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
    /// Records about the same order (its confirmation and an event, say) are handled
    /// once, by the first of them, so no two of them race for the same order's sends; the
    /// others are acknowledged (the first, retried when something is still due, carries
    /// the order).
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut firsts: Vec<&SqsMessage> = Vec::new();
        let mut first_of: Vec<usize> = Vec::with_capacity(event.records.len());
        for record in &event.records {
            let order = order_of(record);
            let same =
                order.and_then(|id| firsts.iter().position(|first| order_of(first) == Some(id)));
            first_of.push(same.unwrap_or_else(|| {
                firsts.push(record);
                firsts.len() - 1
            }));
        }
        let handled =
            futures::future::join_all(firsts.iter().map(|record| self.record(record))).await;
        let verdicts = first_of.iter().enumerate().map(|(i, &first)| {
            let is_first = std::ptr::eq(firsts[first], &event.records[i]);
            if is_first {
                handled[first]
            } else {
                Verdict::Acknowledge
            }
        });
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
        let Some(order_id) = order_of(record) else {
            tracing::warn!(message_id, "not a notifications message; acknowledged");
            return Verdict::Acknowledge;
        };
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

/// The order a record is about, when it is a notifications message.
fn order_of(record: &SqsMessage) -> Option<domain::OrderId> {
    record
        .body
        .as_deref()
        .and_then(|body| serde_json::from_str::<OrderEvent>(body).ok())
        .filter(|event| EVENTS.contains(&event.event.as_str()))
        .map(|event| event.order_id)
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
