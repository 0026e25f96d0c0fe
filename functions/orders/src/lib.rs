//! The `/api/v1/orders` route area: customers place, read, list, confirm and cancel their
//! orders; admins see every order and move it along the workflow.

pub mod body;
pub mod view;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::OrderId;
use domain::order::{NotificationQueue, OrderService, OrderStatus, OrderStore, Viewer};
use http_api::{
    Admin, ApiError, ApiQuery, AppState, Claims, Customer, JsonBody, ListBody, RouteTable,
};

use crate::body::{ListQuery, PlaceBody, StatusBody, idempotency_key};
use crate::view::OrderView;

/// The orders service the handlers run on.
pub type Orders<S, Q> = Arc<OrderService<S, Q>>;

/// The router's state: the order service and the token verifier.
type OrdersState<S, Q> = AppState<Orders<S, Q>>;

/// Every route of the function.
pub fn routes<S, Q>() -> RouteTable<OrdersState<S, Q>>
where
    S: OrderStore + 'static,
    Q: NotificationQueue + 'static,
{
    RouteTable::new()
        .route(Method::POST, "/api/v1/orders", place::<S, Q>)
        .route(Method::GET, "/api/v1/orders", list::<S, Q>)
        .route(Method::GET, "/api/v1/orders/{id}", show::<S, Q>)
        .route(Method::POST, "/api/v1/orders/{id}/confirm", confirm::<S, Q>)
        .route(Method::POST, "/api/v1/orders/{id}/cancel", cancel::<S, Q>)
        .route(
            Method::PATCH,
            "/api/v1/orders/{id}/status",
            set_status::<S, Q>,
        )
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S, Q>(state: OrdersState<S, Q>) -> Router
where
    S: OrderStore + 'static,
    Q: NotificationQueue + 'static,
{
    http_api::serve(routes::<S, Q>(), state)
}

/// The caller as the orders service sees them.
fn viewer(claims: &Claims) -> Result<Viewer, ApiError> {
    let customer_id = claims
        .sub
        .parse()
        .map_err(|_| ApiError::Unauthorized("the token's subject is not a customer id".into()))?;
    Ok(Viewer {
        customer_id,
        admin: claims.admin,
    })
}

/// An order id from the path; a malformed one names no order (404).
fn path_id(raw: &str) -> Result<OrderId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound("order not found".into()))
}

async fn place<S: OrderStore, Q: NotificationQueue>(
    State(state): State<OrdersState<S, Q>>,
    Customer(claims): Customer,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceBody>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&claims)?;
    let key = idempotency_key(&headers)?;
    let request = body.parse()?;
    let placed = state
        .services
        .place(viewer.customer_id, &request, key.as_ref())
        .await?;
    let location = format!("/api/v1/orders/{}", placed.order.id);
    let mut response = (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(OrderView::new(&placed.order, viewer.admin)),
    )
        .into_response();
    if placed.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

async fn list<S: OrderStore, Q: NotificationQueue>(
    State(state): State<OrdersState<S, Q>>,
    Customer(claims): Customer,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<OrderView>>, ApiError> {
    let viewer = viewer(&claims)?;
    let (listing, page) = query.listing(viewer)?;
    let page = state.services.list(listing, page).await?;
    Ok(Json(ListBody::from_page(page, |o| {
        OrderView::new(&o, viewer.admin)
    })))
}

async fn show<S: OrderStore, Q: NotificationQueue>(
    State(state): State<OrdersState<S, Q>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let viewer = viewer(&claims)?;
    let order = state.services.order(viewer, path_id(&id)?).await?;
    Ok(Json(OrderView::new(&order, viewer.admin)))
}

async fn move_to<S: OrderStore, Q: NotificationQueue>(
    state: &OrdersState<S, Q>,
    claims: &Claims,
    id: &str,
    to: OrderStatus,
) -> Result<Json<OrderView>, ApiError> {
    let viewer = viewer(claims)?;
    let order = state
        .services
        .change_status(viewer, &claims.actor()?, path_id(id)?, to)
        .await?;
    Ok(Json(OrderView::new(&order, viewer.admin)))
}

async fn confirm<S: OrderStore, Q: NotificationQueue>(
    State(state): State<OrdersState<S, Q>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    move_to(&state, &claims, &id, OrderStatus::Confirmed).await
}

async fn cancel<S: OrderStore, Q: NotificationQueue>(
    State(state): State<OrdersState<S, Q>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    move_to(&state, &claims, &id, OrderStatus::Cancelled).await
}

async fn set_status<S: OrderStore, Q: NotificationQueue>(
    State(state): State<OrdersState<S, Q>>,
    Admin(claims): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<OrderView>, ApiError> {
    let to = body.parse()?;
    move_to(&state, &claims, &id, to).await
}
