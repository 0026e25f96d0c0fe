//! `TransactWriteItems`: building its items and reading why it was cancelled.

use std::error::Error as StdError;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use domain::CatalogError;
use domain::customer::CustomerError;
use domain::order::{OrderError, PlaceFailure};

use crate::expr::Expr;
use crate::item::Item;

/// A transaction item the SDK could not build (a bug of ours: a required field unset).
#[derive(Debug, thiserror::Error)]
#[error("building a transaction item: {0}")]
pub(crate) struct BuildFailed(#[from] BuildError);

impl From<BuildFailed> for CatalogError {
    fn from(err: BuildFailed) -> Self {
        CatalogError::storage(err)
    }
}

impl From<BuildFailed> for OrderError {
    fn from(err: BuildFailed) -> Self {
        OrderError::storage(err)
    }
}

impl From<BuildFailed> for PlaceFailure {
    fn from(err: BuildFailed) -> Self {
        PlaceFailure::Other(err.into())
    }
}

impl From<BuildFailed> for CustomerError {
    fn from(err: BuildFailed) -> Self {
        CustomerError::storage(err)
    }
}

/// A `Put` of `item`, under the conditions of `condition`.
pub(crate) fn put(
    table: &str,
    item: Item,
    condition: Expr,
) -> Result<TransactWriteItem, BuildFailed> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.condition_expression())
        .set_expression_attribute_names(condition.names())
        .set_expression_attribute_values(condition.values())
        .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// An `Update` of the item at `key` with `expr`'s update and condition.
pub(crate) fn update(table: &str, key: Item, expr: Expr) -> Result<TransactWriteItem, BuildFailed> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_update_expression(expr.update_expression())
        .set_condition_expression(expr.condition_expression())
        .set_expression_attribute_names(expr.names())
        .set_expression_attribute_values(expr.values())
        .build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// A `Delete` of the item at `key`, under `condition`.
pub(crate) fn delete(
    table: &str,
    key: Item,
    condition: Expr,
) -> Result<TransactWriteItem, BuildFailed> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.condition_expression())
        .set_expression_attribute_names(condition.names())
        .set_expression_attribute_values(condition.values())
        .build()?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// A `ConditionCheck` on the item at `key`.
#[allow(dead_code)]
pub(crate) fn check(
    table: &str,
    key: Item,
    condition: Expr,
) -> Result<TransactWriteItem, BuildFailed> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.condition_expression())
        .set_expression_attribute_names(condition.names())
        .set_expression_attribute_values(condition.values())
        .build()?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// A transaction DynamoDB cancelled for reasons the caller did not expect, as an error.
#[derive(Debug, thiserror::Error)]
#[error("transaction cancelled: {0:?}")]
pub(crate) struct Cancelled(pub Vec<Option<String>>);

/// Why a transaction did not commit.
#[derive(Debug)]
pub(crate) enum TxnError {
    /// DynamoDB cancelled it; the reason code of each item, in order (`None` = no reason).
    Cancelled(Vec<Option<String>>),
    /// Anything else (the request failed).
    Failed(Box<dyn StdError + Send + Sync>),
}

impl TxnError {
    /// True when item `index` was cancelled because its condition did not hold.
    pub fn condition_failed(&self, index: usize) -> bool {
        matches!(self, TxnError::Cancelled(codes)
            if codes.get(index).and_then(|c| c.as_deref()) == Some("ConditionalCheckFailed"))
    }

    /// True when DynamoDB cancelled it because another transaction was changing one of
    /// its items at the same time (worth retrying).
    pub fn conflicted(&self) -> bool {
        matches!(self, TxnError::Cancelled(codes)
            if codes.iter().flatten().any(|c| c == "TransactionConflict"))
    }

    /// The error to report when no item-specific meaning applies: a conflicting
    /// concurrent change, or the underlying failure.
    pub fn into_catalog_error(self) -> CatalogError {
        match self {
            TxnError::Cancelled(_) => CatalogError::ConcurrentChange,
            TxnError::Failed(err) => CatalogError::Storage(err),
        }
    }
}

/// Runs the items as one transaction.
pub(crate) async fn execute(
    client: &Client,
    items: Vec<TransactWriteItem>,
) -> Result<(), TxnError> {
    let result = client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(err) => match err.into_service_error() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                let codes = cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|reason| reason.code().filter(|c| *c != "None").map(str::to_owned))
                    .collect();
                Err(TxnError::Cancelled(codes))
            }
            other => Err(TxnError::Failed(Box::new(other))),
        },
    }
}
