//! Pure domain of the order system: identifiers, money, catalog types and their rules,
//! pagination, and the ports (traits) that storage adapters implement.
//!
//! Nothing here knows about AWS, HTTP or JSON bodies: values are parsed into these types
//! at the edges ("parse, don't validate") and are valid for as long as they exist.

pub mod audit;
pub mod catalog;
pub mod catalog_history;
pub mod catalog_use_cases;
pub mod category;
pub mod category_move;
pub mod customer;
pub mod customer_use_cases;
pub mod error;
pub mod id;
pub mod money;
pub mod notification;
pub mod order;
pub mod page;
pub mod payment;
pub mod payment_use_cases;
pub mod product;
pub mod stock_buckets;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod timestamp;

pub use catalog::{CatalogError, CategoryListing, CategoryStore, ProductStore};
pub use customer::{CustomerError, CustomerId, CustomerStore, PhoneNumber, SignInStateStore};
pub use error::{FieldError, ValidationErrors};
pub use id::{CategoryId, OrderId, ProductId};
pub use money::Money;
pub use page::{Cursor, Page, PageLimit, PageRequest};
pub use timestamp::Timestamp;
