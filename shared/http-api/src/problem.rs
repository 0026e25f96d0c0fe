//! The API's errors and their one mapping to `application/problem+json` responses
//! (RFC 9457), as docs/api.md fixes them.

use std::error::Error as StdError;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::audit::AuditError;
use domain::error::StorageFailure;
use domain::order::OrderError;
use domain::payment_use_cases::PaymentError;
use domain::{CatalogError, CustomerError, FieldError, ValidationErrors};
use serde::Serialize;
use serde_json::{Map, Value};

/// Seconds a client should wait before retrying a 503 (the SDK has already retried
/// three times with backoff by then).
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON or a bad query parameter.
    #[error("{0}")]
    BadRequest(String),
    /// Missing, malformed or invalid access token.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed on this resource")]
    MethodNotAllowed,
    /// A conflict with the current state; `extra` members are added to the body.
    #[error("{detail}")]
    Conflict {
        detail: String,
        extra: Map<String, Value>,
    },
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// Well-formed input that breaks the rules of its fields.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// A peer we depend on (the identity provider) failed or answered nonsense.
    #[error("{0}")]
    BadGateway(String),
    /// A dependency (the database) is unreachable, timing out or throttling: nothing was
    /// changed, and the same request may succeed after `Retry-After` seconds.
    #[error("the service is temporarily unavailable; retry after {RETRY_AFTER_SECONDS} s")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// Our fault; details are logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl ApiError {
    /// A conflict with no extra body members.
    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// A validation error on a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, message))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem type's slug, under `/problems/` (documented in the OpenAPI file).
    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::Validation(_) => "validation-error",
            ApiError::BadGateway(_) => "bad-gateway",
            ApiError::Unavailable(_) => "service-unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldErrorBody<'a>>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize)]
struct FieldErrorBody<'a> {
    field: &'a str,
    message: &'a str,
}

impl<'a> From<&'a FieldError> for FieldErrorBody<'a> {
    fn from(e: &'a FieldError) -> Self {
        Self {
            field: &e.field,
            message: &e.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(source) => {
                tracing::error!(error = %source, source = ?source.source(), "request failed");
            }
            ApiError::Unavailable(source) => {
                tracing::warn!(error = %source, source = ?source.source(), "dependency unavailable");
            }
            other => tracing::info!(status = status.as_u16(), error = %other, "request refused"),
        }
        let detail = match &self {
            ApiError::Validation(_) => "the request has invalid fields".to_owned(),
            other => other.to_string(),
        };
        let problem = Problem {
            kind: format!("/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            errors: match &self {
                ApiError::Validation(errors) => Some(errors.0.iter().map(Into::into).collect()),
                _ => None,
            },
            extra: match &self {
                ApiError::Conflict { extra, .. } => extra.clone(),
                _ => Map::new(),
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::Unavailable(_) = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if let ApiError::Unauthorized(_) = self {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"order-system\""),
            );
        }
        response
    }
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::CategoryNotFound => ApiError::NotFound("category not found".into()),
            CatalogError::ProductNotFound => ApiError::NotFound("product not found".into()),
            CatalogError::ParentNotFound => ApiError::invalid("parent_id", err.to_string()),
            CatalogError::UnknownCategory => ApiError::invalid("category_id", err.to_string()),
            CatalogError::InvalidCursor => ApiError::BadRequest(err.to_string()),
            CatalogError::DuplicateCategoryName(_)
            | CatalogError::DuplicateSku(_)
            | CatalogError::CategoryNotEmpty
            | CatalogError::IllegalMove(_)
            | CatalogError::MoveTooLarge { .. }
            | CatalogError::InsufficientStock
            | CatalogError::StockLimitExceeded
            | CatalogError::ConcurrentChange => ApiError::conflict(err.to_string()),
            CatalogError::Storage(failure) => failure.into(),
        }
    }
}

/// Storage unavailable for now: a 503 to retry later; failed: a 500. Neither shows its
/// cause.
impl From<StorageFailure> for ApiError {
    fn from(failure: StorageFailure) -> Self {
        match failure {
            StorageFailure::Unavailable(source) => ApiError::Unavailable(source),
            StorageFailure::Failed(source) => ApiError::Internal(source),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(err: OrderError) -> Self {
        match err {
            OrderError::NotFound => ApiError::NotFound("order not found".into()),
            OrderError::Invalid(errors) => ApiError::Validation(errors),
            OrderError::InvalidCursor => ApiError::BadRequest(err.to_string()),
            OrderError::OutOfStock(ref lines) => {
                let unavailable: Vec<Value> = lines
                    .iter()
                    .map(|line| {
                        serde_json::json!({
                            "product_id": line.product_id.to_string(),
                            "requested": line.requested,
                            "available": line.available,
                        })
                    })
                    .collect();
                let mut extra = Map::new();
                extra.insert("unavailable".into(), Value::Array(unavailable));
                ApiError::Conflict {
                    detail: err.to_string(),
                    extra,
                }
            }
            OrderError::IllegalTransition(_)
            | OrderError::NotPermitted(_)
            | OrderError::IdempotencyKeyReused
            | OrderError::StockTooScattered { .. }
            | OrderError::ConcurrentChange => ApiError::conflict(err.to_string()),
            OrderError::Storage(failure) => failure.into(),
        }
    }
}

impl From<PaymentError> for ApiError {
    fn from(err: PaymentError) -> Self {
        match err {
            PaymentError::OrderNotFound => ApiError::NotFound("order not found".into()),
            PaymentError::PaymentNotFound => ApiError::NotFound("payment not found".into()),
            PaymentError::NotPayable(_)
            | PaymentError::AlreadyAssigned
            | PaymentError::ConcurrentChange => ApiError::conflict(err.to_string()),
            PaymentError::TargetOrderNotFound => {
                ApiError::Validation(ValidationErrors::single("order_id", "no order has this id"))
            }
            PaymentError::NoPhoneNumber => {
                let mut errors = ValidationErrors::default();
                errors.push(
                    "phone_number",
                    "no phone number given, and none on the customer's profile",
                );
                ApiError::Validation(errors)
            }
            PaymentError::PromptRefused(_) | PaymentError::MpesaNoAnswer => {
                ApiError::BadGateway(err.to_string())
            }
            PaymentError::InvalidCursor => ApiError::BadRequest(err.to_string()),
            PaymentError::Storage(failure) => failure.into(),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(err: AuditError) -> Self {
        match err {
            AuditError::InvalidCursor => ApiError::BadRequest(err.to_string()),
            AuditError::Storage(failure) => failure.into(),
        }
    }
}

impl From<CustomerError> for ApiError {
    fn from(err: CustomerError) -> Self {
        match err {
            CustomerError::NotFound => ApiError::NotFound("customer not found".into()),
            CustomerError::InvalidCursor => ApiError::BadRequest(err.to_string()),
            CustomerError::Storage(failure) => failure.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(err: ApiError) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = err.into_response();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (
            parts.status,
            parts.headers,
            serde_json::from_slice(&bytes).expect("json"),
        )
    }

    #[tokio::test]
    async fn validation_errors_list_their_fields() {
        let (status, headers, body) =
            body_of(ApiError::invalid("items[0].quantity", "must be at least 1")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["status"], 422);
        assert_eq!(body["type"], "/problems/validation-error");
        assert_eq!(body["errors"][0]["field"], "items[0].quantity");
        assert_eq!(body["errors"][0]["message"], "must be at least 1");
    }

    #[tokio::test]
    async fn unauthorized_carries_the_bearer_challenge_and_no_errors_member() {
        let (status, headers, body) = body_of(ApiError::Unauthorized("token expired".into())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            headers[header::WWW_AUTHENTICATE]
                .to_str()
                .expect("ascii")
                .starts_with("Bearer")
        );
        assert_eq!(body["detail"], "token expired");
        assert!(body.get("errors").is_none());
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let cause = std::io::Error::other("secret connection string");
        let (status, _, body) = body_of(ApiError::Internal(Box::new(cause))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("secret"));
    }

    fn refused() -> StorageFailure {
        StorageFailure::Unavailable("host db-1 refused".into())
    }

    #[tokio::test]
    async fn an_unavailable_store_is_a_503_to_retry_later_hiding_its_cause() {
        for err in [
            ApiError::from(CatalogError::Storage(refused())),
            ApiError::from(OrderError::Storage(refused())),
            ApiError::from(CustomerError::Storage(refused())),
            ApiError::from(AuditError::Storage(refused())),
            ApiError::from(PaymentError::Storage(refused())),
        ] {
            let (status, headers, body) = body_of(err).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                headers.get(header::RETRY_AFTER).map(|v| v.as_bytes()),
                Some(&b"2"[..])
            );
            assert_eq!(body["type"], "/problems/service-unavailable");
            assert!(!body.to_string().contains("db-1"), "{body}");
        }
    }

    #[tokio::test]
    async fn catalog_errors_map_to_the_contract_statuses() {
        let cases = [
            (CatalogError::CategoryNotFound, 404),
            (CatalogError::DuplicateSku("A".into()), 409),
            (CatalogError::CategoryNotEmpty, 409),
            (
                CatalogError::MoveTooLarge {
                    items: 101,
                    limit: 100,
                },
                409,
            ),
            (CatalogError::InvalidCursor, 400),
            (CatalogError::UnknownCategory, 422),
        ];
        for (err, status) in cases {
            assert_eq!(ApiError::from(err).status().as_u16(), status);
        }
    }

    #[tokio::test]
    async fn unavailable_lines_are_listed_in_the_conflict_body() {
        let product: domain::ProductId = "01J0000000000000000000000P".parse().expect("id");
        let err = OrderError::OutOfStock(vec![domain::order::Unavailable {
            product_id: product,
            requested: 3,
            available: 1,
        }]);
        let (status, _, body) = body_of(err.into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            body["unavailable"],
            serde_json::json!([{"product_id": "01J0000000000000000000000P", "requested": 3, "available": 1}])
        );
        for (err, code) in [
            (OrderError::NotFound, 404),
            (OrderError::IdempotencyKeyReused, 409),
            (OrderError::InvalidCursor, 400),
        ] {
            assert_eq!(ApiError::from(err).status().as_u16(), code);
        }
    }

    #[tokio::test]
    async fn customer_and_provider_errors_map_to_the_contract_statuses() {
        assert_eq!(
            ApiError::from(CustomerError::NotFound).status().as_u16(),
            404
        );
        let storage = CustomerError::Storage(StorageFailure::failed(std::io::Error::other("x")));
        assert_eq!(ApiError::from(storage).status().as_u16(), 500);
        let (status, _, body) = body_of(ApiError::BadGateway("provider down".into())).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["type"], "/problems/bad-gateway");
    }
}
