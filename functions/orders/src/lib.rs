//! The `/api/v1/orders` route area: customers place, read, list, confirm, cancel and pay
//! (an M-Pesa prompt on their phone) their orders; admins see every order, move it along
//! the workflow and may send the prompt for a customer.

pub mod body;
pub mod view;

use std::sync::Arc;

use axum::extract::{FromRequest, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use domain::OrderId;
use domain::order::{NotificationQueue, Order, OrderService, OrderStatus, OrderStore, Viewer};
use domain::payment::Payment;
use domain::payment_use_cases::{MpesaGateway, PaymentService, PaymentStore};
use http_api::{
    Admin, ApiError, ApiQuery, AppState, Claims, Customer, JsonBody, ListBody, RouteTable,
};

use crate::body::{ListQuery, PayBody, PlaceBody, StatusBody, Wanted, idempotency_key};
use crate::view::{CustomerCard, OrderView};
use http_api::payment::PaymentView;

/// What the handlers run on: the orders service, and the payments service that sends an
/// order's M-Pesa prompt.
#[derive(Debug)]
pub struct Orders<S, Q, P, G> {
    pub orders: Arc<OrderService<S, Q>>,
    pub payments: Arc<PaymentService<P, G, Q>>,
}

impl<S, Q, P, G> Clone for Orders<S, Q, P, G> {
    fn clone(&self) -> Self {
        Self {
            orders: self.orders.clone(),
            payments: self.payments.clone(),
        }
    }
}

/// The router's state: the services and the token verifier.
type OrdersState<S, Q, P, G> = AppState<Orders<S, Q, P, G>>;

/// Every route of the function.
pub fn routes<S, Q, P, G>() -> RouteTable<OrdersState<S, Q, P, G>>
where
    S: OrderStore + 'static,
    Q: NotificationQueue + 'static,
    P: PaymentStore + 'static,
    G: MpesaGateway + 'static,
{
    RouteTable::new()
        .route(Method::POST, "/api/v1/orders", place::<S, Q, P, G>)
        .route(Method::GET, "/api/v1/orders", list::<S, Q, P, G>)
        .route(Method::GET, "/api/v1/orders/{id}", show::<S, Q, P, G>)
        .route(
            Method::POST,
            "/api/v1/orders/{id}/confirm",
            confirm::<S, Q, P, G>,
        )
        .route(
            Method::POST,
            "/api/v1/orders/{id}/cancel",
            cancel::<S, Q, P, G>,
        )
        .route(
            Method::PATCH,
            "/api/v1/orders/{id}/status",
            set_status::<S, Q, P, G>,
        )
        .route(Method::POST, "/api/v1/orders/{id}/pay", pay::<S, Q, P, G>)
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S, Q, P, G>(state: OrdersState<S, Q, P, G>) -> Router
where
    S: OrderStore + 'static,
    Q: NotificationQueue + 'static,
    P: PaymentStore + 'static,
    G: MpesaGateway + 'static,
{
    http_api::serve(routes::<S, Q, P, G>(), state)
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

async fn place<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Customer(claims): Customer,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PlaceBody>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&claims)?;
    let key = idempotency_key(&headers)?;
    let request = body.parse()?;
    let placed = state
        .services
        .orders
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

async fn list<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Customer(claims): Customer,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<OrderView>>, ApiError> {
    let viewer = viewer(&claims)?;
    let (wanted, page) = query.listing(viewer)?;
    let orders = &state.services.orders;
    let page = match wanted {
        Wanted::Orders(listing) => orders.list(listing, page).await?,
        Wanted::ByEmail(email, status) => orders.list_by_email(&email, status, page).await?,
    };
    if !viewer.admin {
        return Ok(Json(ListBody::from_page(page, |o| {
            OrderView::new(&o, false)
        })));
    }
    // Staff read who ordered: the page's customers, in one batched read.
    let customers = orders.customers_of(&page.items).await?;
    Ok(Json(ListBody::from_page(page, |o| {
        let card = CustomerCard::new(o.customer_id, customers.get(&o.customer_id));
        OrderView::new(&o, true).with_customer(card)
    })))
}

async fn show<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let viewer = viewer(&claims)?;
    let order = state.services.orders.order(viewer, path_id(&id)?).await?;
    Ok(Json(OrderView::new(&order, viewer.admin)))
}

async fn move_to<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    state: &OrdersState<S, Q, P, G>,
    claims: &Claims,
    id: &str,
    to: OrderStatus,
) -> Result<(Order, Viewer), ApiError> {
    let viewer = viewer(claims)?;
    let order = state
        .services
        .orders
        .change_status(viewer, &claims.actor()?, path_id(id)?, to)
        .await?;
    Ok((order, viewer))
}

fn shown((order, viewer): (Order, Viewer)) -> Json<OrderView> {
    Json(OrderView::new(&order, viewer.admin))
}

async fn confirm<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    move_to(&state, &claims, &id, OrderStatus::Confirmed)
        .await
        .map(shown)
}

/// Cancels the order; money on it is given back: the cancellation requested each
/// reversal in its own transaction, and M-Pesa is asked for them right after it.
async fn cancel<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let cancelled = move_to(&state, &claims, &id, OrderStatus::Cancelled).await?;
    if cancelled
        .0
        .payments
        .iter()
        .any(Payment::awaits_reversal_call)
    {
        state.services.payments.refund(cancelled.0.id).await;
    }
    Ok(shown(cancelled))
}

async fn set_status<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Admin(claims): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<OrderView>, ApiError> {
    let to = body.parse()?;
    move_to(&state, &claims, &id, to).await.map(shown)
}

/// Sends an M-Pesa prompt for what is due to the customer's phone (or the number given):
/// 202 with the pending payment once M-Pesa took it.
async fn pay<S: OrderStore, Q: NotificationQueue, P: PaymentStore, G: MpesaGateway>(
    State(state): State<OrdersState<S, Q, P, G>>,
    Customer(claims): Customer,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let viewer = viewer(&claims)?;
    let id = path_id(&id)?;
    // The body is optional: none (or `{}`) prompts the customer's own phone.
    let empty = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_none_or(|len| len.as_bytes() == b"0")
        && !request.headers().contains_key(header::CONTENT_TYPE);
    let body = if empty {
        PayBody::default()
    } else {
        JsonBody::<PayBody>::from_request(request, &()).await?.0
    };
    let phone = body.parse()?;
    let payment = state.services.payments.pay(viewer, id, phone).await?;
    Ok((StatusCode::ACCEPTED, Json(PaymentView::from(&payment))).into_response())
}
