//! DynamoDB adapter of the catalog ports: one table, generic keys (`PK`, `SK`, `GSI1PK`,
//! `GSI1SK`, `GSI2PK`, `GSI2SK`), every key built in [`keys`].
//!
//! Reads that must see the latest write (before a transaction) are strongly consistent
//! `GetItem`s; lists use `Query` on the indexes, never `Scan`. Multi-item changes are
//! `TransactWriteItems` guarded by conditions, so a failed request changes nothing.

mod categories;
mod cursor;
mod customers;
mod expr;
mod item;
pub mod keys;
mod order_item;
mod orders;
mod products;
mod query;
mod txn;
mod update;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;

pub use customers::DynamoCustomers;
pub use orders::DynamoOrders;

/// Catalog storage on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    client: Client,
    table: Arc<str>,
}

impl DynamoCatalog {
    /// A catalog on `table`, reached through `client`.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }
}

/// The most items one move of a category may rewrite: DynamoDB's limit of items in one
/// `TransactWriteItems`. A move rewrites every category and product of the subtree, the
/// old and new parents and the two name-uniqueness items.
pub const MAX_MOVE_ITEMS: usize = 100;
