//! The JSON view of a customer, shared by the `auth` and `customers` functions.

use domain::customer::Customer;
use domain::{CustomerId, Timestamp};
use serde::Serialize;

/// A customer as the API shows it (`phone_number` is E.164 or `null`).
#[derive(Debug, Serialize)]
pub struct CustomerView {
    pub id: CustomerId,
    pub email: String,
    pub name: String,
    pub phone_number: Option<String>,
    pub is_admin: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id,
            email: c.email,
            name: c.name.as_str().to_owned(),
            phone_number: c.phone_number.map(|p| p.as_str().to_owned()),
            is_admin: c.is_admin,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
