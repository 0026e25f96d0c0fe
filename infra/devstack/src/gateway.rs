//! A local stand-in for API Gateway (HTTP API, payload 2.0) in front of `cargo lambda
//! watch`'s invoke API, for the fuzzer: it turns each HTTP request into the event API
//! Gateway would send (a body that is not UTF-8 goes base64-encoded, `isBase64Encoded`),
//! invokes the function that owns the path, and turns the function's answer back into
//! HTTP. `cargo lambda watch`'s own HTTP front answers such bodies with a `text/plain` 500
//! before any function runs; API Gateway does not.
//!
//! Invariants: routing is the local emulator's table (Cargo.toml), so a path no function
//! owns gets API Gateway's own `404 {"message":"Not Found"}`; a function that fails gets
//! API Gateway's `500 {"message":"Internal Server Error"}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::StackError;
use testkit::events::ApiRequest;

#[derive(Debug)]
struct Gateway {
    routes: Vec<(Vec<String>, String)>,
    invoke_base: String,
    http: reqwest::Client,
}

/// Serves the gateway on `port` (loopback), invoking functions at `invoke_base`
/// (`http://127.0.0.1:9000`), until the process stops.
pub async fn serve(port: u16, invoke_base: &str) -> Result<(), StackError> {
    let routes = testkit::routes::watch_router()?
        .into_iter()
        .map(|(path, function)| (segments(&path), function))
        .collect();
    let state = Arc::new(Gateway {
        routes,
        invoke_base: invoke_base.trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(handle).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| StackError::Other(format!("binding 127.0.0.1:{port}: {e}")))?;
    axum::serve(listener, app)
        .await
        .map_err(|e| StackError::Other(e.to_string()))
}

fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

/// The function owning `path`: a template segment `{…}` matches any one segment.
fn function_for<'a>(routes: &'a [(Vec<String>, String)], path: &str) -> Option<&'a str> {
    let wanted = segments(path);
    routes
        .iter()
        .find(|(template, _)| {
            template.len() == wanted.len()
                && template.iter().zip(&wanted).all(|(t, w)| {
                    (t.starts_with('{') && t.ends_with('}') && !w.is_empty()) || t == w
                })
        })
        .map(|(_, function)| function.as_str())
}

fn gateway_message(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        format!(r#"{{"message":"{message}"}}"#),
    )
        .into_response()
}

async fn handle(
    State(gateway): State<Arc<Gateway>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(function) = function_for(&gateway.routes, uri.path()) else {
        return gateway_message(StatusCode::NOT_FOUND, "Not Found");
    };
    let mut request = ApiRequest::new(
        method.as_str(),
        uri.path_and_query().map_or(uri.path(), |p| p.as_str()),
    );
    for (name, value) in &headers {
        // API Gateway hands header values over as text; one that is not is dropped.
        if let Ok(value) = value.to_str() {
            request = request.header(name.as_str(), value);
        }
    }
    let event = request.raw_body(body.to_vec()).event();
    let url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        gateway.invoke_base
    );
    let answer = match gateway.http.post(url).body(event).send().await {
        Ok(answer) if answer.status().is_success() => answer,
        _ => return gateway_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    };
    match answer.json::<Value>().await {
        Ok(output) => into_http(&output),
        Err(_) => gateway_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// A payload-2.0 response (`statusCode`, `headers`, `body`, `isBase64Encoded`) as HTTP.
fn into_http(output: &Value) -> Response {
    let status = output["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = output["body"].as_str().unwrap_or_default();
    let body = if output["isBase64Encoded"].as_bool() == Some(true) {
        STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut response = (status, body).into_response();
    if let Some(headers) = output["headers"].as_object() {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_to_the_function_owning_their_template() {
        let routes: Vec<(Vec<String>, String)> = [
            ("/api/v1/orders", "orders"),
            ("/api/v1/orders/{id}", "orders"),
            ("/api/v1/orders/{id}/cancel", "orders"),
            ("/api/v1/categories/tree", "categories"),
        ]
        .iter()
        .map(|(p, f)| (segments(p), (*f).to_owned()))
        .collect();
        assert_eq!(
            function_for(&routes, "/api/v1/orders/01ABC/cancel"),
            Some("orders")
        );
        assert_eq!(function_for(&routes, "/api/v1/orders"), Some("orders"));
        assert_eq!(
            function_for(&routes, "/api/v1/categories/tree"),
            Some("categories")
        );
        assert_eq!(function_for(&routes, "/api/v1/orders/01ABC/refund"), None);
        assert_eq!(function_for(&routes, "/api/v2/orders"), None);
    }

    #[test]
    fn a_function_answer_becomes_the_http_response() {
        let response = into_http(&serde_json::json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json", "location": "/x"},
            "body": "{}",
            "isBase64Encoded": false
        }));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["location"], "/x");
    }
}
