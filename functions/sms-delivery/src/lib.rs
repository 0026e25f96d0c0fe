//! Africa's Talking's SMS delivery reports (`POST /api/v1/notifications/sms/delivery/{token}`):
//! a public route Africa's Talking posts to, form-encoded and unsigned, once a text it
//! accepted reached the phone or finally did not. Before anything is read or written:
//! 1. the secret token in the path, compared in constant time: wrong → 404, the answer of
//!    any unknown path, so a prober learns nothing;
//! 2. a body of at most [`MAX_REPORT_BYTES`] (413), of the report's shape: an `id` that
//!    can be an SMS id and a `status` Africa's Talking documents, else 400;
//! 3. then the delivery-report use case records it on the message that SMS was.
//!
//! Answers: 200 with `{"delivery", "recorded"}` for every well-formed report it handled
//! (a repeat, or an intermediate status, records nothing and is still 200, so it is not
//! posted again); 404 for an SMS this shop did not send; 503 when it could not be recorded
//! (storage, or the send not recorded yet), so Africa's Talking posts it again. Every
//! refusal logs one line, `event = "sms.delivery_report_refused"` with its `reason`, and
//! never the token or the phone number.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use domain::notification::{
    DeliveryReport, DeliveryReportError, DeliveryReports, DeliveryStore, Recorded, ReportedStatus,
    SmsId,
};
use http_api::{ApiError, CallbackGuard, RouteTable};
use serde::Serialize;

/// The route, below the secret token.
pub const ROUTE: &str = "/api/v1/notifications/sms/delivery/{token}";

/// The largest report taken (Africa's Talking's are a few hundred bytes).
pub const MAX_REPORT_BYTES: usize = 16 * 1024;

/// What the handler runs on: the use case and the guard of its route.
#[derive(Debug)]
pub struct Reports<S> {
    pub service: DeliveryReports<S>,
    pub guard: CallbackGuard,
}

/// Every route of the function.
pub fn routes<S: DeliveryStore + 'static>() -> RouteTable<Arc<Reports<S>>> {
    RouteTable::new().route(Method::POST, ROUTE, report::<S>)
}

/// The function's router, ready for `lambda_http::run` or an in-process test.
pub fn router<S: DeliveryStore + 'static>(reports: Arc<Reports<S>>) -> Router {
    http_api::serve_public(routes::<S>(), reports)
}

/// A body that is not a delivery report: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedReport {
    pub field: &'static str,
    pub why: String,
}

/// Reads a delivery report from its form body: the first value of each field counts;
/// fields besides `id`, `status` and `failureReason` (`phoneNumber`, `networkCode`,
/// `retryCount`, …) are not kept.
pub fn parse_report(body: &[u8]) -> Result<DeliveryReport, MalformedReport> {
    let (mut id, mut status, mut reason) = (None, None, None);
    for (name, value) in url::form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "id" => &mut id,
            "status" => &mut status,
            "failureReason" => &mut reason,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    let malformed = |field, why: &str| MalformedReport {
        field,
        why: why.to_owned(),
    };
    let id = id.ok_or_else(|| malformed("id", "missing"))?;
    let sms = SmsId::parse(&id).map_err(|e| malformed("id", &e.to_string()))?;
    let status = status.ok_or_else(|| malformed("status", "missing"))?;
    let status = ReportedStatus::parse(&status, reason.as_deref())
        .map_err(|e| malformed("status", &e.to_string()))?;
    Ok(DeliveryReport { sms, status })
}

/// The answer to a handled report.
#[derive(Debug, Serialize)]
struct Handled {
    /// `delivered` or `undelivered` as reported; null for an intermediate status.
    delivery: Option<&'static str>,
    /// Whether this report changed the message (false: intermediate, or known already).
    recorded: bool,
}

fn refused(reason: &'static str, field: Option<&'static str>) {
    tracing::warn!(
        event = "sms.delivery_report_refused",
        reason,
        field,
        "delivery report refused"
    );
}

async fn report<S: DeliveryStore>(
    State(app): State<Arc<Reports<S>>>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    if app.guard.admit(&token, None).is_err() {
        refused("wrong_token", None);
        return ApiError::NotFound("no such route".into()).into_response();
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_REPORT_BYTES).await;
    let Ok(body) = body else {
        refused("too_large", None);
        return ApiError::PayloadTooLarge(MAX_REPORT_BYTES).into_response();
    };
    let report = match parse_report(&body) {
        Ok(report) => report,
        Err(err) => {
            refused("malformed", Some(err.field));
            return ApiError::BadRequest(format!(
                "not an SMS delivery report: {} {}",
                err.field, err.why
            ))
            .into_response();
        }
    };
    let delivery = match &report.status {
        ReportedStatus::Final(delivery) => Some(delivery.as_str()),
        ReportedStatus::Interim => None,
    };
    match app.service.record(&report).await {
        Ok(recorded) => {
            tracing::info!(sms_id = %report.sms, delivery, recorded = ?recorded,
                "delivery report handled");
            let recorded = matches!(recorded, Recorded::Recorded(_));
            axum::Json(Handled { delivery, recorded }).into_response()
        }
        Err(DeliveryReportError::UnknownSms) => {
            tracing::warn!(sms_id = %report.sms, "delivery report for an SMS this shop did not send");
            ApiError::NotFound("no SMS with this id was sent by this shop".into()).into_response()
        }
        Err(err @ DeliveryReportError::SendNotRecordedYet) => {
            ApiError::Unavailable(Box::new(err)).into_response()
        }
        Err(DeliveryReportError::Orders(err)) => ApiError::from(err).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use domain::notification::{Delivery, ErrorClass};

    use super::*;

    #[test]
    fn a_report_reads_as_africas_talking_posts_it() {
        let body = b"id=ATXid_1f&status=Failed&phoneNumber=%2B254712349999&networkCode=63902\
            &failureReason=AbsentSubscriber&retryCount=0";
        let report = parse_report(body).expect("a report");
        assert_eq!(report.sms.as_str(), "ATXid_1f");
        assert_eq!(
            report.status,
            ReportedStatus::Final(Delivery::Undelivered(ErrorClass::new("AbsentSubscriber")))
        );
        let first_wins = parse_report(b"status=Success&id=a&id=b&status=Failed").expect("report");
        assert_eq!(first_wins.sms.as_str(), "a");
        assert_eq!(
            first_wins.status,
            ReportedStatus::Final(Delivery::Delivered)
        );
    }

    #[test]
    fn what_is_not_a_report_names_its_field() {
        for (body, field) in [
            (&b""[..], "id"),
            (b"status=Success", "id"),
            (b"id=&status=Success", "id"),
            (b"id=ATX%20id&status=Success", "id"),
            (b"id=ATXid_1", "status"),
            (b"id=ATXid_1&status=Delivered", "status"),
            (b"{\"id\":\"ATXid_1\",\"status\":\"Success\"}", "id"),
        ] {
            assert_eq!(
                parse_report(body).map_err(|e| e.field),
                Err(field),
                "{body:?}"
            );
        }
    }
}
