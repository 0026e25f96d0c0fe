//! A recorder of callbacks: a small HTTP server on 127.0.0.1 standing in for the shop's
//! callback endpoints (M-Pesa's STK, C2B and reversal URLs, for instance). It keeps the
//! path and raw body of every request it gets, in arrival order, and answers each with
//! the JSON its test chose ([`CallbackRecorder::start`]). A test reads what arrived
//! ([`CallbackRecorder::bodies`], [`CallbackRecorder::json`]) or waits for it by bounded
//! polling ([`CallbackRecorder::wait_for`]): no fixed sleep beyond the poll interval.
//! The server stops when the recorder is dropped.
//!
//! [`poll`] is that bounded polling for any other condition a test waits on (a stand-in's
//! own record of what it sent, say).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use url::Url;

/// How many times [`poll`] (and so [`CallbackRecorder::wait_for`]) looks before it gives
/// up.
pub const POLL_TRIES: usize = 400;
/// How long [`poll`] waits between two looks.
pub const POLL_EVERY: Duration = Duration::from_millis(25);

/// Looks until `look` finds something ([`POLL_TRIES`] looks at most, [`POLL_EVERY`]
/// apart): what it found, or `None` if it never did. The bounded polling a test waits with
/// for anything that arrives in its own time (a callback, a stand-in's record, a decision),
/// instead of sleeping a fixed time.
pub async fn poll<T>(mut look: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    for _ in 0..POLL_TRIES {
        if let Some(found) = look().await {
            return Some(found);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    None
}

/// What the recorder answers to a request: from its path and raw body, the HTTP status
/// and the JSON body.
type Answer = dyn Fn(&str, &[u8]) -> (StatusCode, String) + Send + Sync;

/// Requests received: (path, raw body), in arrival order.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

#[derive(Clone)]
struct RecorderState {
    received: Received,
    answer: Arc<Answer>,
}

/// The shop's callback endpoints: any path, any method (callbacks are POSTs). Keeps every
/// request it gets and answers it as told; stopped when dropped.
#[derive(Debug)]
pub struct CallbackRecorder {
    base_url: String,
    received: Received,
    task: tokio::task::JoinHandle<()>,
}

async fn record(State(state): State<RecorderState>, uri: Uri, body: Bytes) -> Response {
    state
        .received
        .lock()
        .expect("received callbacks")
        .push((uri.path().to_owned(), body.clone()));
    let (status, answer) = (state.answer)(uri.path(), &body);
    (status, [(header::CONTENT_TYPE, "application/json")], answer).into_response()
}

impl CallbackRecorder {
    /// Starts a recorder on a free port of 127.0.0.1. `answer` is given the path and raw
    /// body of each request and returns the HTTP status and JSON body to answer with; it
    /// may read state the test shares with it (an `Arc<AtomicBool>` saying whether to
    /// accept, say). A request is recorded before it is answered.
    pub async fn start(
        answer: impl Fn(&str, &[u8]) -> (StatusCode, String) + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a free port on 127.0.0.1 for the callback recorder");
        let address = listener.local_addr().expect("the recorder's address");
        let received = Received::default();
        let state = RecorderState {
            received: received.clone(),
            answer: Arc::new(answer),
        };
        let router = axum::Router::new().fallback(record).with_state(state);
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the callback recorder serves");
        });
        Self {
            base_url: format!("http://{address}"),
            received,
            task,
        }
    }

    /// `http://127.0.0.1:port`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of `path` (starting with `/`) on this recorder.
    pub fn url(&self, path: &str) -> Url {
        format!("{}{path}", self.base_url)
            .parse()
            .expect("a callback URL on 127.0.0.1")
    }

    /// The raw bodies received on `path` so far, in arrival order.
    pub fn bodies(&self, path: &str) -> Vec<Bytes> {
        self.received
            .lock()
            .expect("received callbacks")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, body)| body.clone())
            .collect()
    }

    /// The bodies received on `path` so far, as JSON; panics on one that is not JSON.
    pub fn json(&self, path: &str) -> Vec<Value> {
        self.bodies(path)
            .iter()
            .map(|body| parse(path, body))
            .collect()
    }

    /// Polls ([`POLL_TRIES`] looks, [`POLL_EVERY`] apart) until `path` received at least
    /// `n` bodies, and returns all it received; panics, saying what did arrive, if they
    /// never do.
    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Bytes> {
        let arrived = poll(async || Some(self.bodies(path)).filter(|got| got.len() >= n)).await;
        if let Some(got) = arrived {
            return got;
        }
        let got: Vec<String> = self
            .bodies(path)
            .iter()
            .map(|body| String::from_utf8_lossy(body).into_owned())
            .collect();
        panic!(
            "{n} callbacks on {path} expected within {POLL_TRIES} looks {POLL_EVERY:?} apart; \
             got {}: {got:?}",
            got.len()
        );
    }

    /// [`CallbackRecorder::wait_for`], the bodies as JSON.
    pub async fn wait_for_json(&self, path: &str, n: usize) -> Vec<Value> {
        self.wait_for(path, n)
            .await
            .iter()
            .map(|body| parse(path, body))
            .collect()
    }
}

impl Drop for CallbackRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn parse(path: &str, body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|err| {
        panic!(
            "a callback on {path} is not JSON ({err}): {}",
            String::from_utf8_lossy(body)
        )
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use serde_json::json;

    use super::*;

    async fn post(url: Url, body: &str) -> (u16, Value) {
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a client")
            .post(url)
            .body(body.to_owned())
            .send()
            .await
            .expect("the recorder answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    #[tokio::test]
    async fn it_keeps_every_body_by_path_and_answers_as_told() {
        let accept = Arc::new(AtomicBool::new(true));
        let switch = accept.clone();
        let recorder = CallbackRecorder::start(move |path, body| {
            if path == "/broken" {
                (StatusCode::INTERNAL_SERVER_ERROR, "{}".to_owned())
            } else if switch.load(Ordering::SeqCst) && !body.starts_with(b"{\"no\"") {
                (StatusCode::OK, r#"{"ok":true}"#.to_owned())
            } else {
                (StatusCode::OK, r#"{"ok":false}"#.to_owned())
            }
        })
        .await;
        assert!(recorder.base_url().starts_with("http://127.0.0.1:"));
        assert_eq!(
            recorder.url("/a").as_str(),
            format!("{}/a", recorder.base_url())
        );

        assert_eq!(
            post(recorder.url("/a"), r#"{"n":1}"#).await,
            (200, json!({"ok": true}))
        );
        assert_eq!(
            post(recorder.url("/a"), r#"{"no":2}"#).await,
            (200, json!({"ok": false}))
        );
        accept.store(false, Ordering::SeqCst);
        assert_eq!(
            post(recorder.url("/b"), r#"{"n":3}"#).await,
            (200, json!({"ok": false}))
        );
        assert_eq!(post(recorder.url("/broken"), "{}").await, (500, json!({})));

        assert_eq!(recorder.json("/a"), [json!({"n": 1}), json!({"no": 2})]);
        assert_eq!(recorder.bodies("/b"), [Bytes::from_static(b"{\"n\":3}")]);
        assert_eq!(recorder.wait_for("/broken", 1).await.len(), 1);
        assert_eq!(recorder.wait_for_json("/a", 2).await.len(), 2);
        assert!(recorder.bodies("/elsewhere").is_empty());
    }

    #[tokio::test]
    async fn poll_looks_until_it_finds_something() {
        let mut looks = 0;
        let found = poll(async || {
            looks += 1;
            (looks == 3).then_some("third")
        })
        .await;
        assert_eq!((found, looks), (Some("third"), 3));
    }
}
