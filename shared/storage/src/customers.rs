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
use domain::customer::{Customer, PendingSignIn, ProfileChange, SignIn};
use domain::{CustomerError, CustomerId, CustomerStore, SignInStateStore, Timestamp};

use crate::expr::Expr;
use crate::item::{Item, n, s};
use crate::keys;
use crate::records::RecordError;
use crate::records::customer::{CustomerRecord, IdentityRecord, SignInRecord, attr};
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
        Ok(item.map(IdentityRecord::decode).transpose()?)
    }

    /// Applies `expr` to the customer item (which must exist) and returns it as written.
    async fn update_customer(&self, id: CustomerId, expr: Expr) -> Result<Customer, CustomerError> {
        let expr = expr.when_exists(keys::PK);
        match self.table.update(&keys::customer(id), &expr).await {
            Ok(item) => Ok(CustomerRecord::decode(item)?),
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
        let put = |item: Result<Item, RecordError>| {
            let item = item.map_err(|e| FirstSignIn::Failed(e.into()))?;
            txn::put(self.table.name(), item, absent()).map_err(|e| FirstSignIn::Failed(e.into()))
        };
        let items = Transaction::new()
            .with(
                Op::Identity,
                put(IdentityRecord::encode(&sign_in.subject, customer.id))?,
            )
            .with(
                Op::Customer,
                put(CustomerRecord::encode_new(&customer, &sign_in.subject))?,
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
        Ok(item.map(CustomerRecord::decode).transpose()?)
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
        let item = SignInRecord::encode(&pending)?;
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
            .when_greater(attr::EXPIRES_AT, n(now));
        let item = match self
            .table
            .delete_returning(&keys::sign_in_state(state), &live)
            .await
        {
            Ok(item) => item,
            Err(TableError::ConditionFailed) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        Ok(Some(SignInRecord::decode(state, item)?))
    }
}
