//! A concurrent writer the local emulator cannot produce. DynamoDB cancels a transaction
//! with `TransactionConflict` when another transaction is changing one of its items at
//! that moment; DynamoDB Local applies writes one at a time and never does. This HTTP
//! forwarder in front of the emulator answers as DynamoDB does then (a 400
//! `TransactionCanceledException`, `TransactionConflict` for the contested item and `None`
//! for the others), either
//! - for the first `n` `TransactWriteItems` it receives ([`Contention::start`]), or
//! - like DynamoDB, for every transaction that names an item of a transaction still in
//!   flight through it ([`Contention::like_dynamodb`]; what `make load` races through),
//!
//! and forwards every other request to the emulator untouched.
//!
//! Invariant: a refused transaction never reaches the emulator, so it changes nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Transactions still to refuse (first-`n` mode).
    conflicts_left: AtomicUsize,
    conflicts_answered: AtomicUsize,
    /// The items of the transactions in flight (DynamoDB mode).
    in_flight: Option<Mutex<HashSet<String>>>,
}

impl Contention {
    /// A forwarder to the emulator at `endpoint` that cancels the first `conflicts`
    /// transactions with `TransactionConflict`.
    pub async fn start(endpoint: &str, conflicts: usize) -> Self {
        Self::serve(endpoint, conflicts, None).await
    }

    /// A forwarder to the emulator at `endpoint` that cancels a transaction with
    /// `TransactionConflict` whenever one of its items belongs to a transaction still in
    /// flight, as DynamoDB does.
    pub async fn like_dynamodb(endpoint: &str) -> Self {
        Self::serve(endpoint, 0, Some(Mutex::new(HashSet::new()))).await
    }

    async fn serve(
        endpoint: &str,
        conflicts: usize,
        in_flight: Option<Mutex<HashSet<String>>>,
    ) -> Self {
        let state = Arc::new(Forwarding {
            upstream: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            conflicts_left: AtomicUsize::new(conflicts),
            conflicts_answered: AtomicUsize::new(0),
            in_flight,
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

    /// Cancels the next `n` transactions with `TransactionConflict` (first-`n` mode, from
    /// now on): a test sets up through the forwarder, then injects the failure.
    pub fn refuse_next(&self, n: usize) {
        self.state.conflicts_left.store(n, Ordering::SeqCst);
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
        return conflict(&body, 0);
    }
    let held = match (&state.in_flight, is_transaction) {
        (Some(in_flight), true) => {
            let items = transaction_items(&body);
            let mut held = in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(contested) = items.iter().position(|item| held.contains(item)) {
                state.conflicts_answered.fetch_add(1, Ordering::SeqCst);
                return conflict(&body, contested);
            }
            held.extend(items.iter().cloned());
            items
        }
        _ => Vec::new(),
    };
    let response = send(&state, method, uri, headers, body).await;
    if let Some(in_flight) = &state.in_flight {
        let mut in_flight = in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for item in &held {
            in_flight.remove(item);
        }
    }
    response
}

/// The table and key of every item a `TransactWriteItems` body names, in order.
fn transaction_items(body: &[u8]) -> Vec<String> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    body["TransactItems"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    let (_, op) = item.as_object()?.iter().next()?;
                    let key = if op["Key"].is_object() {
                        &op["Key"]
                    } else {
                        &op["Item"]
                    };
                    Some(format!("{}|{}|{}", op["TableName"], key["PK"], key["SK"]))
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn send(
    state: &Forwarding,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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

/// DynamoDB's answer to a transaction whose item at `contested` another transaction is
/// changing.
fn conflict(request: &[u8], contested: usize) -> Response {
    let items = serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|body| body["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1);
    let mut reasons = vec![json!({ "Code": "None" }); items.max(contested + 1)];
    reasons[contested] = json!({
        "Code": "TransactionConflict",
        "Message": "Transaction is ongoing for the item"
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `TransactWriteItems` body updating the items with partition keys `pks`.
    fn transaction(pks: &[&str]) -> String {
        let items: Vec<Value> = pks
            .iter()
            .map(|pk| json!({"Update": {"TableName": "t", "Key": {"PK": {"S": pk}, "SK": {"S": pk}}}}))
            .collect();
        json!({ "TransactItems": items }).to_string()
    }

    #[tokio::test]
    async fn like_dynamodb_a_transaction_meeting_one_in_flight_is_cancelled_for_that_item() {
        // The upstream holds any transaction naming PRODUCT#1 until released.
        let release = Arc::new(tokio::sync::Notify::new());
        let arrived = Arc::new(tokio::sync::Notify::new());
        let (held, reached) = (release.clone(), arrived.clone());
        let upstream = axum::Router::new().fallback(move |body: String| {
            let (held, reached) = (held.clone(), reached.clone());
            async move {
                if body.contains("PRODUCT#1") {
                    reached.notify_one();
                    held.notified().await;
                }
                "{}"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, upstream).await });
        let contention = Contention::like_dynamodb(&format!("http://{address}")).await;
        let send = |body: String| {
            let url = contention.endpoint().to_owned();
            async move {
                reqwest::Client::new()
                    .post(url)
                    .header(TARGET, TRANSACT_WRITE)
                    .body(body)
                    .send()
                    .await
                    .expect("answer")
            }
        };

        let first = tokio::spawn(send(transaction(&["PRODUCT#1"])));
        arrived.notified().await;
        // Answered at once, not forwarded to wait behind the first.
        let refused = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            send(transaction(&["ORDER#9", "PRODUCT#1"])),
        )
        .await
        .expect("answered without reaching the emulator");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let reasons: Value = refused.json().await.expect("json");
        assert_eq!(reasons["CancellationReasons"][0]["Code"], "None");
        assert_eq!(
            reasons["CancellationReasons"][1]["Code"],
            "TransactionConflict"
        );
        let other_item = send(transaction(&["PRODUCT#2"])).await;
        assert_eq!(other_item.status(), StatusCode::OK, "other items pass");
        assert_eq!(contention.conflicts_answered(), 1);

        release.notify_one();
        assert_eq!(first.await.expect("first").status(), StatusCode::OK);
        let after = send(transaction(&["ORDER#9", "PRODUCT#1"]));
        let after = tokio::spawn(after);
        arrived.notified().await;
        release.notify_one();
        assert_eq!(
            after.await.expect("after").status(),
            StatusCode::OK,
            "released items pass"
        );
        assert_eq!(contention.conflicts_answered(), 1);
    }

    #[test]
    fn a_transaction_names_each_item_by_table_and_key() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "ORDER#1"}, "SK": {"S": "ORDER#1"}, "x": {"N": "1"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "PRODUCT#1"}}}},
        ]});
        let items = transaction_items(body.to_string().as_bytes());
        assert_eq!(items.len(), 2);
        assert!(items[1].contains("PRODUCT#1"));
        assert_ne!(items[0], items[1]);
        let other_table = json!({"TransactItems": [
            {"Update": {"TableName": "u", "Key": {"PK": {"S": "PRODUCT#1"}, "SK": {"S": "PRODUCT#1"}}}},
        ]});
        assert_ne!(
            transaction_items(other_table.to_string().as_bytes())[0],
            items[1]
        );
    }
}
