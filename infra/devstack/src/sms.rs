//! The local stand-in for Africa's Talking's SMS API, as much of it as `make dev` needs:
//! the notifier's one request shape, `POST /version1/messaging` with the form fields
//! `username`, `to` (one number), `message` (and optional ones it ignores) and the
//! `apiKey` header. It sends no SMS anywhere.
//!
//! Answers as the real API does to that request: HTTP 401 `The supplied authentication is
//! invalid` for a wrong or missing `apiKey` or `username`, HTTP 400 for a missing `to` or
//! `message`, otherwise HTTP 201 with `SMSMessageData` naming one recipient with status
//! code 101 (`Success`) and a fresh `ATXid_` message id — except for a number ending in
//! [`BLACKLISTED_SUFFIX`], which it refuses as the real API refuses a number that opted
//! out: status code 406 `UserInBlacklist`, message id `None` (so the stack can show a
//! failed notification for real).
//!
//! Delivery reports, as Africa's Talking posts them to the account's one "delivery
//! reports" callback URL (configured once, not per request): when
//! [`SandboxConfig::delivery_reports`] is set, `delay` after it accepted an SMS the
//! stand-in POSTs one final report for it to that URL, `application/x-www-form-urlencoded`
//! with the fields `id` (the `ATXid_` message id it answered), `status`, `phoneNumber` (as
//! sent), `networkCode` ([`SAFARICOM_NETWORK_CODE`]), `failureReason` (only when failed)
//! and `retryCount` (`0`). The status is `Success`, except for a number ending in
//! [`UNDELIVERABLE_SUFFIX`]: `Failed` with `failureReason=AbsentSubscriber` (accepted, then
//! never delivered: the phone stayed off). A report that gets no answer (refused
//! connection, timeout) or a 5xx is tried again, [`REPORT_RETRIES`] more times at most,
//! `retry_spacing` apart; a 2xx or 4xx answer ends it. It sends no intermediate reports
//! (`Sent`, `Submitted`, `Buffered`).
//!
//! Invariants:
//! - Only accepted SMS are kept, in arrival order, in the [`Outbox`]; `GET /messages` lists
//!   them (to look at what the stack "sent").
//! - Only an accepted SMS gets a delivery report, exactly one, and only when reports are
//!   configured; a refused one (blacklisted, bad request) never gets one.
//! - Every report, once finished (after its last attempt), is kept with its status, its
//!   failure reason, the HTTP status of its last attempt (none if it got no answer) and
//!   its number of attempts, in the order they finished, in [`Reports`];
//!   `GET /delivery-reports` lists them. A failed report never stops the stand-in.
//! - One log line per accepted SMS: the message id, the number masked except its country
//!   code and last three digits ([`mask_number`]) and the message length. One log line per
//!   report posted: the message id, its status, the answer's HTTP status and the number of
//!   attempts. Never the full number, the text, the API key or the report URL (it holds
//!   the receiver's secret token); nor do [`SandboxConfig`]'s and
//!   [`DeliveryReportConfig`]'s `Debug` show the key or the URL.
//! - Dropping the [`RunningSandbox`] stops the server and every pending report.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use crate::background::Background;

/// Path of the messaging endpoint, as on the real API.
pub const MESSAGING_PATH: &str = "/version1/messaging";
/// Path of the outbox: `GET` lists the accepted SMS.
pub const MESSAGES_PATH: &str = "/messages";
/// The real API's body for a bad API key or username (HTTP 401, text/plain).
pub const INVALID_AUTHENTICATION: &str = "The supplied authentication is invalid";

/// Not Africa's Talking's: `GET` lists every delivery report the stand-in POSTed.
pub const DELIVERY_REPORTS_PATH: &str = "/delivery-reports";

/// A number ending in this is refused as blacklisted (`UserInBlacklist`).
pub const BLACKLISTED_SUFFIX: &str = "0000";
/// A number ending in this is accepted, then reported `Failed` (`AbsentSubscriber`).
pub const UNDELIVERABLE_SUFFIX: &str = "9999";
/// The `networkCode` of every delivery report: Safaricom Kenya.
pub const SAFARICOM_NETWORK_CODE: &str = "63902";
/// How many more times a report that got no answer or a 5xx is posted.
pub const REPORT_RETRIES: u32 = 3;
/// Between two attempts of a report, by default.
pub const DEFAULT_RETRY_SPACING: Duration = Duration::from_secs(1);

/// How long one attempt of a report may take to answer before it counts as unanswered.
const REPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The account the stand-in accepts, and where it posts delivery reports.
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The `username` form field every request must carry.
    pub username: String,
    /// The `apiKey` header every request must carry.
    pub api_key: String,
    /// The account's delivery reports callback; `None`: no reports are posted.
    pub delivery_reports: Option<DeliveryReportConfig>,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("username", &self.username)
            .field("api_key", &"<redacted>")
            .field("delivery_reports", &self.delivery_reports)
            .finish()
    }
}

/// Where and when the stand-in posts delivery reports (Africa's Talking's dashboard
/// setting, plus the network's timing).
#[derive(Clone, PartialEq, Eq)]
pub struct DeliveryReportConfig {
    /// The full callback URL, the receiver's secret token included: never logged, and
    /// redacted by `Debug`.
    pub url: String,
    /// From an accepted SMS to its report (the real network takes seconds).
    pub delay: Duration,
    /// Between two attempts of a report that got no answer or a 5xx.
    pub retry_spacing: Duration,
}

impl fmt::Debug for DeliveryReportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryReportConfig")
            .field("url", &"<redacted>")
            .field("delay", &self.delay)
            .field("retry_spacing", &self.retry_spacing)
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

/// One delivery report the stand-in POSTed, once finished, as `GET /delivery-reports`
/// lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostedReport {
    /// The reported SMS's `ATXid_` message id (the report's `id`).
    pub message_id: String,
    /// `Success` or `Failed`.
    pub status: String,
    /// `AbsentSubscriber` when `Failed`.
    pub failure_reason: Option<String>,
    /// The HTTP status of the last attempt; `None` when it got no answer.
    pub answer: Option<u16>,
    /// How many times it was POSTed (1 to 1 + [`REPORT_RETRIES`]).
    pub attempts: u32,
}

/// The delivery reports the stand-in POSTed, shared between it and whoever inspects them.
#[derive(Debug, Clone)]
pub struct Reports(Arc<watch::Sender<Vec<PostedReport>>>);

impl Default for Reports {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(Vec::new())))
    }
}

impl Reports {
    /// Every finished report, in the order they finished.
    pub fn reports(&self) -> Vec<PostedReport> {
        self.0.borrow().clone()
    }

    /// The finished reports as soon as there are `count` of them, or whatever there is
    /// when `timeout` has passed.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<PostedReport> {
        let mut receiver = self.0.subscribe();
        match tokio::time::timeout(timeout, receiver.wait_for(|r| r.len() >= count)).await {
            Ok(Ok(reports)) => reports.clone(),
            // The sender lives as long as `self`: only the timeout gets here.
            _ => self.reports(),
        }
    }

    fn push(&self, report: PostedReport) {
        self.0.send_modify(|reports| reports.push(report));
    }
}

/// A stand-in serving on 127.0.0.1; stopped, with its pending reports, when dropped.
#[derive(Debug)]
pub struct RunningSandbox {
    /// `http://127.0.0.1:<port>`, without a trailing slash (the notifier's `AT_BASE_URL`).
    pub base_url: String,
    pub outbox: Outbox,
    /// The delivery reports it POSTed.
    pub reports: Reports,
    task: tokio::task::JoinHandle<()>,
    state: Arc<AppState>,
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
        self.state.tasks.abort_all();
    }
}

/// Starts the stand-in for `config` on 127.0.0.1:`port` (0: a free port) in a background
/// task.
pub async fn start(config: SandboxConfig, port: u16) -> std::io::Result<RunningSandbox> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(REPORT_TIMEOUT)
        .build()
        .map_err(std::io::Error::other)?;
    let state = Arc::new(AppState {
        config,
        outbox: Outbox::default(),
        reports: Reports::default(),
        http,
        tasks: Background::default(),
    });
    let router = Router::new()
        .route(MESSAGING_PATH, post(send))
        .route(MESSAGES_PATH, get(list))
        .route(DELIVERY_REPORTS_PATH, get(list_reports))
        .with_state(state.clone());
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "sms sandbox stopped");
        }
    });
    Ok(RunningSandbox {
        base_url,
        outbox: state.outbox.clone(),
        reports: state.reports.clone(),
        task,
        state,
    })
}

#[derive(Debug)]
struct AppState {
    config: SandboxConfig,
    outbox: Outbox,
    reports: Reports,
    /// For delivery reports: no proxy, [`REPORT_TIMEOUT`].
    http: reqwest::Client,
    /// Pending delivery reports, aborted when the sandbox is dropped.
    tasks: Background,
}

impl AppState {
    /// Runs `task` in the background until it ends or the sandbox is dropped.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }
}

/// What a delivery report says about one accepted SMS.
struct Outcome {
    message_id: String,
    phone_number: String,
    status: &'static str,
    failure_reason: Option<&'static str>,
}

impl Outcome {
    /// The final outcome of the SMS `message_id` accepted for `to`.
    fn of(message_id: String, to: &str) -> Self {
        let undeliverable = to.ends_with(UNDELIVERABLE_SUFFIX);
        Self {
            message_id,
            phone_number: to.to_owned(),
            status: if undeliverable { "Failed" } else { "Success" },
            failure_reason: undeliverable.then_some("AbsentSubscriber"),
        }
    }

    /// The report's form fields, as Africa's Talking sends them.
    fn form(&self) -> Vec<(&'static str, &str)> {
        let mut form = vec![
            ("id", self.message_id.as_str()),
            ("status", self.status),
            ("phoneNumber", self.phone_number.as_str()),
            ("networkCode", SAFARICOM_NETWORK_CODE),
        ];
        if let Some(reason) = self.failure_reason {
            form.push(("failureReason", reason));
        }
        form.push(("retryCount", "0"));
        form
    }
}

/// Waits `config.delay`, then POSTs the report of `outcome` to `config.url`, again while
/// it gets no answer or a 5xx ([`REPORT_RETRIES`] more times at most, `retry_spacing`
/// apart), then keeps it in the [`Reports`] and logs it.
async fn post_report(state: Arc<AppState>, config: DeliveryReportConfig, outcome: Outcome) {
    tokio::time::sleep(config.delay).await;
    let form = outcome.form();
    let mut attempts = 0;
    let answer = loop {
        attempts += 1;
        // Any error (refused connection, timeout) is no answer; its text may hold the URL.
        let answer = state
            .http
            .post(&config.url)
            .form(&form)
            .send()
            .await
            .ok()
            .map(|response| response.status().as_u16());
        let again = answer.is_none_or(|status| status >= 500);
        if !again || attempts > REPORT_RETRIES {
            break answer;
        }
        tokio::time::sleep(config.retry_spacing).await;
    };
    let delivered = answer.is_some_and(|status| (200..300).contains(&status));
    let answer_text = answer.map_or_else(|| "none".to_owned(), |status| status.to_string());
    tracing::info!(
        message_id = %outcome.message_id,
        status = %outcome.status,
        answer = %answer_text,
        accepted = delivered,
        attempts,
        "sms sandbox: delivery report posted"
    );
    state.reports.push(PostedReport {
        message_id: outcome.message_id,
        status: outcome.status.to_owned(),
        failure_reason: outcome.failure_reason.map(str::to_owned),
        answer,
        attempts,
    });
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
    if let Some(reports) = &state.config.delivery_reports {
        let (task_state, reports) = (state.clone(), reports.clone());
        let outcome = Outcome::of(message_id.clone(), to);
        state.spawn(async move { post_report(task_state, reports, outcome).await });
    }
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

async fn list_reports(State(state): State<Arc<AppState>>) -> axum::Json<Vec<PostedReport>> {
    axum::Json(state.reports.reports())
}

#[cfg(test)]
mod tests {
    use axum::http::Uri;
    use serde_json::Value;
    use testkit::logs::CapturedLogs;

    use super::*;

    const KEY: &str = "atsk_test_0123456789abcdef";
    /// The shop's delivery report route, with its secret token.
    const REPORT_PATH: &str = "/api/v1/notifications/sms/delivery/tok";
    /// How long a test waits for reports at most (they take milliseconds).
    const WAIT: Duration = Duration::from_secs(10);

    fn config() -> SandboxConfig {
        SandboxConfig {
            username: "sandbox".into(),
            api_key: KEY.into(),
            delivery_reports: None,
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

    /// Sends one SMS to `to` with good credentials: the answer's recipient entry.
    async fn send_to(sandbox: &RunningSandbox, to: &str) -> Value {
        let fields = [("username", "sandbox"), ("to", to), ("message", "Hi")];
        let response = post(sandbox, Some(KEY), &fields).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        body["SMSMessageData"]["Recipients"][0].clone()
    }

    /// The message id of an accepted SMS to `to`.
    async fn accepted(sandbox: &RunningSandbox, to: &str) -> String {
        let recipient = send_to(sandbox, to).await;
        assert_eq!(recipient["statusCode"], 101, "{recipient}");
        recipient["messageId"]
            .as_str()
            .expect("message id")
            .to_owned()
    }

    /// [`config`], posting reports to `url` 10 ms after each SMS, retries 10 ms apart.
    fn reporting_to(url: String) -> SandboxConfig {
        SandboxConfig {
            delivery_reports: Some(DeliveryReportConfig {
                url,
                delay: Duration::from_millis(10),
                retry_spacing: Duration::from_millis(10),
            }),
            ..config()
        }
    }

    /// One request the [`Receiver`] got.
    #[derive(Debug, Clone)]
    struct Received {
        path: String,
        content_type: Option<String>,
        /// The form fields, sorted by name.
        fields: Vec<(String, String)>,
    }

    impl Received {
        fn field(&self, name: &str) -> Option<&str> {
            self.fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// A tiny stand-in for the shop's delivery report route, on 127.0.0.1: keeps every
    /// request it gets, in arrival order, and answers the n-th (from 0) with `answer(n)`.
    /// Stopped when dropped.
    struct Receiver {
        base_url: String,
        received: Arc<Mutex<Vec<Received>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Receiver {
        async fn start(answer: fn(usize) -> StatusCode) -> Self {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .expect("bind");
            let base_url = format!("http://{}", listener.local_addr().expect("address"));
            let received = Arc::new(Mutex::new(Vec::new()));
            let kept = received.clone();
            let record = move |uri: Uri, headers: HeaderMap, body: Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    let mut fields: Vec<(String, String)> =
                        url::form_urlencoded::parse(&body).into_owned().collect();
                    fields.sort();
                    let content_type = headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let mut kept = kept.lock().expect("received");
                    kept.push(Received {
                        path: uri.path().to_owned(),
                        content_type,
                        fields,
                    });
                    answer(kept.len() - 1)
                }
            };
            let router = Router::new().fallback(record);
            let task = tokio::spawn(async move {
                axum::serve(listener, router).await.expect("receiver");
            });
            Self {
                base_url,
                received,
                task,
            }
        }

        /// The report URL at this receiver.
        fn url(&self) -> String {
            format!("{}{REPORT_PATH}", self.base_url)
        }

        fn received(&self) -> Vec<Received> {
            self.received.lock().expect("received").clone()
        }
    }

    impl Drop for Receiver {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    fn sorted(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = fields
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        fields.sort();
        fields
    }

    #[tokio::test]
    async fn an_accepted_sms_gets_one_final_delivery_report_as_africas_talking_posts_it() {
        let receiver = Receiver::start(|_| StatusCode::OK).await;
        let sandbox = start(reporting_to(receiver.url()), 0).await.expect("start");
        let delivered = accepted(&sandbox, "+254712345678").await;
        let absent = accepted(&sandbox, "+254712349999").await;

        let posted = sandbox.reports.wait_for(2, WAIT).await;
        assert_eq!(posted.len(), 2, "{posted:?}");
        let received = receiver.received();
        assert_eq!(received.len(), 2, "{received:?}");
        for request in &received {
            assert_eq!(request.path, REPORT_PATH);
            assert_eq!(
                request.content_type.as_deref(),
                Some("application/x-www-form-urlencoded")
            );
        }
        let fields_of = |id: &str| {
            received
                .iter()
                .find(|r| r.field("id") == Some(id))
                .unwrap_or_else(|| panic!("no report for {id}: {received:?}"))
                .fields
                .clone()
        };
        assert_eq!(
            fields_of(&delivered),
            sorted(&[
                ("id", &delivered),
                ("status", "Success"),
                ("phoneNumber", "+254712345678"),
                ("networkCode", "63902"),
                ("retryCount", "0"),
            ])
        );
        assert_eq!(
            fields_of(&absent),
            sorted(&[
                ("id", &absent),
                ("status", "Failed"),
                ("phoneNumber", "+254712349999"),
                ("networkCode", "63902"),
                ("failureReason", "AbsentSubscriber"),
                ("retryCount", "0"),
            ])
        );

        let listed: Vec<Value> =
            reqwest::get(format!("{}{DELIVERY_REPORTS_PATH}", sandbox.base_url))
                .await
                .expect("GET /delivery-reports")
                .json()
                .await
                .expect("JSON");
        assert_eq!(listed.len(), 2, "{listed:?}");
        let listed_for = |id: &str| {
            listed
                .iter()
                .find(|r| r["message_id"] == id)
                .unwrap_or_else(|| panic!("{id} not listed: {listed:?}"))
                .clone()
        };
        assert_eq!(
            listed_for(&delivered),
            json!({"message_id": delivered, "status": "Success", "failure_reason": null,
                   "answer": 200, "attempts": 1})
        );
        assert_eq!(
            listed_for(&absent),
            json!({"message_id": absent, "status": "Failed",
                   "failure_reason": "AbsentSubscriber", "answer": 200, "attempts": 1})
        );
        assert_eq!(sandbox.reports.reports(), posted);
    }

    #[tokio::test]
    async fn a_report_answered_5xx_is_posted_again_until_it_is_taken() {
        let receiver = Receiver::start(|n| {
            if n < 2 {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::OK
            }
        })
        .await;
        let sandbox = start(reporting_to(receiver.url()), 0).await.expect("start");
        let id = accepted(&sandbox, "+254712345678").await;

        let posted = sandbox.reports.wait_for(1, WAIT).await;
        assert_eq!(
            posted,
            [PostedReport {
                message_id: id.clone(),
                status: "Success".into(),
                failure_reason: None,
                answer: Some(200),
                attempts: 3,
            }]
        );
        let received = receiver.received();
        assert_eq!(received.len(), 3, "{received:?}");
        assert!(received.iter().all(|r| r.field("id") == Some(id.as_str())));
    }

    #[tokio::test]
    async fn a_4xx_ends_a_report_and_one_never_answered_gets_three_more_attempts() {
        let refusing = Receiver::start(|_| StatusCode::NOT_FOUND).await;
        let sandbox = start(reporting_to(refusing.url()), 0).await.expect("start");
        accepted(&sandbox, "+254712345678").await;
        let posted = sandbox.reports.wait_for(1, WAIT).await;
        assert_eq!(posted.len(), 1, "{posted:?}");
        assert_eq!((posted[0].answer, posted[0].attempts), (Some(404), 1));
        assert_eq!(refusing.received().len(), 1);

        // A port nobody listens on (bound, then freed): every attempt is refused.
        let closed = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind")
            .local_addr()
            .expect("address");
        let sandbox = start(reporting_to(format!("http://{closed}{REPORT_PATH}")), 0)
            .await
            .expect("start");
        accepted(&sandbox, "+254712349999").await;
        let posted = sandbox.reports.wait_for(1, WAIT).await;
        assert_eq!(posted.len(), 1, "{posted:?}");
        assert_eq!((posted[0].answer, posted[0].attempts), (None, 4));
        assert_eq!(posted[0].status, "Failed");
    }

    #[tokio::test]
    async fn a_blacklisted_number_gets_no_report() {
        let receiver = Receiver::start(|_| StatusCode::OK).await;
        let sandbox = start(reporting_to(receiver.url()), 0).await.expect("start");
        let refused = send_to(&sandbox, "+254712340000").await;
        assert_eq!(refused["statusCode"], 406);
        // A report is scheduled before the answer goes out: none was.
        assert!(sandbox.state.tasks.is_empty());

        let id = accepted(&sandbox, "+254712345678").await;
        let posted = sandbox.reports.wait_for(1, WAIT).await;
        assert_eq!(posted.len(), 1, "{posted:?}");
        assert_eq!(posted[0].message_id, id);
        let received = receiver.received();
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0].field("id"), Some(id.as_str()));
    }

    #[tokio::test]
    async fn without_a_report_url_nothing_is_reported() {
        let sandbox = start(config(), 0).await.expect("start");
        accepted(&sandbox, "+254712345678").await;
        assert!(sandbox.state.tasks.is_empty());
        assert!(sandbox.reports.reports().is_empty());
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

    #[tokio::test(flavor = "current_thread")]
    async fn the_report_log_line_never_leaks_the_number_or_the_url() {
        let (captured, _guard) = CapturedLogs::start();

        const TOKEN: &str = "s3cr3t-report-token";
        let receiver = Receiver::start(|_| StatusCode::OK).await;
        let url = format!(
            "{}/api/v1/notifications/sms/delivery/{TOKEN}",
            receiver.base_url
        );
        let config = reporting_to(url);
        let sandbox = start(config.clone(), 0).await.expect("start");
        let id = accepted(&sandbox, "+254712345678").await;
        assert_eq!(sandbox.reports.wait_for(1, WAIT).await.len(), 1);

        let logs = captured.text();
        let posted: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("sms sandbox: delivery report posted"))
            .collect();
        assert_eq!(posted.len(), 1, "{logs}");
        for part in [id.as_str(), "status=Success", "answer=200", "attempts=1"] {
            assert!(posted[0].contains(part), "{part} missing: {logs}");
        }
        for secret in ["712345", TOKEN] {
            assert!(!logs.contains(secret), "{secret} leaked: {logs}");
        }
        let debug = format!("{config:?}");
        assert!(!debug.contains(TOKEN) && !debug.contains(KEY), "{debug}");
    }
}
