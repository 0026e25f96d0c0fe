//! The one-off upgrades of items stored by earlier releases, apart from the reconciler's
//! everyday run: invoked once after a deploy with `{"run": "upgrades"}` (docs/deploy.md;
//! the pipeline does it), and again until the answer says `done` (a large table takes
//! several invocations, each within the function's timeout). Each upgrade is idempotent and
//! records its progress, so an invocation after they are done costs one read each:
//!
//! - orders stored before the order indexes were sharded, filed under their shards
//!   ([`file_unsharded`]);
//! - orders whose notification failed before GSI5 existed, filed under it
//!   ([`file_failed_notifications`]);
//! - categories stored with the sibling sort key of earlier releases, re-keyed
//!   ([`rekey_category_siblings`]).
//!
//! Kept while a table from before them may still be deployed (every environment created
//! before 2026-12-07); the customers' upgrade, a `Scan`, is the operator's `index-customers`.

use domain::CatalogError;
use domain::order::OrderError;
use serde::Serialize;
use storage::{DynamoCatalog, DynamoOrders, UpgradeRun};

use crate::{BATCH, MAX_BATCHES};

/// What an upgrade invocation did, and whether every upgrade is done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpgradeReport {
    /// Orders filed under their index shards.
    pub unsharded_orders: usize,
    /// Orders with a failed notification filed under GSI5.
    pub failed_notifications: usize,
    /// Categories given the current sibling sort key.
    pub category_siblings: usize,
    /// Nothing is left to upgrade: no further invocation is needed.
    pub done: bool,
}

/// Runs every upgrade as far as one invocation's budget goes.
pub async fn run(
    orders: &DynamoOrders,
    catalog: &DynamoCatalog,
) -> Result<UpgradeReport, UpgradeError> {
    let unsharded = file_unsharded(orders).await?;
    let failed = file_failed_notifications(orders).await?;
    let siblings = rekey_category_siblings(catalog).await?;
    Ok(UpgradeReport {
        unsharded_orders: unsharded.filed,
        failed_notifications: failed.filed,
        category_siblings: siblings.filed,
        done: unsharded.done && failed.done && siblings.done,
    })
}

/// Why an upgrade invocation stopped (nothing is lost: invoke it again).
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("upgrading orders failed")]
    Orders(#[from] OrderError),
    #[error("upgrading categories failed")]
    Categories(#[from] CatalogError),
}

/// Files the orders stored before sharding under their shards, a batch at a time, until a
/// call files none (done) or the batch budget is spent (the next invocation goes on).
pub async fn file_unsharded(orders: &DynamoOrders) -> Result<UpgradeRun, OrderError> {
    let mut run = UpgradeRun::default();
    for _ in 0..MAX_BATCHES {
        let moved = orders.file_unsharded_orders(BATCH).await?;
        run.filed += moved;
        if moved == 0 {
            run.done = true;
            break;
        }
    }
    Ok(reported(run, "orders filed under their index shards"))
}

/// Files the orders whose notification failed before GSI5 existed under it, for up to
/// `MAX_BATCHES` steps of the walk, each reading up to `BATCH` orders a shard (the next
/// invocation goes on).
pub async fn file_failed_notifications(orders: &DynamoOrders) -> Result<UpgradeRun, OrderError> {
    let run = orders.file_failed_notifications(MAX_BATCHES, BATCH).await?;
    Ok(reported(
        run,
        "orders with a failed notification filed under GSI5",
    ))
}

/// Gives the categories stored with an earlier sibling sort key the current one, up to
/// `BATCH * MAX_BATCHES` of them an invocation (the next one goes on).
pub async fn rekey_category_siblings(catalog: &DynamoCatalog) -> Result<UpgradeRun, CatalogError> {
    let run = catalog.rekey_category_siblings(BATCH * MAX_BATCHES).await?;
    Ok(reported(
        run,
        "categories given the current sibling sort key",
    ))
}

/// `run`, logged (as `upgrade`) while it changes any item or is not done.
fn reported(run: UpgradeRun, upgrade: &'static str) -> UpgradeRun {
    if run.filed > 0 || !run.done {
        tracing::info!(
            upgrade,
            changed = run.filed,
            done = run.done,
            "one-off upgrade"
        );
    }
    run
}
