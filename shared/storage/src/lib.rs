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
mod catalog;
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

pub use catalog::{DynamoCatalog, MAX_MOVE_ITEMS};
pub use customers::DynamoCustomers;
pub use orders::DynamoOrders;
pub use payments::DynamoPayments;
pub use table::Table;
pub use upgrades::{FiledCustomers, UpgradeRun};
