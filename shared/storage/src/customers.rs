//! [`CustomerStore`] and [`SignInStateStore`] on DynamoDB.
//!
//! - A customer is one item; the identity item `IDENTITY#GOOGLE#<sub>` maps the provider's
//!   subject to it. Registering writes both in one transaction, each conditioned on not
//!   existing yet, so concurrent first sign-ins of one person make one customer (the
//!   retry that finds the winner is `domain::customer_use_cases`).
//! - A pending sign-in is one item with a TTL (`expires_at`). DynamoDB deletes expired
//!   items lazily, so taking one is a conditional `DeleteItem` (`expires_at > now`)
//!   returning the old item: an expired or already used state finds nothing, atomically.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::customer::{Customer, PendingSignIn, ProfileChange, Registration, SignIn};
use domain::{CustomerError, CustomerId, CustomerStore, SignInStateStore, Timestamp};

use crate::expr::Expr;
use crate::item::{n, s};
use crate::keys;
use crate::records::attr;
use crate::records::customer::{CustomerRecord, IdentityRecord, SignInRecord};
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

impl DynamoCustomers {
    /// Applies `expr` to the customer item (which must exist) and returns it as written.
    async fn update_customer(&self, id: CustomerId, expr: Expr) -> Result<Customer, CustomerError> {
        let expr = expr.when_exists(keys::PK);
        match self.table.update(&keys::customer(id), &expr).await {
            Ok(item) => Ok(CustomerRecord::decode(item)?),
            Err(TableError::ConditionFailed) => Err(CustomerError::NotFound),
            Err(other) => Err(other.into()),
        }
    }
}

/// A storage failure that is not one of the SDK's errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Inconsistent(&'static str);

impl CustomerStore for DynamoCustomers {
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

    async fn register(
        &self,
        customer: &Customer,
        subject: &str,
    ) -> Result<Registration, CustomerError> {
        let absent = || Expr::new().when_absent(keys::PK);
        let identity = IdentityRecord::encode(subject, customer.id)?;
        let record = CustomerRecord::encode_new(customer, subject)?;
        let items = Transaction::new()
            .with(
                Op::Identity,
                txn::put(self.table.name(), identity, absent())?,
            )
            .with(Op::Customer, txn::put(self.table.name(), record, absent())?);
        match self.table.transact(items).await {
            Ok(()) => Ok(Registration::Registered),
            Err(err) if err.condition_failed(Op::Identity) => Ok(Registration::SubjectTaken),
            Err(TxnError::Cancelled(codes)) => Err(CustomerError::storage(txn::Cancelled(codes))),
            Err(TxnError::Unavailable(err)) => Err(CustomerError::StorageUnavailable(err)),
            Err(TxnError::Failed(err)) => Err(CustomerError::Storage(err)),
        }
    }

    async fn refresh(&self, id: CustomerId, sign_in: &SignIn) -> Result<Customer, CustomerError> {
        let expr = Expr::new()
            .set(attr::EMAIL, s(&sign_in.email))
            .set(attr::NAME, s(sign_in.name.as_str()))
            .set(attr::IS_ADMIN, AttributeValue::Bool(sign_in.is_admin))
            .set(attr::UPDATED_AT, s(Timestamp::now().to_string()));
        self.update_customer(id, expr).await
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
