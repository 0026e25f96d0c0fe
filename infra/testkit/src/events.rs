//! Requests as API Gateway (HTTP API, payload 2.0) delivers them to a Lambda: built from a
//! captured event, converted by `lambda_http` exactly as at run time, and sent through a
//! function's router in-process.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The captured API Gateway v2 event every test request starts from.
const TEMPLATE: &str = include_str!("../fixtures/apigw-v2-request.json");

/// A request to send through a router.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl ApiRequest {
    /// A request; `path_and_query` may carry a `?query`.
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    pub fn patch(path: &str) -> Self {
        Self::new("PATCH", path)
    }

    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A JSON body with its content type.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .raw_body(body.to_string().into_bytes())
    }

    /// A body as given, with no content type added.
    pub fn raw_body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// The API Gateway v2 event JSON for this request.
    pub fn event(&self) -> String {
        let mut event: Value = serde_json::from_str(TEMPLATE).unwrap_or_else(|_| json!({}));
        let mut headers = event["headers"].as_object().cloned().unwrap_or_default();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), Value::from(value.as_str()));
        }
        let body = self.body.as_deref().unwrap_or_default();
        headers.insert("content-length".into(), Value::from(body.len().to_string()));
        let query: serde_json::Map<String, Value> = url_pairs(&self.query)
            .into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect();
        event["rawPath"] = Value::from(self.path.as_str());
        event["rawQueryString"] = Value::from(self.query.as_str());
        event["queryStringParameters"] = Value::Object(query);
        event["headers"] = Value::Object(headers);
        event["requestContext"]["http"]["method"] = Value::from(self.method.as_str());
        event["requestContext"]["http"]["path"] = Value::from(self.path.as_str());
        // Binary-safe, as API Gateway does for payloads that are not text.
        match std::str::from_utf8(body) {
            Ok(text) => {
                event["body"] = Value::from(text);
                event["isBase64Encoded"] = Value::from(false);
            }
            Err(_) => {
                event["body"] = Value::from(STANDARD.encode(body));
                event["isBase64Encoded"] = Value::from(true);
            }
        }
        event.to_string()
    }

    /// Sends the request through `router` as the Lambda runtime would.
    pub async fn send(self, router: &Router) -> ApiResponse {
        let request = lambda_http::request::from_str(&self.event())
            .unwrap_or_else(|e| panic!("not a valid API Gateway v2 event: {e}"));
        let response = router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        ApiResponse {
            status: parts.status,
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            raw: bytes.to_vec(),
        }
    }
}

/// Decoded `a=b&c=d` pairs (last value wins, as API Gateway's map does for one key).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the router answered.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when it is empty or not JSON).
    pub body: Value,
    pub raw: Vec<u8>,
}

impl ApiResponse {
    /// Panics with the body when the status is not `expected`.
    #[track_caller]
    pub fn expect_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.raw)
        );
        self
    }

    /// Panics unless this is a problem+json body with `status` (and returns the body).
    #[track_caller]
    pub fn expect_problem(&self, status: u16) -> &Value {
        self.expect_status(status);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "errors are problem+json"
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        &self.body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_as_api_gateway_v2_requests() {
        let request = ApiRequest::post("/api/v1/products?limit=5&q=a%20b")
            .bearer("t")
            .json(&json!({"name": "x"}));
        let parsed = lambda_http::request::from_str(&request.event()).expect("valid event");
        assert_eq!(parsed.method(), "POST");
        assert_eq!(parsed.uri().path(), "/api/v1/products");
        assert_eq!(parsed.uri().query(), Some("limit=5&q=a%20b"));
        assert_eq!(parsed.headers()["authorization"], "Bearer t");
    }

    #[test]
    fn decodes_query_pairs() {
        assert_eq!(
            url_pairs("q=a%20b&x=1+2&e="),
            vec![
                ("q".to_owned(), "a b".to_owned()),
                ("x".to_owned(), "1 2".to_owned()),
                ("e".to_owned(), String::new()),
            ]
        );
    }
}
