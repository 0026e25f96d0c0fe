//! The storage layer's one failure type: why a request to DynamoDB (or the item it read or
//! meant to write) failed, sorted once by whether retrying later can help.
//!
//! Invariants: every storage failure the adapters report is a [`Failure`], and each domain
//! error has exactly one conversion from it (below): `Unavailable` (DynamoDB unreachable,
//! timing out or throttling: retry later, a 503) becomes `StorageUnavailable`, `Failed`
//! (anything else: a refused request, a malformed stored item, a bug of ours) becomes
//! `Storage`. A refused conditional write or a cancelled transaction is not a failure:
//! [`crate::table::WriteError`] and [`crate::txn::TxnError`] report those, and the adapter
//! says what they mean before anything reaches the domain.

use std::error::Error as StdError;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use domain::CatalogError;
use domain::audit::AuditError;
use domain::customer::CustomerError;
use domain::order::{OrderError, PlaceFailure};

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

impl From<Failure> for CatalogError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(e) => CatalogError::StorageUnavailable(e),
            Failure::Failed(e) => CatalogError::Storage(e),
        }
    }
}

impl From<Failure> for OrderError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(e) => OrderError::StorageUnavailable(e),
            Failure::Failed(e) => OrderError::Storage(e),
        }
    }
}

impl From<Failure> for PlaceFailure {
    fn from(failure: Failure) -> Self {
        PlaceFailure::Other(failure.into())
    }
}

impl From<Failure> for CustomerError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(e) => CustomerError::StorageUnavailable(e),
            Failure::Failed(e) => CustomerError::Storage(e),
        }
    }
}

impl From<Failure> for AuditError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(e) => AuditError::StorageUnavailable(e),
            Failure::Failed(e) => AuditError::Storage(e),
        }
    }
}

impl From<Failure> for domain::error::StorageFailure {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(e) => domain::error::StorageFailure::Unavailable(e),
            Failure::Failed(e) => domain::error::StorageFailure::Failed(e),
        }
    }
}

impl From<Failure> for domain::payment_use_cases::PaymentError {
    fn from(failure: Failure) -> Self {
        domain::payment_use_cases::PaymentError::Storage(failure.into())
    }
}

impl From<Failure> for domain::payment_use_cases::WriteFailure {
    fn from(failure: Failure) -> Self {
        domain::payment_use_cases::WriteFailure::Other(failure.into())
    }
}
