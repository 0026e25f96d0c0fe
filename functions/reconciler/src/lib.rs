//! The reconciler: run on a schedule (EventBridge, every few minutes), it re-sends to
//! the notifications queue every confirmed order whose hand-off the notifier has not
//! acknowledged within the grace period — for instance because the orders function
//! crashed between committing the order and sending the message.
//!
//! Re-sends back off exponentially per order; the notifier is idempotent, so a re-sent
//! confirmation never notifies twice.
//!
//! Then it sweeps the open M-Pesa payments ([`sweep_payments`]): prompts no callback
//! settled (the status query decides; the 10-minute rule fails the silent ones), reversals
//! to request again, reversals whose result never came.
//!
//! The one-off upgrades of items stored by earlier releases are not part of a run: they
//! are [`upgrades`], run by a one-off invocation after a deploy (`{"run": "upgrades"}`).

use domain::Timestamp;
use domain::order::service::ResendReport;
use domain::order::{NotificationQueue, OrderError, OrderService, OrderStore};
use domain::payment_use_cases::{MpesaGateway, PaymentService, PaymentStore, SweepReport};
use serde::Serialize;

pub mod metrics;
pub mod upgrades;

/// Confirmations read per batch.
pub const BATCH: usize = 100;

/// Most batches per run, so one run stays well inside the function's timeout.
pub const MAX_BATCHES: usize = 10;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub resent: usize,
    pub failed: usize,
}

/// What an invocation answers: the re-sends and the payments sweep (`null` when it failed;
/// its log line says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Invocation {
    #[serde(flatten)]
    pub hand_offs: RunReport,
    pub payments: Option<SweepReport>,
}

/// Whether an invocation's `event` asks for the one-off upgrades (`{"run": "upgrades"}`)
/// rather than the everyday run (the schedule's events, or anything else).
pub fn asks_for_upgrades(event: &serde_json::Value) -> bool {
    event.get("run").and_then(serde_json::Value::as_str) == Some("upgrades")
}

/// One run: batches of due confirmations until none is left, a send fails (the queue is
/// then probably down; the next run tries again) or the batch budget is spent.
pub async fn run<S: OrderStore, Q: NotificationQueue>(
    service: &OrderService<S, Q>,
) -> Result<RunReport, OrderError> {
    let mut total = RunReport::default();
    for _ in 0..MAX_BATCHES {
        let ResendReport { resent, failed } = service.resend_due_hand_offs(BATCH).await?;
        total.resent += resent;
        total.failed += failed;
        if failed > 0 || resent + failed < BATCH {
            break;
        }
    }
    tracing::info!(
        resent = total.resent,
        failed = total.failed,
        "reconciler run"
    );
    Ok(total)
}

/// Settles what M-Pesa's callbacks left open (`PaymentService::sweep`). A failure is
/// logged and reported as `None`: the next run sweeps again.
pub async fn sweep_payments<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    payments: &PaymentService<S, G, Q>,
) -> Option<SweepReport> {
    match payments.sweep(Timestamp::now()).await {
        Ok(report) => Some(report),
        Err(err) => {
            tracing::warn!(error = %err, "payments sweep failed; the next run sweeps again");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_an_explicit_request_runs_the_upgrades() {
        assert!(asks_for_upgrades(&json!({"run": "upgrades"})));
        let scheduled = json!({"detail-type": "Scheduled Event", "source": "aws.events",
            "detail": {}});
        for everyday in [
            scheduled,
            json!({}),
            json!(null),
            json!({"run": "UPGRADES"}),
        ] {
            assert!(!asks_for_upgrades(&everyday), "{everyday}");
        }
    }
}
