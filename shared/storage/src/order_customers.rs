//! Who ordered, for staff's order lists: the customers of a page of orders (one
//! `BatchGetItem`, eventually consistent: a name or e-mail changed a moment ago may show
//! its old value once), and the customer an e-mail names (one `Query` of GSI1
//! `CUSTOMER_EMAIL#<lower-cased email>`, newest first, one item).

use domain::customer::{Customer, EmailKey};
use domain::{CustomerId, PageLimit, PageRequest};

use crate::failure::{Failure, ListFailure};
use crate::item::key;
use crate::keys;
use crate::query::Listing;
use crate::records::customer::CustomerRecord;
use crate::table::Table;

/// The customers among `ids` that exist, in no particular order.
pub(crate) async fn customers(table: &Table, ids: &[CustomerId]) -> Result<Vec<Customer>, Failure> {
    let keys = ids.iter().map(|id| key(&keys::customer(*id))).collect();
    table
        .batch_get(keys, false)
        .await?
        .into_iter()
        .map(CustomerRecord::decode)
        .collect()
}

/// The customer whose current e-mail is `email`; the newest when several accounts held it.
pub(crate) async fn newest_with_email(
    table: &Table,
    email: &EmailKey,
) -> Result<Option<CustomerId>, ListFailure> {
    let listing = Listing::gsi1(keys::customers_with_email(email), "").newest_first();
    let page = PageRequest {
        limit: PageLimit::new(1).map_err(Failure::failed)?,
        cursor: None,
    };
    let page = table.query_page(&listing, &page).await?;
    page.items
        .into_iter()
        .next()
        .map(|item| CustomerRecord::decode(item).map(|c| c.id))
        .transpose()
        .map_err(ListFailure::from)
}
