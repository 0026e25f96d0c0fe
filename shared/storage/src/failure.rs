//! The storage layer's own failures, each turned into every domain error the adapters
//! return, in one place: all of them are storage failures to the domain (a conflicting or
//! refused change is reported by the adapter itself, before it gets here), sorted into
//! `StorageUnavailable` (DynamoDB unreachable, timing out or throttling: retry later) and
//! `Storage` (anything else).

use domain::CatalogError;
use domain::customer::CustomerError;
use domain::order::{OrderError, PlaceFailure};

use crate::item::MalformedItem;
use crate::records::RecordError;
use crate::table::{RequestFailure, TableError};
use crate::txn::BuildFailed;

/// A storage failure as the domain sees it: worth retrying later (DynamoDB unreachable,
/// timing out or throttling), or not.
trait Sorted {
    fn sorted(self) -> RequestFailure;
}

impl Sorted for TableError {
    fn sorted(self) -> RequestFailure {
        match self {
            TableError::Unavailable(err) => RequestFailure::Unavailable(err),
            other => RequestFailure::Failed(Box::new(other)),
        }
    }
}

/// Failures that retrying cannot cure (bugs of ours, malformed items).
macro_rules! permanent {
    ($($failure:ty),+) => {$(
        impl Sorted for $failure {
            fn sorted(self) -> RequestFailure {
                RequestFailure::Failed(Box::new(self))
            }
        }
    )+};
}

permanent!(BuildFailed, MalformedItem, RecordError);

/// `From<$failure>` for each domain error of the adapters.
macro_rules! storage_failures {
    ($($failure:ty),+ $(,)?) => {$(
        impl From<$failure> for CatalogError {
            fn from(err: $failure) -> Self {
                match err.sorted() {
                    RequestFailure::Unavailable(e) => CatalogError::StorageUnavailable(e),
                    RequestFailure::Failed(e) => CatalogError::Storage(e),
                }
            }
        }

        impl From<$failure> for OrderError {
            fn from(err: $failure) -> Self {
                match err.sorted() {
                    RequestFailure::Unavailable(e) => OrderError::StorageUnavailable(e),
                    RequestFailure::Failed(e) => OrderError::Storage(e),
                }
            }
        }

        impl From<$failure> for CustomerError {
            fn from(err: $failure) -> Self {
                match err.sorted() {
                    RequestFailure::Unavailable(e) => CustomerError::StorageUnavailable(e),
                    RequestFailure::Failed(e) => CustomerError::Storage(e),
                }
            }
        }

        impl From<$failure> for PlaceFailure {
            fn from(err: $failure) -> Self {
                PlaceFailure::Other(err.into())
            }
        }
    )+};
}

storage_failures!(BuildFailed, MalformedItem, RecordError, TableError);
