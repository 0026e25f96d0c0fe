//! The `/api/v1/customer` route area: the signed-in customer's own profile; and
//! `/api/v1/customers`, staff's directory of every customer with its order count.
//!
//! Invariants: a customer reaches only their own profile (`/customer/me`, the token's
//! subject); the directory is admin-only (401 without a token, 403 for a customer, both
//! before any parameter is read or any storage request is made) and only reads.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::{Json, Router};
use domain::customer::{
    CustomerDirectory, CustomerListing, CustomerName, CustomerSummary, EmailKey, PhoneNumber,
    ProfileChange,
};
use domain::customer_use_cases::{Accounts, Directory};
use domain::{CustomerId, CustomerStore, ValidationErrors};
use http_api::customer::CustomerView;
use http_api::extract::nullable;
use http_api::{
    Admin, ApiError, ApiQuery, AppState, Customer, JsonBody, ListBody, RouteTable, page_request,
};
use serde::{Deserialize, Serialize};

/// What the handlers need from storage.
pub trait Store: CustomerStore + CustomerDirectory + Clone + 'static {}
impl<T: CustomerStore + CustomerDirectory + Clone + 'static> Store for T {}

/// Every route of the function.
pub fn routes<S: Store>() -> RouteTable<AppState<S>> {
    RouteTable::new()
        .route(Method::GET, "/api/v1/customer/me", me::<S>)
        .route(Method::PATCH, "/api/v1/customer/me", update_me::<S>)
        .route(Method::GET, "/api/v1/customers", list::<S>)
        .route(Method::GET, "/api/v1/customers/{id}", show::<S>)
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    http_api::serve(routes::<S>(), state)
}

fn not_found() -> ApiError {
    ApiError::NotFound("customer not found".into())
}

/// The caller's customer id; a token whose subject is not one names no customer.
fn caller_id(caller: &Customer) -> Result<CustomerId, ApiError> {
    caller.0.sub.parse().map_err(|_| not_found())
}

async fn me<S: Store>(
    State(state): State<AppState<S>>,
    caller: Customer,
) -> Result<Json<CustomerView>, ApiError> {
    let customer = Accounts::new(&state.services)
        .profile(caller_id(&caller)?)
        .await?;
    Ok(Json(customer.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "nullable")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    phone_number: Option<Option<String>>,
}

impl UpdateBody {
    fn into_change(self) -> Result<ProfileChange, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = match self.name {
            None => None,
            Some(None) => {
                errors.push("name", "must not be null");
                None
            }
            Some(Some(raw)) => errors.check("name", CustomerName::parse(&raw)),
        };
        let phone_number = match self.phone_number {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors
                .check("phone_number", PhoneNumber::parse(&raw))
                .map(Some),
        };
        errors.into_result(|| ProfileChange { name, phone_number })
    }
}

async fn update_me<S: Store>(
    State(state): State<AppState<S>>,
    caller: Customer,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<CustomerView>, ApiError> {
    let id = caller_id(&caller)?;
    let change = body.into_change()?;
    let customer = Accounts::new(&state.services)
        .update_profile(id, change)
        .await?;
    Ok(Json(customer.into()))
}

/// A customer as staff see it: the `/customer/me` object and its order count.
#[derive(Debug, Serialize)]
pub struct StaffCustomerView {
    #[serde(flatten)]
    pub customer: CustomerView,
    /// Orders the customer has placed, in any status.
    pub order_count: u64,
}

impl From<CustomerSummary> for StaffCustomerView {
    fn from(summary: CustomerSummary) -> Self {
        Self {
            customer: summary.customer.into(),
            order_count: summary.order_count,
        }
    }
}

/// `GET /customers` query parameters (others are ignored).
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    email: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list<S: Store>(
    State(state): State<AppState<S>>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<StaffCustomerView>>, ApiError> {
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let listing = match query.email.as_deref() {
        None => CustomerListing::All,
        Some(raw) => CustomerListing::Email(
            EmailKey::lookup(raw).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ),
    };
    let page = Directory::new(&state.services)
        .list(&listing, &page)
        .await?;
    Ok(Json(ListBody::from_page(page, StaffCustomerView::from)))
}

async fn show<S: Store>(
    State(state): State<AppState<S>>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<StaffCustomerView>, ApiError> {
    // A malformed id names no customer, as on every `{id}` route.
    let id: CustomerId = id.parse().map_err(|_| not_found())?;
    let customer = Directory::new(&state.services).customer(id).await?;
    Ok(Json(customer.into()))
}
