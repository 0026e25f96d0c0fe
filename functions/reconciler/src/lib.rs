//! The reconciler: run on a schedule (EventBridge, every few minutes), it re-sends to
//! the notifications queue every confirmed order whose hand-off the notifier has not
//! acknowledged within the grace period — for instance because the orders function
//! crashed between committing the order and sending the message.
//!
//! Re-sends back off exponentially per order; the notifier is idempotent, so a re-sent
//! confirmation never notifies twice.

use domain::order::service::ResendReport;
use domain::order::{NotificationQueue, OrderError, OrderService, OrderStore};
use serde::Serialize;

pub mod metrics;

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
