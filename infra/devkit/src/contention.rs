//! A concurrent writer the local emulator cannot produce. DynamoDB cancels a transaction
//! with `TransactionConflict` when another transaction is changing one of its items at
//! that moment; DynamoDB Local applies writes one at a time and never does. This HTTP
//! forwarder in front of the emulator answers the first `n` `TransactWriteItems` it
//! receives exactly as DynamoDB does then (a 400 `TransactionCanceledException` with
//! `TransactionConflict` for the first item and `None` for the others), and forwards
//! every other request, and every later transaction, to the emulator untouched.
//!
//! Invariant: a refused transaction never reaches the emulator, so it changes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const TARGET: &str = "x-amz-target";
const TRANSACT_WRITE: &str = "DynamoDB_20120810.TransactWriteItems";

/// The forwarder, running until dropped.
#[derive(Debug)]
pub struct Contention {
    endpoint: String,
    state: Arc<Forwarding>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Forwarding {
    upstream: String,
    http: reqwest::Client,
    conflicts_left: AtomicUsize,
    conflicts_answered: AtomicUsize,
}

impl Contention {
    /// A forwarder to the emulator at `endpoint` that cancels the first `conflicts`
    /// transactions with `TransactionConflict`.
    pub async fn start(endpoint: &str, conflicts: usize) -> Self {
        let state = Arc::new(Forwarding {
            upstream: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            conflicts_left: AtomicUsize::new(conflicts),
            conflicts_answered: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the forwarder: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            endpoint: format!("http://{addr}"),
            state,
            task,
        }
    }

    /// The URL clients use instead of the emulator's.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How many transactions were cancelled with `TransactionConflict` so far.
    pub fn conflicts_answered(&self) -> usize {
        self.state.conflicts_answered.load(Ordering::SeqCst)
    }
}

impl Drop for Contention {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    State(state): State<Arc<Forwarding>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_transaction = headers
        .get(TARGET)
        .is_some_and(|target| target.as_bytes() == TRANSACT_WRITE.as_bytes());
    if is_transaction && take_one(&state.conflicts_left) {
        state.conflicts_answered.fetch_add(1, Ordering::SeqCst);
        return conflict(&body);
    }
    let mut request = state
        .http
        .request(method, format!("{}{uri}", state.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != axum::http::header::HOST {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(answer) => {
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = (status, body).into_response();
            for (name, value) in &headers {
                if name != axum::http::header::CONTENT_LENGTH
                    && name != axum::http::header::TRANSFER_ENCODING
                {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(err) => (StatusCode::BAD_GATEWAY, err.to_string()).into_response(),
    }
}

/// Takes one from `counter` unless it is zero.
fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// DynamoDB's answer to a transaction whose first item another transaction is changing.
fn conflict(request: &[u8]) -> Response {
    let items = serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|body| body["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1);
    let mut reasons = vec![json!({
        "Code": "TransactionConflict",
        "Message": "Transaction is ongoing for the item"
    })];
    reasons.resize(items.max(1), json!({ "Code": "None" }));
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r["Code"].as_str().unwrap_or("None"))
        .collect();
    let body = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        "CancellationReasons": reasons,
    });
    (
        StatusCode::BAD_REQUEST,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/x-amz-json-1.0",
        )],
        body.to_string(),
    )
        .into_response()
}
