//! DynamoDB adapters of the domain's ports on one table: generic keys (`PK`, `SK`,
//! `GSI1PK`…`GSI4SK`), every key built in [`keys`].
//!
//! Every adapter works through one [`Table`] handle (consistent single-item reads,
//! conditional single-item writes, batch reads, transactions whose items name their
//! operations — see `table` and `txn`). Reads that must see the latest write (before a
//! transaction) are strongly consistent `GetItem`s; lists use `Query` on the indexes, never
//! `Scan`. Multi-item changes are `TransactWriteItems` guarded by conditions, so a failed
//! request changes nothing.

mod categories;
mod cursor;
mod customers;
mod expr;
mod failure;
mod item;
pub mod keys;
mod orders;
mod products;
mod query;
mod records;
mod table;
mod txn;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;

pub use customers::DynamoCustomers;
pub use orders::DynamoOrders;
pub use table::Table;

/// Catalog storage on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    table: Table,
}

impl DynamoCatalog {
    /// A catalog on `table`, reached through `client`.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

/// The most items one move of a category may rewrite: DynamoDB's limit of items in one
/// `TransactWriteItems`. A move rewrites every category and product of the subtree, the
/// old and new parents and the two name-uniqueness items.
pub const MAX_MOVE_ITEMS: usize = 100;
