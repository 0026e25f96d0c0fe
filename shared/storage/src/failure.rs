//! The storage layer's own failures, each turned into every domain error the adapters
//! return, in one place: all of them are storage failures to the domain (a conflicting or
//! refused change is reported by the adapter itself, before it gets here).

use domain::CatalogError;
use domain::customer::CustomerError;
use domain::order::{OrderError, PlaceFailure};

use crate::item::MalformedItem;
use crate::records::RecordError;
use crate::table::TableError;
use crate::txn::BuildFailed;

/// `From<$failure>` for each domain error of the adapters.
macro_rules! storage_failures {
    ($($failure:ty),+ $(,)?) => {$(
        impl From<$failure> for CatalogError {
            fn from(err: $failure) -> Self {
                CatalogError::storage(err)
            }
        }

        impl From<$failure> for OrderError {
            fn from(err: $failure) -> Self {
                OrderError::storage(err)
            }
        }

        impl From<$failure> for CustomerError {
            fn from(err: $failure) -> Self {
                CustomerError::storage(err)
            }
        }

        impl From<$failure> for PlaceFailure {
            fn from(err: $failure) -> Self {
                PlaceFailure::Other(OrderError::storage(err))
            }
        }
    )+};
}

storage_failures!(BuildFailed, MalformedItem, RecordError, TableError);
