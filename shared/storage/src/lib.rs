//! DynamoDB adapters of the domain's ports on one table: generic keys (`PK`, `SK`, and the
//! six global secondary indexes' `GSI1PK`…`GSI6SK`), every key built in [`keys`].
//!
//! Every adapter works through one [`Table`] handle (consistent single-item reads,
//! conditional single-item writes, batch reads, transactions whose items name their
//! operations — see `table` and `txn`). Reads that must see the latest write (before a
//! transaction) are strongly consistent `GetItem`s; lists use `Query` on the indexes, never
//! `Scan` (the one Scan, on no request path, is the operator's one-off upgrade
//! [`DynamoCustomers::file_unlisted_customers`]). Multi-item changes are `TransactWriteItems` guarded by conditions, so a failed
//! request changes nothing.

mod audit;
mod categories;
mod cursor;
mod customers;
mod expr;
mod failure;
mod item;
pub mod keys;
mod notifications;
mod order_customers;
mod orders;
mod payments;
mod products;
mod query;
mod records;
mod retry;
mod sms;
mod stock;
mod table;
mod txn;
mod upgrades;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use domain::audit::Retention;

pub use customers::DynamoCustomers;
pub use orders::DynamoOrders;
pub use payments::DynamoPayments;
pub use table::Table;
pub use upgrades::{FiledCustomers, UpgradeRun};

/// Catalog storage on one DynamoDB table, with the change history its writes record.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    table: Table,
    bucket_counts: stock::BucketCounts,
}

impl DynamoCatalog {
    /// A catalog on `table`, reached through `client`, keeping history entries for the
    /// default retention.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            table: Table::new(client, table),
            bucket_counts: stock::BucketCounts::default(),
        }
    }

    /// The same catalog, keeping the history entries it writes for `retention`.
    pub fn with_audit_retention(self, retention: Retention) -> Self {
        Self {
            table: self.table.with_audit_retention(retention),
            ..self
        }
    }
}

/// The most items one move of a category may write: DynamoDB's limit of items in one
/// `TransactWriteItems`. A move rewrites every category and product of the subtree, the
/// old and new parents and the two name-uniqueness items, and puts its history entry.
pub const MAX_MOVE_ITEMS: usize = 100;
