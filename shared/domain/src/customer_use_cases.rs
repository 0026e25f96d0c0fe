//! The customers' use cases: signing in (the first sign-in registers the customer) and
//! the customer's own profile, over the [`CustomerStore`] port; and staff's directory of
//! the customers with their order counts, over [`CustomerDirectory`].
//!
//! Invariants: one identity-provider subject is one customer, even when two first
//! sign-ins of the same person race (the loser finds the winner's customer); an empty
//! profile change writes nothing; the directory only reads; every customer it shows
//! carries the count of its own orders (one count per customer, never a neighbour's).
//! Each use case runs in a span named after it that carries the customer's id, never the
//! subject, email, name or phone number.

use crate::Timestamp;
use crate::customer::{
    Customer, CustomerDirectory, CustomerError, CustomerId, CustomerListing, CustomerStore,
    CustomerSummary, ProfileChange, Registration, SignIn,
};
use crate::error::StorageFailure;
use crate::page::{Page, PageRequest};

/// The customers' use cases on `store`.
#[derive(Debug, Clone, Copy)]
pub struct Accounts<'s, S>(&'s S);

/// The store contradicts itself (a bug or a manual edit of the table).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Inconsistent(&'static str);

/// Storage that contradicts itself: `what` went wrong.
fn inconsistent(what: &'static str) -> CustomerError {
    CustomerError::Storage(StorageFailure::failed(Inconsistent(what)))
}

impl<'s, S: CustomerStore> Accounts<'s, S> {
    pub fn new(store: &'s S) -> Self {
        Self(store)
    }

    /// The customer of `sign_in.subject`, created on the first sign-in; email, name and
    /// admin flag are brought up to date on every later one.
    #[tracing::instrument(name = "accounts.sign_in", skip_all,
        fields(customer_id = tracing::field::Empty))]
    pub async fn sign_in(&self, sign_in: SignIn) -> Result<Customer, CustomerError> {
        // Two rounds cover a concurrent first sign-in of the same subject: the loser
        // finds the winner's identity on its second read.
        for _ in 0..2 {
            if let Some(id) = self.0.customer_of_subject(&sign_in.subject).await? {
                tracing::Span::current().record("customer_id", tracing::field::display(id));
                return match self.0.refresh(id, &sign_in).await {
                    Err(CustomerError::NotFound) => {
                        Err(inconsistent("identity item refers to a missing customer"))
                    }
                    other => other,
                };
            }
            let customer = sign_in.new_customer(Timestamp::now());
            tracing::Span::current().record("customer_id", tracing::field::display(customer.id));
            match self.0.register(&customer, &sign_in.subject).await? {
                Registration::Registered => return Ok(customer),
                Registration::SubjectTaken => continue,
            }
        }
        Err(inconsistent("identity item neither readable nor writable"))
    }

    /// Customer `id`'s profile.
    #[tracing::instrument(name = "accounts.profile", skip_all, fields(customer_id = %id))]
    pub async fn profile(&self, id: CustomerId) -> Result<Customer, CustomerError> {
        self.0.customer(id).await?.ok_or(CustomerError::NotFound)
    }

    /// Applies `change` to customer `id`'s profile; an empty change only reads it.
    #[tracing::instrument(name = "accounts.update_profile", skip_all, fields(customer_id = %id))]
    pub async fn update_profile(
        &self,
        id: CustomerId,
        change: ProfileChange,
    ) -> Result<Customer, CustomerError> {
        if change == ProfileChange::default() {
            self.profile(id).await
        } else {
            self.0.update_profile(id, change).await
        }
    }
}

/// Staff's directory of the customers on `store`: lists, the email lookup, one customer,
/// each with its order count.
#[derive(Debug, Clone, Copy)]
pub struct Directory<'s, S>(&'s S);

impl<'s, S: CustomerStore + CustomerDirectory> Directory<'s, S> {
    pub fn new(store: &'s S) -> Self {
        Self(store)
    }

    /// One page of `listing`, newest first, each customer with its order count.
    #[tracing::instrument(name = "directory.list", skip_all, fields(listing = match listing {
        CustomerListing::All => "all",
        CustomerListing::Email(_) => "email",
    }))]
    pub async fn list(
        &self,
        listing: &CustomerListing,
        page: &PageRequest,
    ) -> Result<Page<CustomerSummary>, CustomerError> {
        let page = self.0.list_customers(listing, page).await?;
        let ids: Vec<CustomerId> = page.items.iter().map(|c| c.id).collect();
        let counts = self.counts(&ids).await?;
        let items = page
            .items
            .into_iter()
            .zip(counts)
            .map(|(customer, order_count)| CustomerSummary {
                customer,
                order_count,
            })
            .collect();
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// Customer `id` with its order count ([`CustomerError::NotFound`] if there is none).
    #[tracing::instrument(name = "directory.customer", skip_all, fields(customer_id = %id))]
    pub async fn customer(&self, id: CustomerId) -> Result<CustomerSummary, CustomerError> {
        let customer = self.0.customer(id).await?.ok_or(CustomerError::NotFound)?;
        let order_count = self.counts(&[id]).await?.first().copied().unwrap_or(0);
        Ok(CustomerSummary {
            customer,
            order_count,
        })
    }

    /// The order counts of `ids`, one each, or an error (never a shorter list that would
    /// shift counts onto other customers).
    async fn counts(&self, ids: &[CustomerId]) -> Result<Vec<u64>, CustomerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let counts = self.0.order_counts(ids).await?;
        if counts.len() == ids.len() {
            Ok(counts)
        } else {
            Err(inconsistent(
                "order counts do not match the customers asked for",
            ))
        }
    }
}
