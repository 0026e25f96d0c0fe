//! The one handle every adapter works through: the DynamoDB client and the table's name,
//! with the few operations the adapters need.
//!
//! Invariants: a single-item read is strongly consistent (it precedes a conditional write);
//! a single-item write carries its condition and reports a failed one as
//! [`TableError::ConditionFailed`] (nothing changed); a batch read retries the keys
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

use crate::expr::{Expr, conditioned};
use crate::item::{Item, key};
use crate::keys::PrimaryKey;
use crate::txn::{Transaction, TxnError};

/// Most keys one `BatchGetItem` takes.
const BATCH_GET_SIZE: usize = 100;

/// Why an operation on one item (or a read) did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TableError {
    /// The write's condition did not hold: nothing changed.
    #[error("the write's condition did not hold")]
    ConditionFailed,
    /// DynamoDB could not be reached, timed out or throttled the request (after the
    /// SDK's own retries): nothing changed, and the same request may succeed later.
    #[error(transparent)]
    Unavailable(Box<dyn StdError + Send + Sync>),
    /// The request failed otherwise (rejected, a key the SDK cannot build).
    #[error(transparent)]
    Request(Box<dyn StdError + Send + Sync>),
}

impl TableError {
    fn request(err: impl StdError + Send + Sync + 'static) -> Self {
        TableError::Request(Box::new(err))
    }
}

/// A failed request, sorted by whether retrying it later can help.
pub(crate) enum RequestFailure {
    Unavailable(Box<dyn StdError + Send + Sync>),
    Failed(Box<dyn StdError + Send + Sync>),
}

/// DynamoDB's error codes for a request refused for its rate, not its content.
const THROTTLED: [&str; 4] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
];

impl RequestFailure {
    /// Sorts `err`: the endpoint unreachable, a timeout, a garbled response, a 5xx or
    /// throttling is `Unavailable`; anything else `Failed`.
    pub(crate) fn of<E>(err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let transient = match &err {
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                service.raw().status().is_server_error()
                    || service.err().code().is_some_and(|c| THROTTLED.contains(&c))
            }
            _ => false,
        };
        let err: Box<dyn StdError + Send + Sync> = Box::new(err);
        if transient {
            RequestFailure::Unavailable(err)
        } else {
            RequestFailure::Failed(err)
        }
    }
}

impl From<RequestFailure> for TableError {
    fn from(failure: RequestFailure) -> Self {
        match failure {
            RequestFailure::Unavailable(err) => TableError::Unavailable(err),
            RequestFailure::Failed(err) => TableError::Request(err),
        }
    }
}

impl<E> From<SdkError<E, HttpResponse>> for TableError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        RequestFailure::of(err).into()
    }
}

/// One DynamoDB table.
#[derive(Debug, Clone)]
pub struct Table {
    client: Client,
    name: Arc<str>,
}

impl Table {
    /// The table `name`, reached through `client`.
    pub fn new(client: Client, name: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The item at `key`, read strongly consistently.
    pub(crate) async fn get(&self, at: &PrimaryKey) -> Result<Option<Item>, TableError> {
        let output = self
            .client
            .get_item()
            .table_name(self.name())
            .set_key(Some(key(at)))
            .consistent_read(true)
            .send()
            .await
            .map_err(TableError::from)?;
        Ok(output.item)
    }

    /// The items at `keys` that exist, in no particular order, in as many `BatchGetItem`s
    /// as 100-key chunks and unprocessed keys need.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, TableError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_SIZE) {
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(TableError::request)?,
            );
            while let Some(keys_and_attributes) = request.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(self.name(), keys_and_attributes)
                    .send()
                    .await
                    .map_err(TableError::from)?;
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
    ) -> Result<u64, TableError> {
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
                .await
                .map_err(TableError::from)?;
            total += u64::try_from(output.count).unwrap_or(0);
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(total),
            }
        }
    }

    /// Writes `item` if `condition` holds.
    pub(crate) async fn put(&self, item: Item, condition: &Expr) -> Result<(), TableError> {
        let put = self.client.put_item().table_name(self.name());
        conditioned!(put.set_item(Some(item)), condition)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match e {
                SdkError::ServiceError(s)
                    if matches!(s.err(), PutItemError::ConditionalCheckFailedException(_)) =>
                {
                    TableError::ConditionFailed
                }
                other => other.into(),
            })
    }

    /// Applies `expr` (its update, under its condition) to the item at `at` and returns
    /// the item as written.
    pub(crate) async fn update(&self, at: &PrimaryKey, expr: &Expr) -> Result<Item, TableError> {
        let update = self.client.update_item().table_name(self.name());
        let update = update
            .set_key(Some(key(at)))
            .set_update_expression(expr.update_expression());
        conditioned!(update, expr)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map(|output| output.attributes.unwrap_or_default())
            .map_err(|e| match e {
                SdkError::ServiceError(s)
                    if matches!(s.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
                {
                    TableError::ConditionFailed
                }
                other => other.into(),
            })
    }

    /// Deletes the item at `at` if `condition` holds, returning it as it was.
    pub(crate) async fn delete_returning(
        &self,
        at: &PrimaryKey,
        condition: &Expr,
    ) -> Result<Item, TableError> {
        let delete = self.client.delete_item().table_name(self.name());
        conditioned!(delete.set_key(Some(key(at))), condition)
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map(|output| output.attributes.unwrap_or_default())
            .map_err(|e| match e {
                SdkError::ServiceError(s)
                    if matches!(s.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
                {
                    TableError::ConditionFailed
                }
                other => other.into(),
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
        Err(match RequestFailure::of(err) {
            RequestFailure::Unavailable(err) => TxnError::Unavailable(err),
            RequestFailure::Failed(err) => TxnError::Failed(err),
        })
    }
}
