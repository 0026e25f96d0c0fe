//! The `/api/v1/customer` route area: the signed-in customer's own profile.

use axum::extract::State;
use axum::http::Method;
use axum::{Json, Router};
use domain::customer::{CustomerName, PhoneNumber, ProfileChange};
use domain::customer_use_cases::Accounts;
use domain::{CustomerId, CustomerStore, ValidationErrors};
use http_api::customer::CustomerView;
use http_api::extract::nullable;
use http_api::{ApiError, AppState, Customer, JsonBody, RouteTable};
use serde::Deserialize;

/// What the handlers need from storage.
pub trait Store: CustomerStore + Clone + 'static {}
impl<T: CustomerStore + Clone + 'static> Store for T {}

/// Every route of the function.
pub fn routes<S: Store>() -> RouteTable<AppState<S>> {
    RouteTable::new()
        .route(Method::GET, "/api/v1/customer/me", me::<S>)
        .route(Method::PATCH, "/api/v1/customer/me", update_me::<S>)
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
