//! Staff's payment routes (admin bearer token): `GET /api/v1/payments?status=unmatched`
//! (payments that named no order, newest first, paginated), `?status=attention` (the
//! payments staff must act on, each with its reason and order, newest first, in one page)
//! and `POST /api/v1/payments/{id}/assign` (`{"order_id"}`: applies an unmatched payment
//! to that order as if it had named it).
//!
//! Invariants: a customer's token gets 403 and no token 401 before anything is read; a
//! refused request (unknown status, malformed id or body, unknown order, a payment already
//! assigned) changes nothing.

use axum::Json;
use axum::extract::{Path, State};
use domain::order::NotificationQueue;
use domain::payment::PaymentId;
use domain::payment_use_cases::{AttentionItem, MpesaGateway, PaymentStore, UnmatchedPayment};
use domain::{Money, OrderId, Timestamp};
use http_api::payment::PaymentView;
use http_api::{Admin, ApiError, ApiQuery, JsonBody, ListBody, page_request};
use serde::{Deserialize, Serialize};

type StaffState<S, G, Q> = State<crate::CallbacksState<S, G, Q>>;

/// `GET /payments`'s query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A payment that named no order, as staff see it.
#[derive(Debug, Serialize)]
pub struct UnmatchedView {
    pub id: String,
    pub method: &'static str,
    pub receipt: Option<String>,
    pub amount: Money,
    /// As M-Pesa gives it (masked for Paybill).
    pub phone_number: Option<String>,
    pub payer_name: Option<String>,
    /// What the payer typed as the account number.
    pub account_reference: Option<String>,
    pub paid_at: Timestamp,
}

impl From<UnmatchedPayment> for UnmatchedView {
    fn from(unmatched: UnmatchedPayment) -> Self {
        let payment = unmatched.payment;
        Self {
            id: payment.id.to_string(),
            method: payment.method.as_str(),
            receipt: payment.receipt.map(|r| r.as_str().to_owned()),
            amount: payment.amount,
            phone_number: payment.phone_number,
            payer_name: payment.payer_name,
            account_reference: payment.account_reference,
            paid_at: unmatched.paid_at,
        }
    }
}

/// A payment staff must act on: the payment as its order shows it, the order and why.
#[derive(Debug, Serialize)]
pub struct AttentionView {
    #[serde(flatten)]
    pub payment: PaymentView,
    pub order_id: OrderId,
    pub order_number: String,
    /// `reversal_failed`, `held_on_cancelled_order`, `missing_receipt` or `overpaid`.
    pub reason: &'static str,
}

impl From<AttentionItem> for AttentionView {
    fn from(item: AttentionItem) -> Self {
        Self {
            payment: PaymentView::from(&item.payment),
            order_id: item.order_id,
            order_number: item.order_number.to_string(),
            reason: item.reason.as_str(),
        }
    }
}

/// Either list of `GET /payments`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum PaymentList {
    Unmatched(ListBody<UnmatchedView>),
    Attention(ListBody<AttentionView>),
}

pub(crate) async fn list<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): StaffState<S, G, Q>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<PaymentList>, ApiError> {
    let service = &state.services.service;
    match query.status.as_deref() {
        Some("unmatched") => {
            let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
            let page = service.unmatched_payments(&page).await?;
            Ok(Json(PaymentList::Unmatched(ListBody::from_page(
                page,
                UnmatchedView::from,
            ))))
        }
        Some("attention") => {
            if query.limit.is_some() || query.cursor.is_some() {
                return Err(ApiError::BadRequest(
                    "the attention list is one page: it takes no limit or cursor".into(),
                ));
            }
            let items = service.needing_attention().await?;
            Ok(Json(PaymentList::Attention(ListBody {
                items: items.into_iter().map(AttentionView::from).collect(),
                next_cursor: None,
            })))
        }
        _ => Err(ApiError::BadRequest(
            "status must be unmatched or attention".into(),
        )),
    }
}

/// `POST /payments/{id}/assign`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    order_id: String,
}

/// What an assignment answers: the order it went to and the payment as the order holds it.
#[derive(Debug, Serialize)]
pub struct AssignedView {
    pub order_id: OrderId,
    pub payment: PaymentView,
}

pub(crate) async fn assign<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue>(
    State(state): StaffState<S, G, Q>,
    Admin(claims): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Json<AssignedView>, ApiError> {
    // A malformed id names no payment, as on every `{id}` route.
    let id: PaymentId = id
        .parse()
        .map_err(|_| ApiError::NotFound("payment not found".into()))?;
    let order_id: OrderId = body.order_id.parse().map_err(|_| {
        ApiError::Validation(domain::ValidationErrors::single(
            "order_id",
            "not an order id",
        ))
    })?;
    let by = claims.actor()?;
    let payment = state.services.service.assign(&by, id, order_id).await?;
    Ok(Json(AssignedView {
        order_id,
        payment: PaymentView::from(&payment),
    }))
}
