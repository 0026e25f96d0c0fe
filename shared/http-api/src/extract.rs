//! Request extractors that fail with the contract's errors: 415 for a non-JSON body, 413
//! over 64 KiB, 400 for malformed JSON or query strings, 422 (naming the field) for JSON
//! of the wrong shape.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::objects_only::ObjectsOnly;
use crate::problem::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body, parsed strictly.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses `bytes` as `T`; syntax errors are 400, shape errors 422 with the field's path
/// (an array where an object belongs is a shape error, at any depth: [`ObjectsOnly`]).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let strict = ObjectsOnly(&mut deserializer);
    let value: T = serde_path_to_error::deserialize(strict).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        // A number no number type holds (`1e400`) is valid JSON that serde_json reports
        // as a syntax error: it is the field's value that is wrong.
        let out_of_range = inner.to_string().starts_with("number out of range");
        if inner.classify() != serde_json::error::Category::Data && !out_of_range {
            return ApiError::BadRequest(format!("malformed JSON: {inner}"));
        }
        let field = if field == "." {
            "body".to_owned()
        } else {
            field
        };
        ApiError::invalid(&field, strip_position(&inner.to_string()))
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 9" to data errors; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len > MAX_BODY_BYTES);
        if declared_too_large {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Query-string parameters; anything malformed is a 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded_like(query).map(ApiQuery)
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::BadRequest("malformed query string".into()))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::BadRequest(format!("bad query parameter: {}", e.body_text())))
}

/// Parses an optional boolean query parameter (`true`/`false`).
pub fn parse_bool_param(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None => Ok(false),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ApiError::BadRequest(format!(
            "{name} must be true or false"
        ))),
    }
}

/// For `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`:
/// an absent field stays `None`, `null` becomes `Some(None)`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// For `#[serde(default, deserialize_with = "not_null")]` on an `Option<T>` whose field may
/// be left out but has no `null` in the schema: absent stays `None`, `null` is a 422 on the
/// field ("must not be null") instead of reading as "leave it".
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    match <Option<T> as serde::Deserialize>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom("must not be null")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        quantity: u32,
    }

    #[test]
    fn recognises_json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422_with_the_path() {
        let status =
            |r: Result<Body, ApiError>| r.map(|_| 200).unwrap_or_else(|e| e.status().as_u16());
        assert_eq!(status(parse_json(b"{\"name\": ")), 400);
        assert_eq!(status(parse_json(b"")), 400);
        assert_eq!(
            status(parse_json(b"{\"name\":\"a\",\"items\":[]} trailing")),
            400
        );
        match parse_json::<Body>(br#"{"name":"a","items":[{"quantity":-1}]}"#) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors.0[0].field, "items[0].quantity"),
            other => panic!("expected a validation error, got {other:?}"),
        }
        match parse_json::<Body>(br#"{"name":"a","items":[],"extra":1}"#) {
            Err(ApiError::Validation(errors)) => assert!(errors.0[0].message.contains("extra")),
            other => panic!("expected a validation error, got {other:?}"),
        }
        match parse_json::<Body>(b"[]") {
            Err(ApiError::Validation(errors)) => assert_eq!(errors.0[0].field, "body"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Change {
        #[serde(default, deserialize_with = "not_null")]
        is_active: Option<bool>,
        #[serde(default, deserialize_with = "nullable")]
        note: Option<Option<String>>,
    }

    #[test]
    fn a_field_without_null_in_its_schema_may_be_left_out_but_not_sent_as_null() {
        let change = parse_json::<Change>(b"{}").expect("absent");
        assert_eq!((change.is_active, change.note), (None, None));
        let change = parse_json::<Change>(br#"{"is_active":false,"note":null}"#).expect("set");
        assert_eq!((change.is_active, change.note), (Some(false), Some(None)));
        match parse_json::<Change>(br#"{"is_active":null}"#) {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors.0[0].field, "is_active");
                assert_eq!(errors.0[0].message, "must not be null");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn booleans_are_strict() {
        assert!(matches!(
            parse_bool_param("in_stock", Some("true")),
            Ok(true)
        ));
        assert!(matches!(parse_bool_param("in_stock", None), Ok(false)));
        assert!(parse_bool_param("in_stock", Some("yes")).is_err());
    }
}
