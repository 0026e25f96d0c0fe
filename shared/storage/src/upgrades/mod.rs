//! The one-off upgrades of stored items, apart from the everyday code: each brings items
//! stored by an earlier release to the current shape, is idempotent, records its progress
//! where it walks (`UPGRADE#<name>`), and once done costs one `GetItem` a call. None runs on
//! a request path or on the reconciler's schedule: the reconciler runs them on a one-off
//! invocation after a deploy (`{"run": "upgrades"}`, docs/deploy.md), and the operator runs
//! the customers' (a `Scan`, which no function's role may do) with `index-customers`.
//!
//! - [`orders`]: orders stored before the order indexes were sharded; orders whose
//!   notification failed before GSI5 existed.
//! - [`categories`]: categories stored with the sibling sort key of earlier releases.
//! - [`customers`]: customers stored before staff's lists existed.

mod categories;
mod customers;
mod orders;

pub use customers::FiledCustomers;

/// What one call of a one-off upgrade ([`crate::DynamoOrders::file_failed_notifications`],
/// [`crate::DynamoCatalog::rekey_category_siblings`]) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeRun {
    /// Items it changed: orders it listed under GSI5, categories it re-keyed.
    pub filed: usize,
    /// The walk has seen every item: nothing is left to change.
    pub done: bool,
}
