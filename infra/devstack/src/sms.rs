//! The local stand-in for Africa's Talking's SMS API, as much of it as `make dev` needs:
//! the notifier's one request shape, `POST /version1/messaging` with the form fields
//! `username`, `to` (one number), `message` (and optional ones it ignores) and the
//! `apiKey` header. It sends nothing anywhere.
//!
//! Answers as the real API does to that request: HTTP 401 `The supplied authentication is
//! invalid` for a wrong or missing `apiKey` or `username`, HTTP 400 for a missing `to` or
//! `message`, otherwise HTTP 201 with `SMSMessageData` naming one recipient with status
//! code 101 (`Success`) and a fresh `ATXid_` message id — except for a number ending in
//! [`BLACKLISTED_SUFFIX`], which it refuses as the real API refuses a number that opted
//! out: status code 406 `UserInBlacklist`, message id `None` (so the stack can show a
//! failed notification for real).
//!
//! Invariants:
//! - Only accepted SMS are kept, in arrival order, in the [`Outbox`]; `GET /messages` lists
//!   them (to look at what the stack "sent").
//! - One log line per accepted SMS: the message id, the number masked except its country
//!   code and last three digits ([`mask_number`]) and the message length. Never the full
//!   number, the text or the API key (nor does [`SandboxConfig`]'s `Debug` show the key).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;

/// Path of the messaging endpoint, as on the real API.
pub const MESSAGING_PATH: &str = "/version1/messaging";
/// Path of the outbox: `GET` lists the accepted SMS.
pub const MESSAGES_PATH: &str = "/messages";
/// The real API's body for a bad API key or username (HTTP 401, text/plain).
pub const INVALID_AUTHENTICATION: &str = "The supplied authentication is invalid";

/// A number ending in this is refused as blacklisted (`UserInBlacklist`).
pub const BLACKLISTED_SUFFIX: &str = "0000";

/// The account the stand-in accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The `username` form field every request must carry.
    pub username: String,
    /// The `apiKey` header every request must carry.
    pub api_key: String,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("username", &self.username)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// One accepted SMS, as `GET /messages` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentSms {
    /// `ATXid_` and 32 hex digits, as in the answer's recipient entry.
    pub message_id: String,
    pub to: String,
    pub message: String,
}

/// The SMS the stand-in accepted, shared between the server and whoever inspects it.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<SentSms>>>);

impl Outbox {
    /// Every accepted SMS, in arrival order.
    pub fn messages(&self) -> Vec<SentSms> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn push(&self, sms: SentSms) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sms);
    }
}

/// A stand-in serving on 127.0.0.1; stopped when dropped.
#[derive(Debug)]
pub struct RunningSandbox {
    /// `http://127.0.0.1:<port>`, without a trailing slash (the notifier's `AT_BASE_URL`).
    pub base_url: String,
    pub outbox: Outbox,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// Serves until the process is stopped.
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the stand-in for `config` on 127.0.0.1:`port` (0: a free port) in a background
/// task.
pub async fn start(config: SandboxConfig, port: u16) -> std::io::Result<RunningSandbox> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let outbox = Outbox::default();
    let router = Router::new()
        .route(MESSAGING_PATH, post(send))
        .route(MESSAGES_PATH, get(list))
        .with_state(Arc::new(AppState {
            config,
            outbox: outbox.clone(),
        }));
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "sms sandbox stopped");
        }
    });
    Ok(RunningSandbox {
        base_url,
        outbox,
        task,
    })
}

#[derive(Debug)]
struct AppState {
    config: SandboxConfig,
    outbox: Outbox,
}

/// `number` with every digit hidden but the last three and, for numbers of ten digits
/// or more, the first three (the country code): `+254712345678` → `+254******678`.
pub fn mask_number(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let shown_head = if digits >= 10 { 3 } else { 0 };
    let mut seen = 0;
    number
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= shown_head || seen > digits.saturating_sub(3) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

fn plain(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

async fn send(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    // The first non-blank value of each form field.
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(&body) {
        if !value.trim().is_empty() {
            fields.entry(name).or_insert(value);
        }
    }
    let api_key = headers.get("apikey").and_then(|v| v.to_str().ok());
    if api_key != Some(state.config.api_key.as_str())
        || fields.get("username").map(AsRef::as_ref) != Some(state.config.username.as_str())
    {
        return plain(StatusCode::UNAUTHORIZED, INVALID_AUTHENTICATION);
    }
    let (Some(to), Some(message)) = (fields.get("to"), fields.get("message")) else {
        let missing = if fields.contains_key("to") {
            "message"
        } else {
            "to"
        };
        return plain(
            StatusCode::BAD_REQUEST,
            &format!("Request is missing required form field '{missing}'"),
        );
    };
    if to.ends_with(BLACKLISTED_SUFFIX) {
        tracing::info!(to = %mask_number(to), "sms sandbox: refused (blacklisted number)");
        let body = json!({"SMSMessageData": {
            "Message": "Sent to 0/1 Total Cost: 0",
            "Recipients": [{
                "statusCode": 406,
                "number": to,
                "cost": "0",
                "status": "UserInBlacklist",
                "messageId": "None",
            }],
        }});
        return (StatusCode::CREATED, axum::Json(body)).into_response();
    }
    let message_id = format!("ATXid_{:032x}", ulid::Ulid::new().0);
    tracing::info!(
        message_id = %message_id,
        to = %mask_number(to),
        length = message.chars().count(),
        "sms sandbox: accepted"
    );
    state.outbox.push(SentSms {
        message_id: message_id.clone(),
        to: to.to_string(),
        message: message.to_string(),
    });
    let body = json!({"SMSMessageData": {
        "Message": "Sent to 1/1 Total Cost: KES 0.8000",
        "Recipients": [{
            "statusCode": 101,
            "number": to,
            "cost": "KES 0.8000",
            "status": "Success",
            "messageId": message_id,
        }],
    }});
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn list(State(state): State<Arc<AppState>>) -> axum::Json<Vec<SentSms>> {
    axum::Json(state.outbox.messages())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use testkit::logs::CapturedLogs;

    use super::*;

    const KEY: &str = "atsk_test_0123456789abcdef";

    fn config() -> SandboxConfig {
        SandboxConfig {
            username: "sandbox".into(),
            api_key: KEY.into(),
        }
    }

    async fn post(
        sandbox: &RunningSandbox,
        api_key: Option<&str>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(format!("{}{MESSAGING_PATH}", sandbox.base_url))
            .header("Accept", "application/json")
            .form(fields);
        if let Some(key) = api_key {
            request = request.header("apiKey", key);
        }
        request.send().await.expect("request")
    }

    #[tokio::test]
    async fn a_number_ending_in_0000_is_refused_as_blacklisted_and_not_kept() {
        let sandbox = start(config(), 0).await.expect("start");
        let sms = [
            ("username", "sandbox"),
            ("to", "+254712340000"),
            ("message", "Hi"),
        ];
        let response = post(&sandbox, Some(KEY), &sms).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        let recipient = &body["SMSMessageData"]["Recipients"][0];
        assert_eq!(recipient["statusCode"], 406);
        assert_eq!(recipient["status"], "UserInBlacklist");
        assert!(sandbox.outbox.messages().is_empty());
    }

    #[tokio::test]
    async fn an_accepted_sms_is_answered_like_the_real_api_and_listed() {
        let sandbox = start(config(), 0).await.expect("start");
        let sms = [
            ("username", "sandbox"),
            ("to", "+254712345678"),
            ("message", "Order ORD-1 confirmed"),
        ];
        let response = post(&sandbox, Some(KEY), &sms).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        let recipient = &body["SMSMessageData"]["Recipients"][0];
        assert_eq!(recipient["statusCode"], 101);
        assert_eq!(recipient["number"], "+254712345678");
        assert_eq!(recipient["status"], "Success");
        let id = recipient["messageId"].as_str().expect("message id");
        let hex = id.strip_prefix("ATXid_").expect("ATXid_ prefix");
        assert!(hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()));

        post(&sandbox, Some(KEY), &sms).await;
        let listed: Vec<Value> = reqwest::get(format!("{}{MESSAGES_PATH}", sandbox.base_url))
            .await
            .expect("GET /messages")
            .json()
            .await
            .expect("JSON");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["message_id"], id);
        assert_eq!(listed[0]["to"], "+254712345678");
        assert_eq!(listed[0]["message"], "Order ORD-1 confirmed");
    }

    #[tokio::test]
    async fn bad_credentials_and_missing_fields_are_refused_and_keep_nothing() {
        let sandbox = start(config(), 0).await.expect("start");
        let sms = |username| {
            [
                ("username", username),
                ("to", "+254712345678"),
                ("message", "Hi"),
            ]
        };
        for (key, username) in [
            (None, "sandbox"),
            (Some("wrong"), "sandbox"),
            (Some(KEY), "someone"),
        ] {
            let response = post(&sandbox, key, &sms(username)).await;
            assert_eq!(response.status(), 401, "{key:?} {username}");
            assert_eq!(response.text().await.expect("body"), INVALID_AUTHENTICATION);
        }
        for (fields, missing) in [
            (&[("username", "sandbox"), ("message", "Hi")][..], "to"),
            (
                &[("username", "sandbox"), ("to", "+254712345678")][..],
                "message",
            ),
        ] {
            let response = post(&sandbox, Some(KEY), fields).await;
            assert_eq!(response.status(), 400);
            assert_eq!(
                response.text().await.expect("body"),
                format!("Request is missing required form field '{missing}'")
            );
        }
        assert!(sandbox.outbox.messages().is_empty());
    }

    #[test]
    fn the_mask_shows_only_the_country_code_and_the_last_three_digits() {
        assert_eq!(mask_number("+254712345678"), "+254******678");
        assert_eq!(mask_number("+1234567"), "+****567");
    }

    // A current-thread runtime: the server task logs on this thread, so the scoped
    // subscriber below sees its lines.
    #[tokio::test(flavor = "current_thread")]
    async fn the_log_line_never_leaks_the_number_the_text_or_the_key() {
        let (captured, _guard) = CapturedLogs::start();

        let sandbox = start(config(), 0).await.expect("start");
        let fields = [
            ("username", "sandbox"),
            ("to", "+254712345678"),
            ("message", "Secret order text"),
        ];
        assert_eq!(post(&sandbox, Some(KEY), &fields).await.status(), 201);
        let id = sandbox.outbox.messages()[0].message_id.clone();

        let logs = captured.text();
        let accepted: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("sms sandbox: accepted"))
            .collect();
        assert_eq!(accepted.len(), 1, "{logs}");
        assert!(accepted[0].contains(&id), "{logs}");
        assert!(accepted[0].contains("+254******678"), "{logs}");
        assert!(accepted[0].contains("length=17"), "{logs}");
        for secret in ["712345", "Secret order text", KEY] {
            assert!(!logs.contains(secret), "{secret} leaked: {logs}");
        }
        assert!(!format!("{:?}", config()).contains(KEY));
    }
}
