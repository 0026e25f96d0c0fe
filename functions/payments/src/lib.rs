//! M-Pesa's callbacks (`/api/v1/payments/callbacks/{token}/...`): public routes that
//! Safaricom posts to, unsigned. Defence in depth, in this order, before anything is read
//! or written:
//! 1. the secret token in the path, compared in constant time: wrong → 404, the same
//!    answer as any unknown path, so a prober learns nothing;
//! 2. the optional allow-list of Safaricom's addresses (`requestContext.http.sourceIp`):
//!    another address → 404 as well;
//! 3. a strict body shape (the `mpesa` crate's parsers): anything else → 400;
//! 4. then the payments service decides, and never on the callback alone (a prompt counts
//!    only when the status query confirms it).
//!
//! A well-formed message is answered M-Pesa's `Accepted` (200), also when it changes
//! nothing (a duplicate), so M-Pesa never re-sends what was handled; a storage failure is
//! a 503, so what could not be recorded is not acknowledged. Every refusal logs one line,
//! `event = "mpesa.callback_refused"` with its `reason` (the alarm on refused callbacks
//! counts them), and never the token, a phone number or a name.

mod staff;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::order::NotificationQueue;
use domain::payment_use_cases::{
    Handled, MpesaGateway, PaybillNotice, PaymentError, PaymentService, PaymentStore,
    ReversalNotice, StkNotice,
};
use http_api::{ApiError, AppState, RouteTable};
use lambda_http::request::RequestContext;
use mpesa::{
    C2bPayment, C2bRejection, CallbackAnswer, MalformedCallback, ReversalResult, StkCallback,
};

pub use http_api::{CallbackGuard, Refusal};
pub use staff::{AssignedView, AttentionView, UnmatchedView};

/// The largest callback body taken (M-Pesa's are a few hundred bytes).
pub const MAX_CALLBACK_BYTES: usize = 64 * 1024;

/// What the handlers run on: the payments service and the guard of its callbacks (staff's
/// routes are guarded by the admin's bearer token instead).
#[derive(Debug)]
pub struct Callbacks<S, G, Q> {
    pub service: PaymentService<S, G, Q>,
    pub guard: CallbackGuard,
}

pub(crate) type CallbacksState<S, G, Q> = AppState<Arc<Callbacks<S, G, Q>>>;

/// Every route of the function.
pub fn routes<S, G, Q>() -> RouteTable<CallbacksState<S, G, Q>>
where
    S: PaymentStore + 'static,
    G: MpesaGateway + 'static,
    Q: NotificationQueue + 'static,
{
    RouteTable::new()
        .route(
            Method::POST,
            "/api/v1/payments/callbacks/{token}/stk",
            stk::<S, G, Q>,
        )
        .route(
            Method::POST,
            "/api/v1/payments/callbacks/{token}/c2b/validation",
            c2b_validation::<S, G, Q>,
        )
        .route(
            Method::POST,
            "/api/v1/payments/callbacks/{token}/c2b/confirmation",
            c2b_confirmation::<S, G, Q>,
        )
        .route(
            Method::POST,
            "/api/v1/payments/callbacks/{token}/reversal/result",
            reversal_result::<S, G, Q>,
        )
        .route(
            Method::POST,
            "/api/v1/payments/callbacks/{token}/reversal/timeout",
            reversal_timeout::<S, G, Q>,
        )
        .route(Method::GET, "/api/v1/payments", staff::list::<S, G, Q>)
        .route(
            Method::POST,
            "/api/v1/payments/{id}/assign",
            staff::assign::<S, G, Q>,
        )
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S, G, Q>(state: CallbacksState<S, G, Q>) -> Router
where
    S: PaymentStore + 'static,
    G: MpesaGateway + 'static,
    Q: NotificationQueue + 'static,
{
    http_api::serve(routes::<S, G, Q>(), state)
}

/// The caller's address, as API Gateway saw it.
fn source_ip(extensions: &axum::http::Extensions) -> Option<String> {
    match extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    }
}

/// The body of a request that passed the guard (token, address, size); otherwise the
/// refusal to answer with, logged once.
async fn admitted(
    guard: &CallbackGuard,
    route: &'static str,
    token: &str,
    request: axum::extract::Request,
) -> Result<Bytes, Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_CALLBACK_BYTES).await;
    let refusal = match (
        guard.admit(token, source_ip(&parts.extensions).as_deref()),
        body,
    ) {
        (Err(refusal), _) => refusal,
        (Ok(()), Err(_)) => Refusal::TooLarge,
        (Ok(()), Ok(body)) => return Ok(body),
    };
    tracing::warn!(
        event = "mpesa.callback_refused",
        reason = refusal.as_str(),
        route,
        "callback refused"
    );
    Err(match refusal {
        Refusal::WrongToken | Refusal::SourceIp => {
            ApiError::NotFound("no such route".into()).into_response()
        }
        Refusal::TooLarge => ApiError::PayloadTooLarge(MAX_CALLBACK_BYTES).into_response(),
    })
}

/// The message of a request that passed the guard, read by `parse`; otherwise the answer
/// to refuse it with (404, 413 or 400), logged once.
async fn message<T>(
    guard: &CallbackGuard,
    route: &'static str,
    token: &str,
    request: axum::extract::Request,
    parse: fn(&[u8]) -> Result<T, MalformedCallback>,
) -> Result<T, Response> {
    let body = admitted(guard, route, token, request).await?;
    parse(&body).map_err(|err| malformed(route, &err))
}

/// A body that is not the message's shape: 400, logged once (the path of the first bad
/// field, never its value).
fn malformed(route: &'static str, err: &MalformedCallback) -> Response {
    tracing::warn!(event = "mpesa.callback_refused", reason = "malformed", route,
        field = %err.path, "callback refused");
    ApiError::BadRequest(format!("not an M-Pesa {route} message: {err}")).into_response()
}

/// M-Pesa's acknowledgement, or the failure to record the message (never acknowledged).
fn answer(
    handled: Result<Handled, PaymentError>,
    acknowledgement: CallbackAnswer,
    route: &'static str,
) -> Response {
    match handled {
        Ok(handled) => {
            tracing::info!(route, handled = ?handled, "callback handled");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                acknowledgement.body(),
            )
                .into_response()
        }
        Err(err) => ApiError::from(err).into_response(),
    }
}

async fn stk<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): State<CallbacksState<S, G, Q>>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let app = &state.services;
    let callback = match message(&app.guard, "stk", &token, request, StkCallback::parse).await {
        Ok(callback) => callback,
        Err(refused) => return refused,
    };
    let notice = StkNotice {
        checkout_request_id: callback.checkout_request_id.clone(),
        receipt: callback.paid.as_ref().map(|p| p.receipt.clone()),
        amount: callback.paid.as_ref().map(|p| p.amount),
    };
    answer(
        app.service.stk_callback(&notice).await,
        CallbackAnswer::stk_accepted(),
        "stk",
    )
}

async fn c2b_validation<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): State<CallbacksState<S, G, Q>>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    const ROUTE: &str = "c2b_validation";
    let app = &state.services;
    let payment = match message(&app.guard, ROUTE, &token, request, C2bPayment::parse).await {
        Ok(payment) => payment,
        Err(refused) => return refused,
    };
    let accepts = app.service.accepts_paybill(&payment.bill_ref_number).await;
    let acknowledgement = match accepts {
        Ok(true) => CallbackAnswer::c2b_accepted(),
        Ok(false) => CallbackAnswer::c2b_rejected(C2bRejection::InvalidAccountNumber),
        Err(err) => return ApiError::from(err).into_response(),
    };
    answer(Ok(Handled::Unchanged), acknowledgement, ROUTE)
}

async fn c2b_confirmation<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): State<CallbacksState<S, G, Q>>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    const ROUTE: &str = "c2b_confirmation";
    let app = &state.services;
    let payment = match message(&app.guard, ROUTE, &token, request, C2bPayment::parse).await {
        Ok(payment) => payment,
        Err(refused) => return refused,
    };
    let notice = PaybillNotice {
        receipt: payment.trans_id.clone(),
        amount: payment.amount,
        bill_ref_number: payment.bill_ref_number.clone(),
        phone_number: payment.msisdn.clone(),
        payer_name: payment.payer_name.clone(),
        paid_at: payment.trans_time.map(domain::Timestamp::from_datetime),
    };
    answer(
        app.service.paybill(&notice).await,
        CallbackAnswer::c2b_accepted(),
        ROUTE,
    )
}

async fn reversal<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    state: CallbacksState<S, G, Q>,
    route: &'static str,
    token: String,
    request: axum::extract::Request,
    timed_out: bool,
) -> Response {
    let app = &state.services;
    let result = match message(&app.guard, route, &token, request, ReversalResult::parse).await {
        Ok(result) => result,
        Err(refused) => return refused,
    };
    let notice = ReversalNotice {
        conversation_id: result.conversation_id.clone(),
        // A queue timeout is no answer, whatever code it carries.
        result_code: (!timed_out).then(|| result.result_code.as_str().to_owned()),
    };
    let handled = app.service.reversal_result(&notice).await;
    if let Ok(Handled::Applied) = handled
        && !(timed_out
            || result.result_code.is_success()
            || result.result_code.is_already_reversed())
    {
        // The alarm on reversals that keep failing counts these lines.
        tracing::warn!(
            event = "mpesa.reversal_failed",
            code = result.result_code.as_str(),
            "M-Pesa refused a reversal; the money is still the shop's"
        );
    }
    if timed_out && matches!(handled, Ok(Handled::Applied)) {
        tracing::warn!(
            event = "mpesa.reversal_failed",
            code = "timeout",
            "a reversal timed out at M-Pesa; the money is still the shop's"
        );
    }
    answer(handled, CallbackAnswer::stk_accepted(), route)
}

async fn reversal_result<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): State<CallbacksState<S, G, Q>>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    reversal(state, "reversal_result", token, request, false).await
}

async fn reversal_timeout<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): State<CallbacksState<S, G, Q>>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    reversal(state, "reversal_timeout", token, request, true).await
}
