//! [`CustomerStore`] and [`SignInStateStore`] on DynamoDB.
//!
//! - A customer is one item; the identity item `IDENTITY#GOOGLE#<sub>` maps the provider's
//!   subject to it. The first sign-in writes both in one transaction, each conditioned on
//!   not existing yet, so concurrent first sign-ins of one person make one customer.
//! - A pending sign-in is one item with a TTL (`expires_at`). DynamoDB deletes expired
//!   items lazily, so taking one is a conditional `DeleteItem` (`expires_at > now`)
//!   returning the old item: an expired or already used state finds nothing, atomically.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::customer::{Customer, CustomerName, PendingSignIn, PhoneNumber, ProfileChange, SignIn};
use domain::{CustomerError, CustomerId, CustomerStore, SignInStateStore, Timestamp};

use crate::expr::Expr;
use crate::item::{Fields, Item, MalformedItem, key, n, s};
use crate::keys::{self, customer_entity};
use crate::table::{Table, TableError};
use crate::txn::{self, Op, Transaction, TxnError};

/// Customers and pending sign-ins on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoCustomers {
    table: Table,
}

impl DynamoCustomers {
    /// Customer storage on `table`, reached through `client`.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }
}

impl From<MalformedItem> for CustomerError {
    fn from(err: MalformedItem) -> Self {
        CustomerError::storage(err)
    }
}

/// Customer attribute names.
mod attr {
    pub const ID: &str = "id";
    pub const EMAIL: &str = "email";
    pub const NAME: &str = "name";
    pub const PHONE_NUMBER: &str = "phone_number";
    pub const IS_ADMIN: &str = "is_admin";
    /// The identity provider's subject the customer signs in as.
    pub const SUBJECT: &str = "provider_subject";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
    /// Identity item: the customer it belongs to.
    pub const CUSTOMER_ID: &str = "customer_id";
}

/// Pending sign-in attribute names.
mod state_attr {
    pub const NONCE: &str = "nonce";
    pub const PKCE_VERIFIER: &str = "pkce_verifier";
    pub const REDIRECT_URI: &str = "redirect_uri";
    /// The table's TTL attribute (Unix seconds).
    pub const EXPIRES_AT: &str = "expires_at";
}

fn decode_customer(item: &Item) -> Result<Customer, MalformedItem> {
    let f = Fields(item);
    Ok(Customer {
        id: f.parse(attr::ID)?,
        email: f.str(attr::EMAIL)?.to_owned(),
        name: CustomerName::parse(f.str(attr::NAME)?).map_err(|_| MalformedItem(attr::NAME))?,
        phone_number: f
            .opt_str(attr::PHONE_NUMBER)?
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|_| MalformedItem(attr::PHONE_NUMBER))?,
        is_admin: f.bool(attr::IS_ADMIN)?,
        created_at: f.timestamp(attr::CREATED_AT)?,
        updated_at: f.timestamp(attr::UPDATED_AT)?,
    })
}

fn encode_new_customer(customer: &Customer, subject: &str) -> Item {
    let mut item = key(&keys::customer(customer.id));
    item.extend([
        (keys::ENTITY_TYPE.to_owned(), s(customer_entity::CUSTOMER)),
        (attr::ID.to_owned(), s(customer.id.to_string())),
        (attr::EMAIL.to_owned(), s(&customer.email)),
        (attr::NAME.to_owned(), s(customer.name.as_str())),
        (
            attr::IS_ADMIN.to_owned(),
            AttributeValue::Bool(customer.is_admin),
        ),
        (attr::SUBJECT.to_owned(), s(subject)),
        (
            attr::CREATED_AT.to_owned(),
            s(customer.created_at.to_string()),
        ),
        (
            attr::UPDATED_AT.to_owned(),
            s(customer.updated_at.to_string()),
        ),
    ]);
    if let Some(phone) = &customer.phone_number {
        item.insert(attr::PHONE_NUMBER.to_owned(), s(phone.as_str()));
    }
    item
}

fn encode_identity(subject: &str, customer: CustomerId) -> Item {
    let mut item = key(&keys::customer_identity(keys::GOOGLE_PROVIDER, subject));
    item.extend([
        (
            keys::ENTITY_TYPE.to_owned(),
            s(customer_entity::CUSTOMER_IDENTITY),
        ),
        (attr::CUSTOMER_ID.to_owned(), s(customer.to_string())),
    ]);
    item
}

/// How a first-sign-in transaction ended when it did not write.
enum FirstSignIn {
    /// Another request registered this subject first.
    SubjectTaken,
    Failed(CustomerError),
}

impl DynamoCustomers {
    /// The customer id registered for `subject`, read strongly consistently.
    async fn customer_of_subject(
        &self,
        subject: &str,
    ) -> Result<Option<CustomerId>, CustomerError> {
        let item = self
            .table
            .get(&keys::customer_identity(keys::GOOGLE_PROVIDER, subject))
            .await?;
        Ok(item
            .as_ref()
            .map(|item| Fields(item).parse::<CustomerId>(attr::CUSTOMER_ID))
            .transpose()?)
    }

    /// Applies `expr` to the customer item (which must exist) and returns it as written.
    async fn update_customer(&self, id: CustomerId, expr: Expr) -> Result<Customer, CustomerError> {
        let expr = expr.when_exists(keys::PK);
        match self.table.update(&keys::customer(id), &expr).await {
            Ok(item) => Ok(decode_customer(&item)?),
            Err(TableError::ConditionFailed) => Err(CustomerError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    async fn create_on_first_sign_in(&self, sign_in: &SignIn) -> Result<Customer, FirstSignIn> {
        let now = Timestamp::now();
        let customer = Customer {
            id: CustomerId::generate(),
            email: sign_in.email.clone(),
            name: sign_in.name.clone(),
            phone_number: None,
            is_admin: sign_in.is_admin,
            created_at: now,
            updated_at: now,
        };
        let absent = || Expr::new().when_absent(keys::PK);
        let put = |item| {
            txn::put(self.table.name(), item, absent()).map_err(|e| FirstSignIn::Failed(e.into()))
        };
        let items = Transaction::new()
            .with(
                Op::Identity,
                put(encode_identity(&sign_in.subject, customer.id))?,
            )
            .with(
                Op::Customer,
                put(encode_new_customer(&customer, &sign_in.subject))?,
            );
        match self.table.transact(items).await {
            Ok(()) => Ok(customer),
            Err(err) if err.condition_failed(Op::Identity) => Err(FirstSignIn::SubjectTaken),
            Err(TxnError::Cancelled(codes)) => Err(FirstSignIn::Failed(CustomerError::storage(
                crate::txn::Cancelled(codes),
            ))),
            Err(TxnError::Failed(err)) => Err(FirstSignIn::Failed(CustomerError::Storage(err))),
        }
    }
}

/// A storage failure that is not one of the SDK's errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Inconsistent(&'static str);

impl CustomerStore for DynamoCustomers {
    async fn sign_in(&self, sign_in: SignIn) -> Result<Customer, CustomerError> {
        // Two rounds cover a concurrent first sign-in of the same subject: the loser
        // finds the winner's identity item on its second read.
        for _ in 0..2 {
            if let Some(id) = self.customer_of_subject(&sign_in.subject).await? {
                let expr = Expr::new()
                    .set(attr::EMAIL, s(&sign_in.email))
                    .set(attr::NAME, s(sign_in.name.as_str()))
                    .set(attr::IS_ADMIN, AttributeValue::Bool(sign_in.is_admin))
                    .set(attr::UPDATED_AT, s(Timestamp::now().to_string()));
                return match self.update_customer(id, expr).await {
                    Err(CustomerError::NotFound) => Err(CustomerError::storage(Inconsistent(
                        "identity item refers to a missing customer",
                    ))),
                    other => other,
                };
            }
            match self.create_on_first_sign_in(&sign_in).await {
                Ok(customer) => return Ok(customer),
                Err(FirstSignIn::SubjectTaken) => continue,
                Err(FirstSignIn::Failed(err)) => return Err(err),
            }
        }
        Err(CustomerError::storage(Inconsistent(
            "identity item neither readable nor writable",
        )))
    }

    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, CustomerError> {
        let item = self.table.get(&keys::customer(id)).await?;
        Ok(item.as_ref().map(decode_customer).transpose()?)
    }

    async fn update_profile(
        &self,
        id: CustomerId,
        change: ProfileChange,
    ) -> Result<Customer, CustomerError> {
        let mut expr = Expr::new().set(attr::UPDATED_AT, s(Timestamp::now().to_string()));
        if let Some(name) = &change.name {
            expr = expr.set(attr::NAME, s(name.as_str()));
        }
        if let Some(phone) = &change.phone_number {
            expr = expr.set_or_remove(attr::PHONE_NUMBER, phone.as_ref().map(|p| s(p.as_str())));
        }
        self.update_customer(id, expr).await
    }
}

impl SignInStateStore for DynamoCustomers {
    async fn save_pending(&self, pending: PendingSignIn) -> Result<(), CustomerError> {
        let mut item = key(&keys::sign_in_state(&pending.state));
        item.extend([
            (
                keys::ENTITY_TYPE.to_owned(),
                s(customer_entity::SIGN_IN_STATE),
            ),
            (state_attr::NONCE.to_owned(), s(&pending.nonce)),
            (
                state_attr::PKCE_VERIFIER.to_owned(),
                s(&pending.pkce_verifier),
            ),
            (
                state_attr::REDIRECT_URI.to_owned(),
                s(&pending.redirect_uri),
            ),
            (state_attr::EXPIRES_AT.to_owned(), n(pending.expires_at)),
        ]);
        let absent = Expr::new().when_absent(keys::PK);
        match self.table.put(item, &absent).await {
            Ok(()) => Ok(()),
            Err(TableError::ConditionFailed) => Err(CustomerError::storage(Inconsistent(
                "sign-in state collision",
            ))),
            Err(other) => Err(other.into()),
        }
    }

    async fn take_pending(
        &self,
        state: &str,
        now: i64,
    ) -> Result<Option<PendingSignIn>, CustomerError> {
        let live = Expr::new()
            .when_exists(keys::PK)
            .when_greater(state_attr::EXPIRES_AT, n(now));
        let item = match self
            .table
            .delete_returning(&keys::sign_in_state(state), &live)
            .await
        {
            Ok(item) => item,
            Err(TableError::ConditionFailed) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let f = Fields(&item);
        Ok(Some(PendingSignIn {
            state: state.to_owned(),
            nonce: f.str(state_attr::NONCE)?.to_owned(),
            pkce_verifier: f.str(state_attr::PKCE_VERIFIER)?.to_owned(),
            redirect_uri: f.str(state_attr::REDIRECT_URI)?.to_owned(),
            expires_at: f.number(state_attr::EXPIRES_AT)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_round_trip_through_items() {
        let now = Timestamp::now();
        let customer = Customer {
            id: CustomerId::generate(),
            email: "w@example.com".into(),
            name: CustomerName::parse("Wanjiku").expect("name"),
            phone_number: Some(PhoneNumber::parse("0712345678").expect("phone")),
            is_admin: false,
            created_at: now,
            updated_at: now,
        };
        let item = encode_new_customer(&customer, "sub-1");
        assert_eq!(item.get(keys::ENTITY_TYPE), Some(&s("Customer")));
        assert_eq!(item.get(attr::SUBJECT), Some(&s("sub-1")));
        assert_eq!(decode_customer(&item).expect("decodes"), customer);
        let without_phone = Customer {
            phone_number: None,
            ..customer
        };
        let item = encode_new_customer(&without_phone, "sub-1");
        assert!(
            !item.contains_key(attr::PHONE_NUMBER),
            "no made-up phone number"
        );
        assert_eq!(decode_customer(&item).expect("decodes"), without_phone);
    }
}
