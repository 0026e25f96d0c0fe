//! The storage layer's one failure type: why a request to DynamoDB (or the item it read or
//! meant to write) failed, sorted once by whether retrying later can help.
//!
//! Invariants: every storage failure the adapters report is a [`Failure`], and it reaches
//! the domain as one [`StorageFailure`], kept whole in each domain error's `Storage`
//! variant: `Unavailable` (DynamoDB unreachable, timing out or throttling: retry later, a
//! 503) or `Failed` (anything else: a refused request, a malformed stored item, a bug of
//! ours). A list's page fails with a [`ListFailure`]: that, or a cursor not of the list.
//! A refused conditional write or a cancelled transaction is not a failure:
//! [`crate::table::WriteError`] and [`crate::txn::TxnError`] report those, and the adapter
//! says what they mean before anything reaches the domain.

use std::error::Error as StdError;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use domain::CatalogError;
use domain::audit::AuditError;
use domain::customer::CustomerError;
use domain::error::StorageFailure;
use domain::order::{OrderError, PlaceFailure};
use domain::payment_use_cases::{PaymentError, WriteFailure};

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// A storage failure, sorted by whether the same request may succeed later.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// DynamoDB could not be reached, timed out or throttled the request (after the SDK's
    /// own retries): nothing changed, and the same request may succeed later.
    #[error(transparent)]
    Unavailable(BoxError),
    /// Anything else: the request was refused, a stored item does not have the shape this
    /// code writes, or a request could not be built (a bug of ours).
    #[error(transparent)]
    Failed(BoxError),
}

/// DynamoDB's error codes for a request refused for its rate, not its content.
const THROTTLED: [&str; 4] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
];

impl Failure {
    /// Sorts `err`: the endpoint unreachable, a timeout, a garbled response, a 5xx or
    /// throttling is `Unavailable`; anything else `Failed`.
    pub fn of<E>(err: SdkError<E, HttpResponse>) -> Self
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
        let err: BoxError = Box::new(err);
        if transient {
            Failure::Unavailable(err)
        } else {
            Failure::Failed(err)
        }
    }

    /// A failure that retrying cannot cure, described by `err`.
    pub fn failed(err: impl Into<BoxError>) -> Self {
        Failure::Failed(err.into())
    }

    /// A stored item that does not decode into its `record`, or a record that does not
    /// encode: "`record` item: `source`".
    pub fn record(record: &'static str, source: impl Into<BoxError>) -> Self {
        Self::failed(format!("{record} item: {}", source.into()))
    }

    /// An item read without its record (a query's projection, a cursor) that lacks the
    /// attribute `name` or holds it in another type.
    pub fn malformed(name: &'static str) -> Self {
        Self::failed(format!(
            "stored item has a missing or malformed attribute {name:?}"
        ))
    }
}

impl<E> From<SdkError<E, HttpResponse>> for Failure
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        Failure::of(err)
    }
}

/// A transaction item the SDK could not build (a required field unset: a bug of ours).
impl From<BuildError> for Failure {
    fn from(err: BuildError) -> Self {
        Failure::failed(format!("building a transaction item: {err}"))
    }
}

/// Why a page of a list was not read: its cursor is not the list's (the client's
/// business, a 400), or storage failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListFailure {
    #[error("the cursor is not valid for this list")]
    InvalidCursor,
    #[error(transparent)]
    Storage(#[from] Failure),
}

impl From<Failure> for StorageFailure {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(e) => StorageFailure::Unavailable(e),
            Failure::Failed(e) => StorageFailure::Failed(e),
        }
    }
}

/// Each domain error that has a `Storage(StorageFailure)` variant takes a [`Failure`]
/// there, and (where it lists) a [`ListFailure`] as its own `InvalidCursor` or `Storage`.
macro_rules! storage_failure_into {
    ($($error:ty),+ $(,)?) => {$(
        impl From<Failure> for $error {
            fn from(failure: Failure) -> Self {
                Self::Storage(failure.into())
            }
        }

        impl From<ListFailure> for $error {
            fn from(failure: ListFailure) -> Self {
                match failure {
                    ListFailure::InvalidCursor => Self::InvalidCursor,
                    ListFailure::Storage(failure) => failure.into(),
                }
            }
        }
    )+};
}

storage_failure_into!(
    CatalogError,
    OrderError,
    CustomerError,
    AuditError,
    PaymentError
);

impl From<Failure> for PlaceFailure {
    fn from(failure: Failure) -> Self {
        PlaceFailure::Other(failure.into())
    }
}

impl From<Failure> for WriteFailure {
    fn from(failure: Failure) -> Self {
        WriteFailure::Other(failure.into())
    }
}
