//! The catalog's storage handle: the table, and what this instance learnt of products'
//! stock buckets. Its operations live beside the data they touch (`products`,
//! `categories`, `audit`, and the one-off upgrade in `upgrades::categories`).
//!
//! Invariants: every catalog read and write goes through `table`; `bucket_counts` holds
//! only what this instance read from the table (how many buckets a product's stock is
//! split over), shared by the handle's clones.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use domain::audit::Retention;

use crate::stock::BucketCounts;
use crate::table::Table;

/// Catalog storage on one DynamoDB table, with the change history its writes record.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    pub(crate) table: Table,
    pub(crate) bucket_counts: BucketCounts,
}

impl DynamoCatalog {
    /// A catalog on `table`, reached through `client`, keeping history entries for the
    /// default retention.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            table: Table::new(client, table),
            bucket_counts: BucketCounts::default(),
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
