//! The reconciler: run on a schedule (EventBridge, every few minutes), it re-sends to
//! the notifications queue every confirmed order whose hand-off the notifier has not
//! acknowledged within the grace period — for instance because the orders function
//! crashed between committing the order and sending the message.
//!
//! Re-sends back off exponentially per order; the notifier is idempotent, so a re-sent
//! confirmation never notifies twice.
//!
//! Each run first files any order stored before the order indexes were sharded under its
//! shards ([`file_unsharded`]), so such an order's overdue hand-off is found by the same
//! run and the admin lists show it: a table from before sharding upgrades itself within
//! minutes of the deploy, with no step to remember. Once none is left, that costs one
//! empty query a run.
//!
//! Then it sweeps the open M-Pesa payments ([`sweep_payments`]): prompts no callback
//! settled (the status query decides; the 10-minute rule fails the silent ones), reversals
//! to request again, reversals whose result never came.
//!
//! It then files under GSI5 the orders whose notification failed before that index
//! existed ([`file_failed_notifications`]): a walk of every order, once, spread over runs;
//! once it is done, one `GetItem` a run.
//!
//! Last it gives the categories stored with the sibling sort key of earlier releases the
//! current one ([`rekey_category_siblings`]), so the flat category lists follow the tree's
//! order: one read of every category and an update of each old one, once; then one
//! `GetItem` a run.

use domain::CatalogError;
use domain::Timestamp;
use domain::order::service::ResendReport;
use domain::order::{NotificationQueue, OrderError, OrderService, OrderStore};
use domain::payment_use_cases::{MpesaGateway, PaymentService, PaymentStore, SweepReport};
use serde::Serialize;
use storage::{DynamoCatalog, DynamoOrders, UpgradeRun};

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

/// What an invocation answers: the re-sends and the payments sweep (`null` when it failed;
/// its log line says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Invocation {
    #[serde(flatten)]
    pub hand_offs: RunReport,
    pub payments: Option<SweepReport>,
}

/// Files the orders stored before sharding under their shards, a batch at a time, until
/// none is left or the batch budget is spent (the next run goes on). Returns how many.
pub async fn file_unsharded(orders: &DynamoOrders) -> Result<usize, OrderError> {
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let moved = orders.file_unsharded_orders(BATCH).await?;
        total += moved;
        if moved < BATCH {
            break;
        }
    }
    if total > 0 {
        tracing::info!(moved = total, "orders filed under their index shards");
    }
    Ok(total)
}

/// Files the orders whose notification failed before GSI5 existed under it, for up to
/// `MAX_BATCHES` steps of the walk, each reading up to `BATCH` orders a shard (the next
/// run goes on). Returns how many.
pub async fn file_failed_notifications(orders: &DynamoOrders) -> Result<usize, OrderError> {
    let run = orders.file_failed_notifications(MAX_BATCHES, BATCH).await?;
    Ok(reported(
        run,
        "orders with a failed notification filed under GSI5",
    ))
}

/// Gives the categories stored with an earlier sibling sort key the current one, up to
/// `BATCH * MAX_BATCHES` of them a run (the next run goes on). Returns how many.
pub async fn rekey_category_siblings(catalog: &DynamoCatalog) -> Result<usize, CatalogError> {
    let run = catalog.rekey_category_siblings(BATCH * MAX_BATCHES).await?;
    Ok(reported(
        run,
        "categories given the current sibling sort key",
    ))
}

/// How many items a run of a one-off upgrade changed, logged (as `upgrade`) while it
/// changes any or is not done; once done, its runs are silent.
fn reported(run: UpgradeRun, upgrade: &'static str) -> usize {
    if run.filed > 0 || !run.done {
        tracing::info!(
            upgrade,
            changed = run.filed,
            done = run.done,
            "one-off upgrade"
        );
    }
    run.filed
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
