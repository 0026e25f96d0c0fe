//! A local stand-in for Africa's Talking's SMS API (`POST /version1/messaging`), for
//! `make dev` and the notifier's tests. Dev only: it sends nothing anywhere.
//!
//! Requests are form-encoded `username`, `to`, `message`, optional `from` (sender id) and
//! `enqueue` (accepted, ignored), with the headers `apiKey` and `Accept: application/json`.
//! It answers like the real API: HTTP 401 `The supplied authentication is invalid` for a
//! wrong or missing `apiKey` header or `username`, HTTP 400 for a missing `to` or
//! `message`, otherwise HTTP 201 with the `SMSMessageData` JSON, one recipient entry per
//! number of `to` (comma-separated): status code 101 for a valid E.164 number (`+` then
//! 7–15 digits), 403 `InvalidPhoneNumber` for anything else. One thing it is stricter
//! about: the real API answers XML unless asked for JSON, so a request without
//! `Accept: application/json` gets HTTP 406 here rather than a body the client cannot
//! parse.
//!
//! Invariants:
//! - Only accepted SMS (status code 101) are kept, in arrival order, in the [`Outbox`];
//!   `GET /messages` lists them and `DELETE /messages` clears them (no authentication: they
//!   are for tests and for looking at what the stack "sent").
//! - It logs one line per accepted SMS: the message id, the number masked except its
//!   last three digits ([`mask_number`]) and the message length. Never the full number,
//!   the text or the API key (nor does [`SandboxConfig`]'s `Debug` show the key).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Path of the messaging endpoint, as on the real API.
pub const MESSAGING_PATH: &str = "/version1/messaging";
/// Path of the outbox: `GET` lists the accepted SMS, `DELETE` clears them.
pub const MESSAGES_PATH: &str = "/messages";
/// The real API's body for a bad API key or username (HTTP 401, text/plain).
pub const INVALID_AUTHENTICATION: &str = "The supplied authentication is invalid";
/// What the sandbox charges per SMS, in ten-thousandths of a shilling (KES 0.8000).
const COST_PER_SMS: u64 = 8_000;

/// The account the sandbox accepts.
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

/// One accepted SMS to one recipient, as `GET /messages` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentSms {
    /// `ATXid_` and 32 hex digits, as in the recipient entry of the response.
    pub message_id: String,
    /// The recipient, E.164.
    pub to: String,
    /// The sender id (`from` form field), if the request named one.
    pub from: Option<String>,
    pub message: String,
    pub username: String,
    /// When the sandbox accepted it (RFC 3339, UTC).
    pub received_at: String,
}

/// The SMS the sandbox accepted, shared between the server and whoever inspects it.
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

    /// Forgets every accepted SMS.
    pub fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn push(&self, sms: SentSms) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sms);
    }
}

/// The sandbox's routes and the outbox they fill.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub router: Router,
    pub outbox: Outbox,
}

impl Sandbox {
    /// A sandbox for `config` with an empty outbox.
    pub fn new(config: SandboxConfig) -> Self {
        let outbox = Outbox::default();
        Self {
            router: router(config, outbox.clone()),
            outbox,
        }
    }
}

#[derive(Debug)]
struct AppState {
    config: SandboxConfig,
    outbox: Outbox,
}

/// The sandbox's routes (`POST /version1/messaging`, `GET`/`DELETE /messages`), filling
/// `outbox`.
pub fn router(config: SandboxConfig, outbox: Outbox) -> Router {
    Router::new()
        .route(MESSAGING_PATH, post(send))
        .route(MESSAGES_PATH, get(list).delete(clear))
        .with_state(Arc::new(AppState { config, outbox }))
}

/// Serves the sandbox on `listener` until the task is dropped (or the listener fails).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SandboxConfig,
) -> std::io::Result<()> {
    axum::serve(listener, Sandbox::new(config).router).await
}

/// A sandbox serving on a free loopback port, for tests; stopped when dropped.
#[derive(Debug)]
pub struct RunningSandbox {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    pub outbox: Outbox,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// The messaging endpoint's URL (what the notifier posts to).
    pub fn messaging_url(&self) -> String {
        format!("{}{MESSAGING_PATH}", self.base_url)
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a sandbox for `config` on 127.0.0.1 and a free port, in a background task.
pub async fn start(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let sandbox = Sandbox::new(config);
    let router = sandbox.router;
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "sms sandbox stopped");
        }
    });
    Ok(RunningSandbox {
        base_url,
        outbox: sandbox.outbox,
        task,
    })
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

/// `+` followed by 7 to 15 digits.
fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// `KES 1.6000` for 16 000 ten-thousandths; `0` for nothing, as the real API writes it.
fn kes(ten_thousandths: u64) -> String {
    if ten_thousandths == 0 {
        "0".into()
    } else {
        format!(
            "KES {}.{:04}",
            ten_thousandths / 10_000,
            ten_thousandths % 10_000
        )
    }
}

fn plain(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.to_owned(),
    )
        .into_response()
}

/// The first non-blank value of each form field.
fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if !value.trim().is_empty() {
            fields
                .entry(name.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    fields
}

async fn send(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let api_key = headers.get("apikey").and_then(|v| v.to_str().ok());
    if api_key != Some(state.config.api_key.as_str())
        || fields.get("username") != Some(&state.config.username)
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
    let accepts_json = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"));
    if !accepts_json {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "This sandbox answers JSON only: send 'Accept: application/json'",
        );
    }

    let received_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let numbers: Vec<&str> = to
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let mut recipients = Vec::with_capacity(numbers.len());
    let mut sent = 0u64;
    for number in &numbers {
        if !is_e164(number) {
            recipients.push(json!({
                "statusCode": 403,
                "number": number,
                "cost": "0",
                "status": "InvalidPhoneNumber",
                "messageId": "None",
            }));
            continue;
        }
        let message_id = format!("ATXid_{:032x}", ulid::Ulid::new().0);
        tracing::info!(
            message_id = %message_id,
            to = %mask_number(number),
            length = message.chars().count(),
            "sms sandbox: accepted"
        );
        state.outbox.push(SentSms {
            message_id: message_id.clone(),
            to: (*number).to_owned(),
            from: fields.get("from").cloned(),
            message: message.clone(),
            username: state.config.username.clone(),
            received_at: received_at.clone(),
        });
        sent += 1;
        recipients.push(json!({
            "statusCode": 101,
            "number": number,
            "cost": kes(COST_PER_SMS),
            "status": "Success",
            "messageId": message_id,
        }));
    }
    let summary = format!(
        "Sent to {sent}/{} Total Cost: {}",
        numbers.len(),
        kes(sent * COST_PER_SMS)
    );
    let body: Value = json!({
        "SMSMessageData": { "Message": summary, "Recipients": recipients }
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn list(State(state): State<Arc<AppState>>) -> axum::Json<Vec<SentSms>> {
    axum::Json(state.outbox.messages())
}

async fn clear(State(state): State<Arc<AppState>>) -> StatusCode {
    state.outbox.clear();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
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
            .post(sandbox.messaging_url())
            .header("Accept", "application/json")
            .form(fields);
        if let Some(key) = api_key {
            request = request.header("apiKey", key);
        }
        request.send().await.expect("request")
    }

    async fn listed(sandbox: &RunningSandbox) -> Vec<Value> {
        reqwest::get(format!("{}{MESSAGES_PATH}", sandbox.base_url))
            .await
            .expect("GET /messages")
            .json()
            .await
            .expect("JSON")
    }

    #[tokio::test]
    async fn accepted_sms_are_listed_in_order_and_cleared() {
        let sandbox = start(config()).await.expect("start");
        let response = post(
            &sandbox,
            Some(KEY),
            &[
                ("username", "sandbox"),
                ("to", "+254712345678"),
                ("message", "Order ORD-1 confirmed"),
                ("from", "SHOP"),
            ],
        )
        .await;
        assert_eq!(response.status(), 201);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("application/json")
        );
        let body: Value = response.json().await.expect("JSON");
        let data = &body["SMSMessageData"];
        assert_eq!(data["Message"], "Sent to 1/1 Total Cost: KES 0.8000");
        let recipient = &data["Recipients"][0];
        assert_eq!(recipient["statusCode"], 101);
        assert_eq!(recipient["number"], "+254712345678");
        assert_eq!(recipient["cost"], "KES 0.8000");
        assert_eq!(recipient["status"], "Success");
        let id = recipient["messageId"].as_str().expect("message id");
        let hex = id.strip_prefix("ATXid_").expect("ATXid_ prefix");
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));

        // Two recipients, no sender id.
        let response = post(
            &sandbox,
            Some(KEY),
            &[
                ("username", "sandbox"),
                ("to", "+254700000001, +254700000002"),
                ("message", "second"),
            ],
        )
        .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(
            body["SMSMessageData"]["Message"],
            "Sent to 2/2 Total Cost: KES 1.6000"
        );

        let messages = listed(&sandbox).await;
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0]["message_id"], id);
        assert_eq!(messages[0]["to"], "+254712345678");
        assert_eq!(messages[0]["from"], "SHOP");
        assert_eq!(messages[0]["message"], "Order ORD-1 confirmed");
        assert_eq!(messages[0]["username"], "sandbox");
        let received_at = messages[0]["received_at"].as_str().expect("received_at");
        OffsetDateTime::parse(received_at, &Rfc3339).expect("RFC 3339");
        assert_eq!(messages[1]["to"], "+254700000001");
        assert_eq!(messages[1]["from"], Value::Null);
        assert_eq!(messages[2]["to"], "+254700000002");
        assert_eq!(sandbox.outbox.messages().len(), 3);

        let cleared = reqwest::Client::new()
            .delete(format!("{}{MESSAGES_PATH}", sandbox.base_url))
            .send()
            .await
            .expect("DELETE /messages");
        assert_eq!(cleared.status(), 204);
        assert!(listed(&sandbox).await.is_empty());
    }

    #[tokio::test]
    async fn bad_credentials_are_401_and_keep_nothing() {
        let sandbox = start(config()).await.expect("start");
        let fields = [
            ("username", "sandbox"),
            ("to", "+254712345678"),
            ("message", "hi"),
        ];
        for key in [Some("wrong-key"), None] {
            let response = post(&sandbox, key, &fields).await;
            assert_eq!(response.status(), 401);
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .expect("ascii")
                    .starts_with("text/plain")
            );
            assert_eq!(response.text().await.expect("body"), INVALID_AUTHENTICATION);
        }
        let response = post(
            &sandbox,
            Some(KEY),
            &[
                ("username", "someone-else"),
                ("to", "+254712345678"),
                ("message", "hi"),
            ],
        )
        .await;
        assert_eq!(response.status(), 401);
        assert_eq!(response.text().await.expect("body"), INVALID_AUTHENTICATION);
        assert!(sandbox.outbox.messages().is_empty());
    }

    #[tokio::test]
    async fn missing_fields_are_400_and_json_is_required() {
        let sandbox = start(config()).await.expect("start");
        let response = post(
            &sandbox,
            Some(KEY),
            &[("username", "sandbox"), ("message", "hi")],
        )
        .await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.text().await.expect("body"),
            "Request is missing required form field 'to'"
        );
        let response = post(
            &sandbox,
            Some(KEY),
            &[("username", "sandbox"), ("to", "+254712345678")],
        )
        .await;
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.text().await.expect("body"),
            "Request is missing required form field 'message'"
        );
        let response = reqwest::Client::new()
            .post(sandbox.messaging_url())
            .header("apiKey", KEY)
            .form(&[
                ("username", "sandbox"),
                ("to", "+254712345678"),
                ("message", "hi"),
            ])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 406);
        assert!(sandbox.outbox.messages().is_empty());
    }

    #[tokio::test]
    async fn an_invalid_number_gets_a_403_recipient_status_and_is_not_kept() {
        let sandbox = start(config()).await.expect("start");
        let response = post(
            &sandbox,
            Some(KEY),
            &[
                ("username", "sandbox"),
                ("to", "0712345678"),
                ("message", "hi"),
            ],
        )
        .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(
            body,
            json!({"SMSMessageData": {
                "Message": "Sent to 0/1 Total Cost: 0",
                "Recipients": [{
                    "statusCode": 403,
                    "number": "0712345678",
                    "cost": "0",
                    "status": "InvalidPhoneNumber",
                    "messageId": "None",
                }],
            }})
        );

        // One good, one bad: only the good one is kept.
        let response = post(
            &sandbox,
            Some(KEY),
            &[
                ("username", "sandbox"),
                ("to", "+254712345678,+12345"),
                ("message", "hi"),
            ],
        )
        .await;
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(
            body["SMSMessageData"]["Message"],
            "Sent to 1/2 Total Cost: KES 0.8000"
        );
        assert_eq!(body["SMSMessageData"]["Recipients"][1]["statusCode"], 403);
        let kept = sandbox.outbox.messages();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].to, "+254712345678");
    }

    #[test]
    fn e164_is_a_plus_and_7_to_15_digits() {
        for good in ["+254712345678", "+1234567", "+123456789012345"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "254712345678",
            "+123456",
            "+1234567890123456",
            "+2547123x5678",
            "+",
            "",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn the_mask_shows_only_the_country_code_and_the_last_three_digits() {
        assert_eq!(mask_number("+254712345678"), "+254******678");
        assert_eq!(mask_number("+1234567"), "+****567");
        let masked = mask_number("+254712345678");
        assert!(!masked.contains("712345"));
    }

    /// A `tracing` writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    // A current-thread runtime: the server task logs on this thread, so the scoped
    // subscriber below sees its lines.
    #[tokio::test(flavor = "current_thread")]
    async fn the_log_line_never_leaks_the_number_the_text_or_the_key() {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let sandbox = start(config()).await.expect("start");
        let response = post(
            &sandbox,
            Some(KEY),
            &[
                ("username", "sandbox"),
                ("to", "+254712345678"),
                ("message", "Secret order text"),
            ],
        )
        .await;
        assert_eq!(response.status(), 201);
        let id = sandbox.outbox.messages()[0].message_id.clone();

        let logs =
            String::from_utf8(capture.0.lock().expect("log buffer").clone()).expect("UTF-8 logs");
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
    }

    #[test]
    fn debug_hides_the_api_key() {
        assert!(!format!("{:?}", config()).contains(KEY));
    }
}
