//! [`CustomerStore`] and [`SignInStateStore`] on DynamoDB.
//!
//! - A customer is one item; the identity item `IDENTITY#GOOGLE#<sub>` maps the provider's
//!   subject to it. Registering writes both in one transaction, each conditioned on not
//!   existing yet, so concurrent first sign-ins of one person make one customer (the
//!   retry that finds the winner is `domain::customer_use_cases`).
//! - A pending sign-in is one item with a TTL (`expires_at`). DynamoDB deletes expired
//!   items lazily, so taking one is a conditional `DeleteItem` (`expires_at > now`)
//!   returning the old item: an expired or already used state finds nothing, atomically.
//! - Staff's lists ([`CustomerDirectory`]): every write that sets a customer's email (the
//!   first sign-in's put, every later sign-in's update) also sets its list keys from that
//!   email (GSI1 `CUSTOMER_EMAIL#<lower-cased email>`, GSI2 `CUSTOMERS`), and the profile
//!   update leaves them alone, so a listed customer stays listed under its current email.
//!   A page is one `Query`; a customer's order count is `Select=COUNT` queries of its own
//!   orders (GSI1 `CUSTOMER_ORDERS#<id>`), at most [`PARALLEL_COUNTS`] at a time.
//! - Customers stored before the lists existed are filed by their next sign-in, or by
//!   [`DynamoCustomers::file_unlisted_customers`], the operator's one-off upgrade: the one
//!   `Scan` of the code base, on no request path.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::customer::{
    Customer, CustomerDirectory, CustomerListing, PendingSignIn, ProfileChange, Registration,
    SignIn,
};
use domain::{
    CustomerError, CustomerId, CustomerStore, Page, PageRequest, SignInStateStore, Timestamp,
};
use futures::{StreamExt, TryStreamExt};

use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{n, s};
use crate::keys;
use crate::query::Listing;
use crate::records::attr;
use crate::records::customer::{CustomerRecord, IdentityRecord, Listed, SignInRecord};
use crate::table::{Table, WriteError};
use crate::txn::{self, Op, Transaction};

/// Order counts one page runs at the same time: a default page (20 customers) at once,
/// larger pages in waves, so a page of 100 does not open 100 connections.
const PARALLEL_COUNTS: usize = 20;

/// Customers and pending sign-ins on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoCustomers {
    pub(crate) table: Table,
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
            Err(WriteError::ConditionFailed) => Err(CustomerError::NotFound),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }
}

impl CustomerStore for DynamoCustomers {
    #[tracing::instrument(name = "dynamodb.customer_of_subject", skip_all)]
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

    #[tracing::instrument(name = "dynamodb.register", skip_all, fields(customer_id = %customer.id))]
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
            Err(err) => Err(err.into_failure().into()),
        }
    }

    #[tracing::instrument(name = "dynamodb.refresh", skip_all, fields(customer_id = %id))]
    async fn refresh(&self, id: CustomerId, sign_in: &SignIn) -> Result<Customer, CustomerError> {
        let mut expr = Expr::new()
            .set(attr::EMAIL, s(&sign_in.email))
            .set(attr::NAME, s(sign_in.name.as_str()))
            .set(attr::IS_ADMIN, AttributeValue::Bool(sign_in.is_admin))
            .set(attr::UPDATED_AT, s(Timestamp::now().to_string()));
        // Filed under the email just set (which may have changed), and in the list of every
        // customer (a customer stored before the lists existed is filed here).
        for (attr, value) in Listed::of(id, &sign_in.email).into_attributes() {
            expr = expr.set(attr, value);
        }
        self.update_customer(id, expr).await
    }

    #[tracing::instrument(name = "dynamodb.customer", skip_all, fields(customer_id = %id))]
    async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, CustomerError> {
        let item = self.table.get(&keys::customer(id)).await?;
        Ok(item.map(CustomerRecord::decode).transpose()?)
    }

    #[tracing::instrument(name = "dynamodb.update_profile", skip_all, fields(customer_id = %id))]
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

impl CustomerDirectory for DynamoCustomers {
    #[tracing::instrument(name = "dynamodb.list_customers", skip_all, fields(
        // The kind only: the address looked up is personal data.
        listing = match listing {
            CustomerListing::All => "all",
            CustomerListing::Email(_) => "email",
        },
    ))]
    async fn list_customers(
        &self,
        listing: &CustomerListing,
        page: &PageRequest,
    ) -> Result<Page<Customer>, CustomerError> {
        let list = match listing {
            CustomerListing::All => Listing::gsi2(keys::CUSTOMER_LIST, ""),
            CustomerListing::Email(email) => Listing::gsi1(keys::customers_with_email(email), ""),
        };
        let page = self.table.query_page(&list.newest_first(), page).await?;
        let items = page
            .items
            .into_iter()
            .map(CustomerRecord::decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    #[tracing::instrument(name = "dynamodb.order_counts", skip_all,
        fields(count = customers.len()))]
    async fn order_counts(&self, customers: &[CustomerId]) -> Result<Vec<u64>, CustomerError> {
        let table = &self.table;
        let counts: Vec<u64> = futures::stream::iter(customers.iter().copied())
            .map(|id: CustomerId| async move {
                let orders = keys::customer_orders(id);
                table.count(keys::GSI1, keys::GSI1PK, &orders).await
            })
            .buffered(PARALLEL_COUNTS)
            .try_collect()
            .await?;
        Ok(counts)
    }
}

impl SignInStateStore for DynamoCustomers {
    #[tracing::instrument(name = "dynamodb.save_pending", skip_all)]
    async fn save_pending(&self, pending: PendingSignIn) -> Result<(), CustomerError> {
        let item = SignInRecord::encode(&pending)?;
        let absent = Expr::new().when_absent(keys::PK);
        match self.table.put(item, &absent).await {
            Ok(()) => Ok(()),
            Err(WriteError::ConditionFailed) => {
                Err(Failure::failed("sign-in state collision").into())
            }
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }

    #[tracing::instrument(name = "dynamodb.take_pending", skip_all)]
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
            Err(WriteError::ConditionFailed) => return Ok(None),
            Err(WriteError::Failed(failure)) => return Err(failure.into()),
        };
        Ok(Some(SignInRecord::decode(state, item)?))
    }
}
