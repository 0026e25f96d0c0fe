//! The one handle every adapter works through: the DynamoDB client and the table's name,
//! with the few operations the adapters need (here; its index queries and sharded lists
//! in [`crate::query`], the put of a change's history entry in `audit`). Adapters hold a
//! `Table`, never another adapter. The handle carries the retention of the history entries
//! written through it (`ApiConfig.audit_retention`), so every adapter that records changes
//! keeps them alike.
//!
//! Invariants: a single-item read is strongly consistent (it precedes a conditional write);
//! a single-item write carries its condition and reports a failed one as
//! [`WriteError::ConditionFailed`] (nothing changed); a batch read retries the keys
//! DynamoDB leaves unprocessed until none is left; a count follows `LastEvaluatedKey` until
//! the partition is counted in full; a transaction's items name their
//! operations ([`crate::txn`]), and its cancellation reasons come back under those names.

use std::error::Error as StdError;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue, Select};
use domain::audit::Retention;

use crate::expr::{Expr, conditioned};
use crate::failure::Failure;
use crate::item::{Item, key};
use crate::keys::PrimaryKey;
use crate::txn::{Transaction, TxnError};

/// Most keys one `BatchGetItem` takes.
const BATCH_GET_SIZE: usize = 100;

/// Why a conditional write of one item did not happen.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The write's condition did not hold: nothing changed.
    ConditionFailed,
    /// The request failed.
    Failed(Failure),
}

impl WriteError {
    /// `err`, a failed write request, sorted: a failed condition (`is_condition` tells it
    /// by the operation's own error type) or a failure.
    fn of<E>(err: SdkError<E, HttpResponse>, is_condition: impl Fn(&E) -> bool) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        match err.as_service_error() {
            Some(e) if is_condition(e) => WriteError::ConditionFailed,
            _ => WriteError::Failed(Failure::of(err)),
        }
    }
}

/// One DynamoDB table, and how long the history entries written through it are kept.
#[derive(Debug, Clone)]
pub struct Table {
    client: Client,
    name: Arc<str>,
    audit_retention: Retention,
}

impl Table {
    /// The table `name`, reached through `client`, keeping history entries for the default
    /// retention.
    pub fn new(client: Client, name: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            name: name.into(),
            audit_retention: Retention::DEFAULT,
        }
    }

    /// The same table, keeping the history entries written through it for `retention`.
    pub fn with_audit_retention(self, retention: Retention) -> Self {
        Self {
            audit_retention: retention,
            ..self
        }
    }

    /// How long the history entries written through this handle are kept.
    pub(crate) fn audit_retention(&self) -> Retention {
        self.audit_retention
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The item at `key`, read strongly consistently.
    pub(crate) async fn get(&self, at: &PrimaryKey) -> Result<Option<Item>, Failure> {
        let output = self
            .client
            .get_item()
            .table_name(self.name())
            .set_key(Some(key(at)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }

    /// The items at `keys` that exist, in no particular order, in as many `BatchGetItem`s
    /// as 100-key chunks and unprocessed keys need.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, Failure> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_SIZE) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(Failure::failed)?,
            );
            while let Some(keys_and_attributes) = request.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(self.name(), keys_and_attributes)
                    .send()
                    .await?;
                if let Some(items) = output.responses.and_then(|mut r| r.remove(self.name())) {
                    found.extend(items);
                }
                request = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.name()))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }

    /// How many items the index `index` holds under the partition key `partition` (the
    /// value of its attribute `partition_attr`): `Select=COUNT` queries, eventually
    /// consistent, following `LastEvaluatedKey` (each query counts at most 1 MB of items).
    pub(crate) async fn count(
        &self,
        index: &str,
        partition_attr: &str,
        partition: &str,
    ) -> Result<u64, Failure> {
        let mut total = 0_u64;
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.name())
                .index_name(index)
                .key_condition_expression("#kp = :kp")
                .expression_attribute_names("#kp", partition_attr)
                .expression_attribute_values(":kp", AttributeValue::S(partition.to_owned()))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            total += u64::try_from(output.count).unwrap_or(0);
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(total),
            }
        }
    }

    /// Writes `item` if `condition` holds.
    pub(crate) async fn put(&self, item: Item, condition: &Expr) -> Result<(), WriteError> {
        let put = self.client.put_item().table_name(self.name());
        conditioned!(put.set_item(Some(item)), condition)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                WriteError::of(e, |e| {
                    matches!(e, PutItemError::ConditionalCheckFailedException(_))
                })
            })
    }

    /// Applies `expr` (its update, under its condition) to the item at `at` and returns
    /// the item as written.
    pub(crate) async fn update(&self, at: &PrimaryKey, expr: &Expr) -> Result<Item, WriteError> {
        let update = self.client.update_item().table_name(self.name());
        let update = update
            .set_key(Some(key(at)))
            .set_update_expression(expr.update_expression());
        conditioned!(update, expr)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map(|output| output.attributes.unwrap_or_default())
            .map_err(|e| {
                WriteError::of(e, |e| {
                    matches!(e, UpdateItemError::ConditionalCheckFailedException(_))
                })
            })
    }

    /// Deletes the item at `at` if `condition` holds, returning it as it was.
    pub(crate) async fn delete_returning(
        &self,
        at: &PrimaryKey,
        condition: &Expr,
    ) -> Result<Item, WriteError> {
        let delete = self.client.delete_item().table_name(self.name());
        conditioned!(delete.set_key(Some(key(at))), condition)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map(|output| output.attributes.unwrap_or_default())
            .map_err(|e| {
                WriteError::of(e, |e| {
                    matches!(e, DeleteItemError::ConditionalCheckFailedException(_))
                })
            })
    }

    /// Commits `transaction` or changes nothing.
    pub(crate) async fn transact(&self, transaction: Transaction) -> Result<(), TxnError> {
        let (ops, items) = transaction.into_parts();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let codes = cancelled.cancellation_reasons().iter().map(|r| r.code());
            return Err(TxnError::cancelled(&ops, codes));
        }
        Err(TxnError::Failed(Failure::of(err)))
    }
}
