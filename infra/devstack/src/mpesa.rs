//! The local stand-in for Safaricom's M-Pesa Daraja API, as much of it as the shop needs,
//! on Daraja's own paths: the OAuth token, the STK push (Lipa na M-Pesa Online) and its
//! query, C2B URL registration and Paybill simulation, and the transaction reversal. It
//! moves no money and reaches nothing but the callback URLs it is given.
//!
//! Answers as Daraja does: `GET /oauth/v1/generate?grant_type=client_credentials` with
//! HTTP Basic `consumer_key:consumer_secret` gives `{"access_token","expires_in"}`
//! (`expires_in` a string), anything else HTTP 400 `400.008.01`. Every other Daraja path
//! needs `Authorization: Bearer <an unexpired token it issued>`, else HTTP 401
//! `404.001.03`. A body that is not a JSON object gets HTTP 400 `400.002.05` (`Invalid
//! Request Payload`); a bad field HTTP 400 `400.002.02` (`Bad Request - Invalid <Field>`),
//! the first bad one in the order Daraja documents the fields (`Timestamp` before the
//! `Password` made from it); an `Amount` above 250000 is such a field. Error bodies are
//! `{"requestId","errorCode","errorMessage"}`.
//!
//! Scripted outcomes of a prompt, by the last four digits of its `PhoneNumber`, decided
//! `decision_delay` after the push (before that, the query answers HTTP 500
//! `500.001.1001`):
//! - `1032`: cancelled by the user (`ResultCode` 1032);
//! - `0001`: insufficient funds (1);
//! - `2001`: wrong PIN (2001, "The initiator information is invalid.");
//! - `1037`: nobody answers (1037, "DS timeout user cannot be reached");
//! - `0404`: succeeds, but the callback is never sent (the query says `"0"`);
//! - `0002`: succeeds, and the same success callback is sent twice;
//! - any other number succeeds, with a new receipt.
//!
//! Reversals are decided `decision_delay` after the request and refused, in the result
//! posted to `ResultURL`, with `R000002` ("The OriginalTransactionID is invalid.") for a
//! receipt it never issued, `R000001` for a receipt already reversed, and `R000002` ("The
//! Amount is invalid.") for an amount other than the receipt's. Script: a reversal of a
//! receipt paid from a number ending in `0003` is accepted and never answered (nothing is
//! posted, the receipt stays unreversed).
//!
//! Choices where Daraja is loose or unknowable: `PartyB` and the reversal's
//! `ReceiverParty` must be the configured shortcode; `BillRefNumber` is 1 to 20
//! characters; C2B simulation is refused with `Bad Request - Invalid ShortCode` both for
//! another shortcode and before its URLs are registered; the C2B validation request has
//! the confirmation's shape with an empty `OrgAccountBalance`; a validation that answers
//! no JSON `ResultCode` (unreachable, non-2xx, another body) counts as no answer, and
//! then the registered `ResponseType` decides (`Completed`: confirm). The STK callback's
//! `Amount` is a JSON number with a fraction (`1.0`; Daraja writes `1.00`, the same
//! number). Times are Nairobi time (UTC+3, no daylight saving), `YYYYMMDDHHmmss`.
//!
//! Invariants:
//! - Every callback it POSTs (STK result, C2B validation and confirmation, reversal
//!   result) is kept, in order, with the status or error it got, in [`Deliveries`];
//!   `GET /deliveries` lists them. A failed delivery is logged, kept and never retried;
//!   it never stops the stand-in.
//! - Receipts of successful prompts and confirmed Paybill payments are remembered (amount,
//!   payer, reversed?) for reversals; a receipt is reversed at most once.
//! - Logs never carry a secret (consumer secret, passkey, password, security credential,
//!   access token) nor a full phone number (masked by [`mask_msisdn`]); neither does
//!   [`MpesaSandboxConfig`]'s `Debug`.
//! - Dropping the [`RunningMpesaSandbox`] stops the server and every pending decision and
//!   delivery.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, UtcOffset};

use crate::background::Background;

/// Daraja's OAuth path (`GET`, `grant_type=client_credentials`, HTTP Basic).
pub const OAUTH_PATH: &str = "/oauth/v1/generate";
/// Lipa na M-Pesa Online: the STK push.
pub const STK_PUSH_PATH: &str = "/mpesa/stkpush/v1/processrequest";
/// The STK push's status query.
pub const STK_QUERY_PATH: &str = "/mpesa/stkpushquery/v1/query";
/// C2B: registers a shortcode's validation and confirmation URLs.
pub const C2B_REGISTER_PATH: &str = "/mpesa/c2b/v1/registerurl";
/// C2B: simulates a customer's Paybill payment.
pub const C2B_SIMULATE_PATH: &str = "/mpesa/c2b/v1/simulate";
/// The transaction reversal.
pub const REVERSAL_PATH: &str = "/mpesa/reversal/v1/request";
/// Not Daraja's: `GET` lists every callback the stand-in POSTed.
pub const DELIVERIES_PATH: &str = "/deliveries";

/// Daraja's sandbox Paybill.
pub const SANDBOX_SHORTCODE: &str = "174379";
/// Daraja's public sandbox passkey for [`SANDBOX_SHORTCODE`].
pub const SANDBOX_PASSKEY: &str =
    "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";
/// Daraja's sandbox initiator name.
pub const SANDBOX_INITIATOR: &str = "testapi";
/// The local consumer key (`make dev`).
pub const LOCAL_CONSUMER_KEY: &str = "local-consumer-key";
/// The local consumer secret (`make dev`).
pub const LOCAL_CONSUMER_SECRET: &str = "local-consumer-secret";
/// The local initiator's security credential (`make dev`).
pub const LOCAL_SECURITY_CREDENTIAL: &str = "local-security-credential";
/// Daraja's token lifetime: `expires_in` `"3599"`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// From a push or a reversal to its outcome, by default.
pub const DEFAULT_DECISION_DELAY: Duration = Duration::from_secs(1);
/// The most one STK push may ask (and one Paybill payment pay), in shillings.
pub const MAX_AMOUNT: u64 = 250_000;

/// How long a callback may take to answer before it counts as failed.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Daraja's clock: East Africa Time, no daylight saving.
const NAIROBI: UtcOffset = time::macros::offset!(+3);
const DIGITS: &[u8] = b"0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const PROCESSED: &str = "The service request is processed successfully.";
const ACCEPTED: &str = "Accept the service request successfully.";
const PROMPT_ACCEPTED: &str = "Success. Request accepted for processing";
/// The payer's name in C2B bodies.
const PAYER_NAME: &str = "John";

/// The account, shortcode and timings the stand-in serves.
#[derive(Clone, PartialEq, Eq)]
pub struct MpesaSandboxConfig {
    /// The OAuth consumer key.
    pub consumer_key: String,
    /// The OAuth consumer secret.
    pub consumer_secret: String,
    /// The one Paybill it serves.
    pub shortcode: String,
    /// The Lipa na M-Pesa Online passkey in every STK `Password`.
    pub passkey: String,
    /// The reversal's `Initiator`.
    pub initiator_name: String,
    /// The reversal's `SecurityCredential`, compared as given (nothing is decrypted).
    pub security_credential: String,
    /// How long an access token is good for.
    pub token_lifetime: Duration,
    /// From an STK push or a reversal request to its outcome.
    pub decision_delay: Duration,
}

impl MpesaSandboxConfig {
    /// The configuration of a Daraja client of this account at `base_url` (the running
    /// stand-in's): what tests and benchmarks talk to the stand-in with.
    pub fn daraja_config(&self, base_url: &str) -> Result<mpesa::DarajaConfig, url::ParseError> {
        Ok(mpesa::DarajaConfig {
            base_url: url::Url::parse(base_url)?,
            consumer_key: secrecy::SecretString::from(self.consumer_key.clone()),
            consumer_secret: secrecy::SecretString::from(self.consumer_secret.clone()),
            shortcode: self.shortcode.clone(),
            passkey: secrecy::SecretString::from(self.passkey.clone()),
            initiator_name: self.initiator_name.clone(),
            security_credential: secrecy::SecretString::from(self.security_credential.clone()),
            timeout: Duration::from_secs(5),
        })
    }
}

impl Default for MpesaSandboxConfig {
    /// The `make dev` account on Daraja's sandbox shortcode and passkey.
    fn default() -> Self {
        Self {
            consumer_key: LOCAL_CONSUMER_KEY.into(),
            consumer_secret: LOCAL_CONSUMER_SECRET.into(),
            shortcode: SANDBOX_SHORTCODE.into(),
            passkey: SANDBOX_PASSKEY.into(),
            initiator_name: SANDBOX_INITIATOR.into(),
            security_credential: LOCAL_SECURITY_CREDENTIAL.into(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            decision_delay: DEFAULT_DECISION_DELAY,
        }
    }
}

impl fmt::Debug for MpesaSandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpesaSandboxConfig")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("shortcode", &self.shortcode)
            .field("passkey", &"<redacted>")
            .field("initiator_name", &self.initiator_name)
            .field("security_credential", &"<redacted>")
            .field("token_lifetime", &self.token_lifetime)
            .field("decision_delay", &self.decision_delay)
            .finish()
    }
}

/// Which callback a [`Delivery`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// An STK push's result, to its `CallBackURL`.
    Stk,
    /// A Paybill payment, to the registered `ValidationURL`.
    C2bValidation,
    /// A Paybill payment, to the registered `ConfirmationURL`.
    C2bConfirmation,
    /// A reversal's result, to its `ResultURL`.
    ReversalResult,
}

/// One callback the stand-in POSTed, as `GET /deliveries` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub kind: DeliveryKind,
    /// Where it went.
    pub url: String,
    /// The JSON body it sent.
    pub body: Value,
    /// The HTTP status it got, if it got an answer.
    pub status: Option<u16>,
    /// Why it got no answer (refused connection, timeout).
    pub error: Option<String>,
}

impl Delivery {
    /// Whether the receiver answered 2xx.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The callbacks the stand-in POSTed, shared between it and whoever inspects them.
#[derive(Debug, Clone, Default)]
pub struct Deliveries(Arc<Mutex<Vec<Delivery>>>);

impl Deliveries {
    /// Every delivery, in the order they ended.
    pub fn all(&self) -> Vec<Delivery> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The deliveries of one kind, in order.
    pub fn of_kind(&self, kind: DeliveryKind) -> Vec<Delivery> {
        self.all().into_iter().filter(|d| d.kind == kind).collect()
    }

    fn push(&self, delivery: Delivery) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(delivery);
    }
}

/// A stand-in serving on 127.0.0.1; stopped, with its pending callbacks, when dropped.
pub struct RunningMpesaSandbox {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    pub deliveries: Deliveries,
    task: tokio::task::JoinHandle<()>,
    state: Arc<AppState>,
}

impl fmt::Debug for RunningMpesaSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningMpesaSandbox")
            .field("base_url", &self.base_url)
            .field("deliveries", &self.deliveries)
            .finish_non_exhaustive()
    }
}

impl RunningMpesaSandbox {
    /// Serves until the process is stopped.
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningMpesaSandbox {
    fn drop(&mut self) {
        self.task.abort();
        self.state.tasks.abort_all();
    }
}

/// Starts the stand-in for `config` on 127.0.0.1:`port` (0: a free port) in a background
/// task.
pub async fn start(config: MpesaSandboxConfig, port: u16) -> std::io::Result<RunningMpesaSandbox> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(CALLBACK_TIMEOUT)
        .build()
        .map_err(std::io::Error::other)?;
    let deliveries = Deliveries::default();
    let state = Arc::new(AppState {
        config,
        deliveries: deliveries.clone(),
        http,
        ledger: Mutex::default(),
        tasks: Background::default(),
    });
    let router = router(state.clone());
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "mpesa sandbox stopped");
        }
    });
    Ok(RunningMpesaSandbox {
        base_url,
        deliveries,
        task,
        state,
    })
}

fn router(state: Arc<AppState>) -> Router {
    let daraja = Router::new()
        .route(STK_PUSH_PATH, post(stk_push))
        .route(STK_QUERY_PATH, post(stk_query))
        .route(C2B_REGISTER_PATH, post(c2b_register))
        .route(C2B_SIMULATE_PATH, post(c2b_simulate))
        .route(REVERSAL_PATH, post(reversal))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route(OAUTH_PATH, get(generate_token))
        .route(DELIVERIES_PATH, get(list_deliveries))
        .merge(daraja)
        .with_state(state)
}

// ---------------------------------------------------------------------------------------
// Pure helpers.

/// Daraja's `YYYYMMDDHHmmss` of `at` in Nairobi time.
pub fn daraja_timestamp(at: OffsetDateTime) -> String {
    let t = at.to_offset(NAIROBI);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The STK `Password`: base64 of shortcode, passkey and `Timestamp`, concatenated.
pub fn stk_password(shortcode: &str, passkey: &str, timestamp: &str) -> String {
    BASE64.encode(format!("{shortcode}{passkey}{timestamp}"))
}

/// A Kenyan number masked as M-Pesa masks C2B payers: country code and first digit, five
/// stars, last three digits (`254712345126` → `2547 ***** 126`). Anything else but 12
/// digits keeps only its last three characters.
pub fn mask_msisdn(number: &str) -> String {
    if number.len() == 12 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} ***** {}", &number[..4], &number[9..])
    } else {
        let tail: String = number.chars().rev().take(3).collect();
        format!("***** {}", tail.chars().rev().collect::<String>())
    }
}

/// A Safaricom number as Daraja takes it: `2547XXXXXXXX` or `2541XXXXXXXX`.
fn is_msisdn(s: &str) -> bool {
    s.len() == 12
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s.starts_with("2547") || s.starts_with("2541"))
}

/// Daraja's `YYYYMMDDHHmmss`, a real date and time.
fn is_timestamp(s: &str) -> bool {
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    s.len() == 14
        && s.bytes().all(|b| b.is_ascii_digit())
        && time::PrimitiveDateTime::parse(s, format).is_ok()
}

fn is_http_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn chars_between(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

/// A receipt as M-Pesa writes them (`SLJ7RT61SV`): ten upper-case letters or digits,
/// the first a letter.
fn is_receipt(s: &str) -> bool {
    s.len() == 10
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `err` and its causes, `: `-separated.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn random_string(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[(OsRng.next_u64() % alphabet.len() as u64) as usize]))
        .collect()
}

fn new_receipt() -> String {
    format!("SL{}", random_string(UPPER_ALNUM, 8))
}

/// Daraja's `requestId` and `OriginatorCoversationID` shape: `6e86-45dd-91ac-fd5d…`.
fn conversation_id() -> String {
    format!(
        "{}-{}-{}-{}{}",
        random_string(HEX, 4),
        random_string(HEX, 4),
        random_string(HEX, 4),
        random_string(HEX, 12),
        random_string(DIGITS, 7)
    )
}

/// `29115-34620561-1`.
fn merchant_request_id() -> String {
    format!(
        "{}-{}-1",
        10_000 + OsRng.next_u64() % 90_000,
        10_000_000 + OsRng.next_u64() % 90_000_000
    )
}

/// `ws_CO_` and the Nairobi time as `ddmmyyyyhhmmss`, then six digits.
fn checkout_request_id(at: OffsetDateTime) -> String {
    let t = at.to_offset(NAIROBI);
    format!(
        "ws_CO_{:02}{:02}{:04}{:02}{:02}{:02}{}",
        t.day(),
        u8::from(t.month()),
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        random_string(DIGITS, 6)
    )
}

/// `AG_<yyyymmdd>_` and 20 hex digits.
fn reversal_conversation_id(at: OffsetDateTime) -> String {
    format!(
        "AG_{}_{}",
        &daraja_timestamp(at)[..8],
        random_string(HEX, 20)
    )
}

/// A Daraja timestamp as the JSON number callbacks carry.
fn timestamp_number(at: OffsetDateTime) -> u64 {
    daraja_timestamp(at).parse().unwrap_or_default()
}

/// What a prompt to `phone` ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PromptScript {
    Succeeds,
    /// Succeeds, but no callback is ever sent.
    SucceedsSilently,
    /// Succeeds, and the callback is sent twice.
    SucceedsTwice,
    Fails {
        code: i64,
        desc: &'static str,
    },
}

fn prompt_script(phone: &str) -> PromptScript {
    let suffix = phone
        .get(phone.len().saturating_sub(4)..)
        .unwrap_or_default();
    let fails = |code, desc| PromptScript::Fails { code, desc };
    match suffix {
        "1032" => fails(1032, "Request cancelled by user"),
        "0001" => fails(1, "The balance is insufficient for the transaction"),
        "2001" => fails(2001, "The initiator information is invalid."),
        "1037" => fails(1037, "DS timeout user cannot be reached"),
        "0404" => PromptScript::SucceedsSilently,
        "0002" => PromptScript::SucceedsTwice,
        _ => PromptScript::Succeeds,
    }
}

/// The payer suffix whose reversals are accepted and never answered.
const SILENT_REVERSAL_SUFFIX: &str = "0003";

// ---------------------------------------------------------------------------------------
// Errors as Daraja writes them.

/// An error answer: `{"requestId","errorCode","errorMessage"}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn invalid(field: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "400.002.02",
            message: format!("Bad Request - Invalid {field}"),
        }
    }

    fn bad_payload() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "400.002.05",
            message: "Invalid Request Payload".into(),
        }
    }

    fn bad_authentication() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "400.008.01",
            message: "Invalid Authentication passed".into(),
        }
    }

    fn bad_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "404.001.03",
            message: "Invalid Access Token".into(),
        }
    }

    fn processing() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "500.001.1001",
            message: "The transaction is being processed".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "requestId": conversation_id(),
            "errorCode": self.code,
            "errorMessage": self.message,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

type Answer = Result<axum::Json<Value>, ApiError>;

/// A request's JSON fields, read the lenient way Daraja reads them.
struct Fields(Map<String, Value>);

impl Fields {
    fn parse(body: &[u8]) -> Result<Self, ApiError> {
        serde_json::from_slice(body)
            .map(Self)
            .map_err(|_| ApiError::bad_payload())
    }

    /// A non-blank string, or a whole number written as a JSON number.
    fn text(&self, name: &str) -> Result<String, ApiError> {
        match self.0.get(name) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) if n.is_u64() => Ok(n.to_string()),
            _ => Err(ApiError::invalid(name)),
        }
    }

    /// [`Self::text`] that also passes `valid`.
    fn checked(&self, name: &str, valid: impl Fn(&str) -> bool) -> Result<String, ApiError> {
        self.text(name).and_then(|s| {
            if valid(&s) {
                Ok(s)
            } else {
                Err(ApiError::invalid(name))
            }
        })
    }

    /// A string that may be absent or empty, but not too long.
    fn optional(&self, name: &str, max: usize) -> Result<String, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(s.clone()),
            _ => Err(ApiError::invalid(name)),
        }
    }

    /// A whole number of shillings from 1 to `max`, as a JSON number or numeric string.
    fn amount(&self, name: &str, max: u64) -> Result<u64, ApiError> {
        let amount = match self.0.get(name) {
            Some(Value::Number(n)) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= max as f64)
                    .map(|f| f as u64)
            }),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        amount
            .filter(|a| (1..=max).contains(a))
            .ok_or_else(|| ApiError::invalid(name))
    }
}

// ---------------------------------------------------------------------------------------
// State.

struct AppState {
    config: MpesaSandboxConfig,
    deliveries: Deliveries,
    /// For callbacks: no proxy, [`CALLBACK_TIMEOUT`].
    http: reqwest::Client,
    ledger: Mutex<Ledger>,
    /// Pending decisions and deliveries, aborted when the sandbox is dropped.
    tasks: Background,
}

/// What the stand-in remembers between requests.
#[derive(Default)]
struct Ledger {
    /// Access token → when it expires.
    tokens: HashMap<String, Instant>,
    /// CheckoutRequestID → its prompt.
    checkouts: HashMap<String, Checkout>,
    /// The registered C2B URLs of the (one) shortcode.
    paybill_urls: Option<PaybillUrls>,
    /// Receipt → what it paid.
    receipts: HashMap<String, Receipt>,
    /// The Paybill's balance: payments in, reversals out.
    balance: u64,
}

struct Checkout {
    merchant_request_id: String,
    /// `ResultCode` and `ResultDesc`, once decided.
    result: Option<(i64, &'static str)>,
}

#[derive(Clone)]
struct PaybillUrls {
    /// `ResponseType` `Completed`: a validation that does not answer confirms.
    confirm_without_validation: bool,
    confirmation_url: String,
    validation_url: String,
}

struct Receipt {
    amount: u64,
    payer: String,
    reversed: bool,
}

impl AppState {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `task` in the background until it ends or the sandbox is dropped.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Checks `BusinessShortCode`, `Timestamp` and `Password` of an STK request.
    fn check_password(&self, fields: &Fields) -> Result<(), ApiError> {
        let config = &self.config;
        fields.checked("BusinessShortCode", |s| s == config.shortcode)?;
        let timestamp = fields.checked("Timestamp", is_timestamp)?;
        let expected = stk_password(&config.shortcode, &config.passkey, &timestamp);
        fields.checked("Password", |s| s == expected)?;
        Ok(())
    }

    /// POSTs `body` to `url` and keeps the [`Delivery`]; the receiver's JSON answer if it
    /// answered 2xx with one.
    async fn deliver(&self, kind: DeliveryKind, url: &str, body: Value) -> Option<Value> {
        let (status, error, answer) = match self.http.post(url).json(&body).send().await {
            Ok(response) if response.status().is_success() => {
                let status = response.status().as_u16();
                tracing::info!(?kind, status, "mpesa sandbox: callback delivered");
                (Some(status), None, response.json::<Value>().await.ok())
            }
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::warn!(?kind, status, "mpesa sandbox: callback failed");
                (Some(status), None, None)
            }
            Err(err) => {
                let error = error_chain(&err.without_url());
                tracing::warn!(?kind, error = %error, "mpesa sandbox: callback failed");
                (None, Some(error), None)
            }
        };
        self.deliveries.push(Delivery {
            kind,
            url: url.to_owned(),
            body,
            status,
            error,
        });
        answer
    }
}

impl Ledger {
    fn token_is_valid(&self, token: &str, now: Instant) -> bool {
        self.tokens.get(token).is_some_and(|expiry| now < *expiry)
    }

    fn issue_token(&mut self, lifetime: Duration, now: Instant) -> String {
        self.tokens.retain(|_, expiry| now < *expiry);
        let token = random_string(ALNUM, 28);
        self.tokens.insert(token.clone(), now + lifetime);
        token
    }

    /// A new pending prompt: its (MerchantRequestID, CheckoutRequestID).
    fn open_checkout(&mut self, at: OffsetDateTime) -> (String, String) {
        let mut checkout_id = checkout_request_id(at);
        while self.checkouts.contains_key(&checkout_id) {
            checkout_id = checkout_request_id(at);
        }
        let merchant_id = merchant_request_id();
        self.checkouts.insert(
            checkout_id.clone(),
            Checkout {
                merchant_request_id: merchant_id.clone(),
                result: None,
            },
        );
        (merchant_id, checkout_id)
    }

    fn decide(&mut self, checkout_id: &str, result: (i64, &'static str)) {
        if let Some(checkout) = self.checkouts.get_mut(checkout_id) {
            checkout.result = Some(result);
        }
    }

    /// Remembers a payment into the Paybill under a new receipt: (receipt, new balance).
    fn pay_in(&mut self, amount: u64, payer: &str) -> (String, u64) {
        let receipt = self.unused_receipt();
        self.insert_receipt(receipt.clone(), amount, payer);
        (receipt, self.balance)
    }

    fn insert_receipt(&mut self, receipt: String, amount: u64, payer: &str) {
        self.receipts.insert(
            receipt,
            Receipt {
                amount,
                payer: payer.to_owned(),
                reversed: false,
            },
        );
        self.balance += amount;
    }

    fn unused_receipt(&self) -> String {
        let mut receipt = new_receipt();
        while self.receipts.contains_key(&receipt) {
            receipt = new_receipt();
        }
        receipt
    }

    /// Decides the reversal of `receipt` for `amount`, reversing it if it may be.
    fn reverse(&mut self, receipt: &str, amount: u64) -> ReversalVerdict {
        let Some(entry) = self.receipts.get_mut(receipt) else {
            return ReversalVerdict::Refused("R000002", "The OriginalTransactionID is invalid.");
        };
        if entry.payer.ends_with(SILENT_REVERSAL_SUFFIX) {
            return ReversalVerdict::Silent;
        }
        if entry.reversed {
            return ReversalVerdict::Refused(
                "R000001",
                "The transaction has already been reversed.",
            );
        }
        if entry.amount != amount {
            return ReversalVerdict::Refused("R000002", "The Amount is invalid.");
        }
        entry.reversed = true;
        let payer = entry.payer.clone();
        self.balance = self.balance.saturating_sub(amount);
        ReversalVerdict::Reversed {
            payer,
            balance: self.balance,
        }
    }
}

enum ReversalVerdict {
    Reversed {
        payer: String,
        balance: u64,
    },
    Refused(&'static str, &'static str),
    /// The `0003` script: no result, ever.
    Silent,
}

// ---------------------------------------------------------------------------------------
// OAuth.

async fn generate_token(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let query = query.unwrap_or_default();
    let grant = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "grant_type")
        .map(|(_, value)| value);
    if grant.as_deref() != Some("client_credentials")
        || !basic_auth_matches(&headers, &state.config)
    {
        return Err(ApiError::bad_authentication());
    }
    let lifetime = state.config.token_lifetime;
    let token = state.ledger().issue_token(lifetime, Instant::now());
    tracing::info!("mpesa sandbox: access token issued");
    Ok(axum::Json(json!({
        "access_token": token,
        "expires_in": lifetime.as_secs().to_string(),
    })))
}

fn basic_auth_matches(headers: &HeaderMap, config: &MpesaSandboxConfig) -> bool {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| BASE64.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    credentials.is_some_and(|c| {
        c.split_once(':').is_some_and(|(key, secret)| {
            key == config.consumer_key && secret == config.consumer_secret
        })
    })
}

async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid = token.is_some_and(|t| state.ledger().token_is_valid(t.trim(), Instant::now()));
    if valid {
        next.run(request).await
    } else {
        ApiError::bad_token().into_response()
    }
}

// ---------------------------------------------------------------------------------------
// STK push and query.

/// An accepted prompt, what its decision needs.
struct Prompt {
    merchant_request_id: String,
    checkout_request_id: String,
    amount: u64,
    phone: String,
    callback_url: String,
}

async fn stk_push(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    state.check_password(&fields)?;
    fields.checked("TransactionType", |s| s == "CustomerPayBillOnline")?;
    let amount = fields.amount("Amount", MAX_AMOUNT)?;
    fields.checked("PartyA", is_msisdn)?;
    fields.checked("PartyB", |s| s == state.config.shortcode)?;
    let phone = fields.checked("PhoneNumber", is_msisdn)?;
    let callback_url = fields.checked("CallBackURL", is_http_url)?;
    fields.checked("AccountReference", |s| chars_between(s, 1, 12))?;
    fields.checked("TransactionDesc", |s| chars_between(s, 1, 13))?;

    let (merchant_request_id, checkout_request_id) =
        state.ledger().open_checkout(OffsetDateTime::now_utc());
    tracing::info!(
        checkout_request_id = %checkout_request_id,
        phone = %mask_msisdn(&phone),
        amount,
        "mpesa sandbox: prompt accepted"
    );
    let answer = json!({
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResponseCode": "0",
        "ResponseDescription": PROMPT_ACCEPTED,
        "CustomerMessage": PROMPT_ACCEPTED,
    });
    let prompt = Prompt {
        merchant_request_id,
        checkout_request_id,
        amount,
        phone,
        callback_url,
    };
    let task_state = state.clone();
    state.spawn(async move { decide_prompt(task_state, prompt).await });
    Ok(axum::Json(answer))
}

/// After the decision delay: the scripted outcome, its receipt, its callback(s).
async fn decide_prompt(state: Arc<AppState>, prompt: Prompt) {
    tokio::time::sleep(state.config.decision_delay).await;
    let script = prompt_script(&prompt.phone);
    let (code, desc) = match script {
        PromptScript::Fails { code, desc } => (code, desc),
        _ => (0, PROCESSED),
    };
    let callback = {
        let mut ledger = state.ledger();
        ledger.decide(&prompt.checkout_request_id, (code, desc));
        let receipt = (code == 0).then(|| ledger.pay_in(prompt.amount, &prompt.phone).0);
        stk_callback(
            &prompt,
            code,
            desc,
            receipt.as_deref(),
            OffsetDateTime::now_utc(),
        )
    };
    tracing::info!(
        checkout_request_id = %prompt.checkout_request_id,
        result_code = code,
        "mpesa sandbox: prompt decided"
    );
    let sends = match script {
        PromptScript::SucceedsSilently => 0,
        PromptScript::SucceedsTwice => 2,
        _ => 1,
    };
    for _ in 0..sends {
        state
            .deliver(DeliveryKind::Stk, &prompt.callback_url, callback.clone())
            .await;
    }
}

/// Daraja's STK callback; `CallbackMetadata` only with a receipt (success).
fn stk_callback(
    prompt: &Prompt,
    code: i64,
    desc: &str,
    receipt: Option<&str>,
    at: OffsetDateTime,
) -> Value {
    let mut callback = json!({
        "MerchantRequestID": prompt.merchant_request_id,
        "CheckoutRequestID": prompt.checkout_request_id,
        "ResultCode": code,
        "ResultDesc": desc,
    });
    if let Some(receipt) = receipt {
        let phone: u64 = prompt.phone.parse().unwrap_or_default();
        callback["CallbackMetadata"] = json!({"Item": [
            {"Name": "Amount", "Value": prompt.amount as f64},
            {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "Balance"},
            {"Name": "TransactionDate", "Value": timestamp_number(at)},
            {"Name": "PhoneNumber", "Value": phone},
        ]});
    }
    json!({"Body": {"stkCallback": callback}})
}

async fn stk_query(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    state.check_password(&fields)?;
    let checkout_id = fields.text("CheckoutRequestID")?;
    let ledger = state.ledger();
    let checkout = ledger
        .checkouts
        .get(&checkout_id)
        .ok_or_else(|| ApiError::invalid("CheckoutRequestID"))?;
    let (code, desc) = checkout.result.ok_or_else(ApiError::processing)?;
    Ok(axum::Json(json!({
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": checkout.merchant_request_id,
        "CheckoutRequestID": checkout_id,
        "ResultCode": code.to_string(),
        "ResultDesc": desc,
    })))
}

// ---------------------------------------------------------------------------------------
// C2B.

async fn c2b_register(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    fields.checked("ShortCode", |s| s == state.config.shortcode)?;
    let response_type =
        fields.checked("ResponseType", |s| matches!(s, "Completed" | "Cancelled"))?;
    let confirmation_url = fields.checked("ConfirmationURL", is_http_url)?;
    let validation_url = fields.checked("ValidationURL", is_http_url)?;
    state.ledger().paybill_urls = Some(PaybillUrls {
        confirm_without_validation: response_type == "Completed",
        confirmation_url,
        validation_url,
    });
    tracing::info!(response_type = %response_type, "mpesa sandbox: c2b urls registered");
    Ok(axum::Json(json!({
        "OriginatorCoversationID": conversation_id(),
        "ResponseCode": "0",
        "ResponseDescription": "Success",
    })))
}

/// A simulated Paybill payment, what its deliveries need.
struct PaybillPayment {
    amount: u64,
    msisdn: String,
    bill_ref: String,
}

async fn c2b_simulate(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    fields.checked("ShortCode", |s| s == state.config.shortcode)?;
    let urls = state
        .ledger()
        .paybill_urls
        .clone()
        .ok_or_else(|| ApiError::invalid("ShortCode"))?;
    fields.checked("CommandID", |s| s == "CustomerPayBillOnline")?;
    let amount = fields.amount("Amount", MAX_AMOUNT)?;
    let msisdn = fields.checked("Msisdn", is_msisdn)?;
    let bill_ref = fields.checked("BillRefNumber", |s| chars_between(s, 1, 20))?;
    tracing::info!(
        msisdn = %mask_msisdn(&msisdn),
        amount,
        "mpesa sandbox: paybill payment simulated"
    );
    let payment = PaybillPayment {
        amount,
        msisdn,
        bill_ref,
    };
    let task_state = state.clone();
    state.spawn(async move { run_paybill(task_state, urls, payment).await });
    Ok(axum::Json(json!({
        "OriginatorCoversationID": conversation_id(),
        "ResponseCode": "0",
        "ResponseDescription": ACCEPTED,
    })))
}

/// What a C2B validation answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validation {
    Accepted,
    Rejected,
    /// No JSON answer with a `ResultCode`.
    NoAnswer,
}

fn validation_verdict(answer: Option<&Value>) -> Validation {
    match answer.and_then(|a| a.get("ResultCode")) {
        None => Validation::NoAnswer,
        Some(Value::String(s)) if s == "0" => Validation::Accepted,
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Validation::Accepted,
        Some(_) => Validation::Rejected,
    }
}

/// Validation, then (if it passes) the receipt and the confirmation.
async fn run_paybill(state: Arc<AppState>, urls: PaybillUrls, payment: PaybillPayment) {
    let receipt = state.ledger().unused_receipt();
    let at = OffsetDateTime::now_utc();
    let validation = c2b_body(&state.config.shortcode, &payment, &receipt, at, "");
    let answer = state
        .deliver(
            DeliveryKind::C2bValidation,
            &urls.validation_url,
            validation,
        )
        .await;
    let verdict = validation_verdict(answer.as_ref());
    let confirm = match verdict {
        Validation::Accepted => true,
        Validation::Rejected => false,
        Validation::NoAnswer => urls.confirm_without_validation,
    };
    if !confirm {
        tracing::info!(?verdict, "mpesa sandbox: paybill payment not confirmed");
        return;
    }
    let balance = {
        let mut ledger = state.ledger();
        ledger.insert_receipt(receipt.clone(), payment.amount, &payment.msisdn);
        ledger.balance
    };
    let confirmation = c2b_body(
        &state.config.shortcode,
        &payment,
        &receipt,
        at,
        &format!("{balance}.00"),
    );
    state
        .deliver(
            DeliveryKind::C2bConfirmation,
            &urls.confirmation_url,
            confirmation,
        )
        .await;
}

/// The body Daraja POSTs to a validation or confirmation URL.
fn c2b_body(
    shortcode: &str,
    payment: &PaybillPayment,
    receipt: &str,
    at: OffsetDateTime,
    balance: &str,
) -> Value {
    json!({
        "TransactionType": "Pay Bill",
        "TransID": receipt,
        "TransTime": daraja_timestamp(at),
        "TransAmount": format!("{}.00", payment.amount),
        "BusinessShortCode": shortcode,
        "BillRefNumber": payment.bill_ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": "",
        "MSISDN": mask_msisdn(&payment.msisdn),
        "FirstName": PAYER_NAME,
        "MiddleName": "",
        "LastName": "",
    })
}

// ---------------------------------------------------------------------------------------
// Reversal.

/// An accepted reversal request, what its decision needs.
struct ReversalRequest {
    originator_id: String,
    conversation_id: String,
    receipt: String,
    amount: u64,
    result_url: String,
    queue_timeout_url: String,
}

async fn reversal(State(state): State<Arc<AppState>>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let config = &state.config;
    fields.checked("Initiator", |s| s == config.initiator_name)?;
    fields.checked("SecurityCredential", |s| s == config.security_credential)?;
    fields.checked("CommandID", |s| s == "TransactionReversal")?;
    let receipt = fields.checked("TransactionID", is_receipt)?;
    let amount = fields.amount("Amount", u64::MAX)?;
    fields.checked("ReceiverParty", |s| s == config.shortcode)?;
    fields.checked("RecieverIdentifierType", |s| s == "11")?;
    let result_url = fields.checked("ResultURL", is_http_url)?;
    let queue_timeout_url = fields.checked("QueueTimeOutURL", is_http_url)?;
    fields.checked("Remarks", |s| chars_between(s, 1, 100))?;
    fields.optional("Occasion", 100)?;

    let at = OffsetDateTime::now_utc();
    let request = ReversalRequest {
        originator_id: conversation_id(),
        conversation_id: reversal_conversation_id(at),
        receipt,
        amount,
        result_url,
        queue_timeout_url,
    };
    tracing::info!(
        conversation_id = %request.conversation_id,
        receipt = %request.receipt,
        amount,
        "mpesa sandbox: reversal accepted"
    );
    let answer = json!({
        "OriginatorConversationID": request.originator_id,
        "ConversationID": request.conversation_id,
        "ResponseCode": "0",
        "ResponseDescription": ACCEPTED,
    });
    let task_state = state.clone();
    state.spawn(async move { decide_reversal(task_state, request).await });
    Ok(axum::Json(answer))
}

/// After the decision delay: reverses the receipt if it may be, and posts the result.
async fn decide_reversal(state: Arc<AppState>, request: ReversalRequest) {
    tokio::time::sleep(state.config.decision_delay).await;
    let (verdict, transaction_id) = {
        let mut ledger = state.ledger();
        let verdict = ledger.reverse(&request.receipt, request.amount);
        (verdict, ledger.unused_receipt())
    };
    let at = OffsetDateTime::now_utc();
    let result = match verdict {
        ReversalVerdict::Silent => {
            tracing::info!(
                conversation_id = %request.conversation_id,
                "mpesa sandbox: reversal never answered (script)"
            );
            return;
        }
        ReversalVerdict::Refused(code, desc) => {
            reversal_result(&request, &transaction_id, json!(code), desc)
        }
        ReversalVerdict::Reversed { payer, balance } => {
            let mut result = reversal_result(&request, &transaction_id, json!(0), PROCESSED);
            result["Result"]["ResultParameters"] =
                reversal_parameters(&request, &payer, balance, at);
            result
        }
    };
    state
        .deliver(DeliveryKind::ReversalResult, &request.result_url, result)
        .await;
}

/// Daraja's reversal result without `ResultParameters` (as on a refusal).
fn reversal_result(
    request: &ReversalRequest,
    transaction_id: &str,
    code: Value,
    desc: &str,
) -> Value {
    json!({"Result": {
        "ResultType": 0,
        "ResultCode": code,
        "ResultDesc": desc,
        "OriginatorConversationID": request.originator_id,
        "ConversationID": request.conversation_id,
        "TransactionID": transaction_id,
        "ReferenceData": {"ReferenceItem": {
            "Key": "QueueTimeoutURL",
            "Value": request.queue_timeout_url,
        }},
    }})
}

fn reversal_parameters(
    request: &ReversalRequest,
    payer: &str,
    balance: u64,
    at: OffsetDateTime,
) -> Value {
    json!({"ResultParameter": [
        {"Key": "DebitAccountBalance", "Value": format!("Utility Account|KES|{balance}.00|{balance}.00|0.00|0.00")},
        {"Key": "Amount", "Value": request.amount},
        {"Key": "TransCompletedTime", "Value": timestamp_number(at)},
        {"Key": "OriginalTransactionID", "Value": request.receipt},
        {"Key": "CreditPartyPublicName", "Value": format!("{payer} - {PAYER_NAME}")},
    ]})
}

async fn list_deliveries(State(state): State<Arc<AppState>>) -> axum::Json<Vec<Delivery>> {
    axum::Json(state.deliveries.all())
}

#[cfg(test)]
mod tests {
    use testkit::logs::CapturedLogs;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_are_nairobi_time() {
        assert_eq!(
            daraja_timestamp(datetime!(2024-12-31 22:30:05 UTC)),
            "20250101013005"
        );
        assert_eq!(
            checkout_request_id(datetime!(2024-12-31 22:30:05 UTC))[..20],
            *"ws_CO_01012025013005"
        );
        assert_eq!(
            timestamp_number(datetime!(2019-12-19 07:21:15 UTC)),
            20191219102115
        );
        assert!(
            reversal_conversation_id(datetime!(2023-04-20 10:00:00 UTC))
                .starts_with("AG_20230420_")
        );
    }

    #[test]
    fn the_password_is_darajas() {
        // Daraja's documented example.
        assert_eq!(
            stk_password(SANDBOX_SHORTCODE, SANDBOX_PASSKEY, "20160216165627"),
            "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
        );
    }

    #[test]
    fn the_mask_shows_the_country_code_the_first_digit_and_the_last_three() {
        assert_eq!(mask_msisdn("254712345126"), "2547 ***** 126");
        assert_eq!(mask_msisdn("254110000678"), "2541 ***** 678");
        assert_eq!(mask_msisdn("0712345678"), "***** 678");
    }

    #[test]
    fn field_shapes() {
        assert!(is_msisdn("254712345678") && is_msisdn("254112345678"));
        for bad in [
            "0712345678",
            "254812345678",
            "25471234567",
            "2547123456789",
            "+25471234567",
        ] {
            assert!(!is_msisdn(bad), "{bad}");
        }
        assert!(is_timestamp("20240229235959"));
        for bad in [
            "20240230120000",
            "2024010112000",
            "2024010112000a",
            "20241301120000",
        ] {
            assert!(!is_timestamp(bad), "{bad}");
        }
        assert!(is_http_url("https://shop.example.com/cb") && is_http_url("http://127.0.0.1:1/x"));
        assert!(!is_http_url("ftp://example.com") && !is_http_url("not a url"));
        assert!(chars_between("ORD-1234ABCD", 1, 12) && !chars_between("", 1, 12));
    }

    #[test]
    fn generated_ids_have_darajas_shapes() {
        let receipt = new_receipt();
        assert!(is_receipt(&receipt), "{receipt}");
        let merchant = merchant_request_id();
        let parts: Vec<&str> = merchant.split('-').collect();
        assert_eq!(parts.len(), 3, "{merchant}");
        assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()), "{merchant}");
        let token = random_string(ALNUM, 28);
        assert!(token.len() == 28 && token.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn amounts_are_whole_shillings_up_to_the_limit() {
        let fields = |v: Value| {
            Fields(
                json!({ "Amount": v })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
        };
        for (given, expected) in [
            (json!(1), Some(1)),
            (json!("250000"), Some(250_000)),
            (json!(10.0), Some(10)),
            (json!(0), None),
            (json!(250_001), None),
            (json!(1.5), None),
            (json!("1.5"), None),
            (json!(-3), None),
            (json!(null), None),
        ] {
            let amount = fields(given.clone()).amount("Amount", MAX_AMOUNT).ok();
            assert_eq!(amount, expected, "{given}");
        }
    }

    #[test]
    fn prompts_follow_the_payers_last_four_digits() {
        let code = |phone| match prompt_script(phone) {
            PromptScript::Fails { code, .. } => Some(code),
            _ => None,
        };
        assert_eq!(code("254700001032"), Some(1032));
        assert_eq!(code("254700000001"), Some(1));
        assert_eq!(code("254700002001"), Some(2001));
        assert_eq!(code("254700001037"), Some(1037));
        assert_eq!(
            prompt_script("254700000404"),
            PromptScript::SucceedsSilently
        );
        assert_eq!(prompt_script("254700000002"), PromptScript::SucceedsTwice);
        assert_eq!(prompt_script("254712345678"), PromptScript::Succeeds);
    }

    #[test]
    fn a_validation_accepts_only_on_result_code_zero() {
        assert_eq!(
            validation_verdict(Some(&json!({"ResultCode": 0}))),
            Validation::Accepted
        );
        assert_eq!(
            validation_verdict(Some(&json!({"ResultCode": "0"}))),
            Validation::Accepted
        );
        assert_eq!(
            validation_verdict(Some(&json!({"ResultCode": "C2B00012"}))),
            Validation::Rejected
        );
        assert_eq!(
            validation_verdict(Some(&json!({"ok": true}))),
            Validation::NoAnswer
        );
        assert_eq!(validation_verdict(None), Validation::NoAnswer);
    }

    #[test]
    fn a_receipt_is_reversed_once_for_its_own_amount() {
        let mut ledger = Ledger::default();
        let (receipt, balance) = ledger.pay_in(100, "254712345678");
        assert_eq!(balance, 100);
        assert!(matches!(
            ledger.reverse(&receipt, 99),
            ReversalVerdict::Refused("R000002", _)
        ));
        assert!(matches!(
            ledger.reverse(&receipt, 100),
            ReversalVerdict::Reversed { balance: 0, .. }
        ));
        assert!(matches!(
            ledger.reverse(&receipt, 100),
            ReversalVerdict::Refused("R000001", _)
        ));
        assert!(matches!(
            ledger.reverse("SLNEVER000", 100),
            ReversalVerdict::Refused("R000002", _)
        ));
        let (silent, _) = ledger.pay_in(5, "254700000003");
        assert!(matches!(
            ledger.reverse(&silent, 5),
            ReversalVerdict::Silent
        ));
    }

    #[test]
    fn tokens_expire() {
        let mut ledger = Ledger::default();
        let now = Instant::now();
        let token = ledger.issue_token(Duration::from_secs(10), now);
        assert!(ledger.token_is_valid(&token, now));
        assert!(!ledger.token_is_valid(&token, now + Duration::from_secs(10)));
        assert!(!ledger.token_is_valid("made-up", now));
    }

    #[test]
    fn debug_redacts_the_secrets() {
        let shown = format!("{:?}", MpesaSandboxConfig::default());
        for secret in [
            LOCAL_CONSUMER_SECRET,
            SANDBOX_PASSKEY,
            LOCAL_SECURITY_CREDENTIAL,
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains(LOCAL_CONSUMER_KEY));
    }

    // A current-thread runtime: the server and its tasks log on this thread, so the
    // scoped subscriber below sees their lines.
    #[tokio::test(flavor = "current_thread")]
    async fn the_logs_never_leak_a_secret_a_token_or_a_full_number() {
        let (captured, _guard) = CapturedLogs::start();

        let config = MpesaSandboxConfig {
            decision_delay: Duration::ZERO,
            ..MpesaSandboxConfig::default()
        };
        let sandbox = start(config, 0).await.expect("start");
        let http = reqwest::Client::new();
        let token: Value = http
            .get(format!(
                "{}{OAUTH_PATH}?grant_type=client_credentials",
                sandbox.base_url
            ))
            .basic_auth(LOCAL_CONSUMER_KEY, Some(LOCAL_CONSUMER_SECRET))
            .send()
            .await
            .expect("oauth")
            .json()
            .await
            .expect("JSON");
        let token = token["access_token"].as_str().expect("token").to_owned();
        // A port nobody listens on: the delivery fails, and is logged too.
        let closed = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind")
            .local_addr()
            .expect("addr");
        let timestamp = "20240101120000";
        let password = stk_password(SANDBOX_SHORTCODE, SANDBOX_PASSKEY, timestamp);
        let push = json!({
            "BusinessShortCode": SANDBOX_SHORTCODE, "Password": password, "Timestamp": timestamp,
            "TransactionType": "CustomerPayBillOnline", "Amount": 10, "PartyA": "254712345126",
            "PartyB": SANDBOX_SHORTCODE, "PhoneNumber": "254712345126",
            "CallBackURL": format!("http://{closed}/cb"), "AccountReference": "ORD1",
            "TransactionDesc": "Order",
        });
        let response = http
            .post(format!("{}{STK_PUSH_PATH}", sandbox.base_url))
            .bearer_auth(&token)
            .json(&push)
            .send()
            .await
            .expect("push");
        assert_eq!(response.status(), 200);
        for _ in 0..400 {
            if !sandbox.deliveries.all().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(sandbox.deliveries.all().len(), 1);

        let logs = captured.text();
        assert!(
            logs.contains("prompt accepted") && logs.contains("2547 ***** 126"),
            "{logs}"
        );
        assert!(logs.contains("callback failed"), "{logs}");
        for secret in [
            "712345126",
            LOCAL_CONSUMER_SECRET,
            SANDBOX_PASSKEY,
            password.as_str(),
            token.as_str(),
        ] {
            assert!(!logs.contains(secret), "{secret} leaked: {logs}");
        }
    }
}
