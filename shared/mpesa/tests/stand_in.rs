//! The Daraja client ([`mpesa::Daraja`]) against the M-Pesa stand-in of the local stack
//! (`devstack::mpesa`), both real, over HTTP on 127.0.0.1. What these tests prove:
//!
//! - OAuth: the client's Basic credentials get a token; one token serves many calls and
//!   is renewed before it lapses (read on an injected clock); a token the stand-in no
//!   longer takes (`401 404.001.03`) is dropped, a new one fetched and the call sent
//!   once more, and never a third time; wrong credentials are `NoToken(Refused)` and
//!   nothing is sent.
//! - STK push and query: a push is accepted with a `ws_CO_` checkout id; the query says
//!   `Pending` until the prompt is decided, then `Completed` with the stand-in's scripted
//!   code (success, 1032, 1, 2001, 1037); the callback the stand-in posts parses with
//!   [`StkCallback::parse`] (receipt and the amount asked when paid, no payment
//!   otherwise); the silent (`0404`) and doubled (`0002`) callbacks are what they say.
//! - Refusals and silences: an amount over M-Pesa's limit cannot be built, and the
//!   stand-in's limit is the same; a wrong passkey is `Refused` (not taken); an
//!   unreachable Daraja is never mistaken for a refusal once a request may be out.
//! - C2B: URLs are registered, a simulated Paybill payment is validated then confirmed,
//!   and both bodies parse with [`C2bPayment::parse`]; one rejected at validation is
//!   never confirmed.
//! - Reversal: a paid receipt is reversed once (the result parses with
//!   [`ReversalResult::parse`] and carries the accepted conversation id), then
//!   `R000001`; an unknown receipt is `R000002`; the `0003` script is accepted and never
//!   answered.
//!
//! How: each test has a stand-in of its own (decision delay 30 ms) and a receiver of
//! callbacks (testkit's [`CallbackRecorder`], keeping every raw body it gets and
//! answering with the crate's own [`CallbackAnswer`] bodies; its C2B validation accepts
//! or rejects as told). Tests that count requests put a pass-through proxy between client
//! and stand-in. No test sleeps a fixed time or bounds one: waiting is bounded polling
//! for a condition ([`callbacks::poll`]), and "never sent" is read after a later callback
//! of the same stand-in arrived (a barrier).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use devstack::mpesa::{self as stand_in, DeliveryKind, MpesaSandboxConfig, RunningMpesaSandbox};
use domain::PhoneNumber;
use mpesa::{
    C2bPayment, C2bRejection, C2bResponseType, C2bSimulation, C2bUrls, CallbackAnswer, Clock,
    Daraja, DarajaConfig, DarajaError, InvalidShillings, MAX_SHILLINGS, NoAnswer, Receipt, Refusal,
    ResultCode, Reversal, ReversalAccepted, ReversalResult, Shillings, StkAccepted, StkCallback,
    StkPush, StkQueryAnswer, TokenFailure,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::callbacks::{self, CallbackRecorder};
use time::OffsetDateTime;

const DECISION_DELAY: Duration = Duration::from_millis(30);

/// The receiver's paths.
const STK: &str = "/mpesa/stk";
const VALIDATION: &str = "/mpesa/c2b/validation";
const CONFIRMATION: &str = "/mpesa/c2b/confirmation";
const REVERSAL_RESULT: &str = "/mpesa/reversal/result";
const REVERSAL_TIMEOUT: &str = "/mpesa/reversal/timeout";

/// A payer the stand-in lets pay (no scripted ending).
const PAYER: &str = "+254712345678";
const PROCESSED: &str = "The service request is processed successfully.";

// --- Harness ---------------------------------------------------------------------------

/// A clock the test moves by hand.
#[derive(Debug, Clone)]
struct TestClock(Arc<Mutex<OffsetDateTime>>);

impl TestClock {
    fn starting_now() -> Self {
        Self(Arc::new(Mutex::new(OffsetDateTime::now_utc())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock") += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock")
    }
}

/// An axum server on 127.0.0.1, stopped when dropped.
struct Server {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Self { url, task }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A receiver of the shop's callbacks, answering with the crate's own [`CallbackAnswer`]
/// bodies: its C2B validation accepts while `accept_c2b` holds, else rejects with
/// `C2B00012`.
async fn receiver(accept_c2b: Arc<AtomicBool>) -> CallbackRecorder {
    CallbackRecorder::start(move |path, _| {
        let answer = match path {
            VALIDATION if accept_c2b.load(Ordering::SeqCst) => CallbackAnswer::c2b_accepted(),
            VALIDATION => CallbackAnswer::c2b_rejected(C2bRejection::InvalidAccountNumber),
            CONFIRMATION => CallbackAnswer::c2b_accepted(),
            _ => CallbackAnswer::stk_accepted(),
        };
        (StatusCode::OK, answer.body().to_owned())
    })
    .await
}

/// A receiver whose C2B validation always accepts.
async fn accepting_receiver() -> CallbackRecorder {
    receiver(Arc::new(AtomicBool::new(true))).await
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    /// Requests forwarded, by path.
    counts: Arc<Mutex<HashMap<String, usize>>>,
    /// The access tokens the stand-in issued through the proxy, in order.
    tokens: Arc<Mutex<Vec<String>>>,
    /// The `expires_in` told to the client instead of the stand-in's, if any.
    advertised_lifetime: Option<&'static str>,
}

/// Passes every request on to the stand-in and its answer back, counting them.
struct Proxy {
    server: Server,
    state: ProxyState,
}

async fn forward(
    State(proxy): State<ProxyState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    *proxy
        .counts
        .lock()
        .expect("counts")
        .entry(path.clone())
        .or_default() += 1;
    let target = format!(
        "{}{}",
        proxy.upstream,
        uri.path_and_query().map_or(path.as_str(), |p| p.as_str())
    );
    let mut request = proxy.http.request(method, target).body(body);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value.clone());
        }
    }
    let response = request.send().await.expect("the stand-in answers");
    let status = response.status();
    let mut body = response.bytes().await.expect("the stand-in's answer");
    if path == stand_in::OAUTH_PATH && status.is_success() {
        let mut answer: Value = serde_json::from_slice(&body).expect("a token answer");
        let token = answer["access_token"].as_str().expect("a token").to_owned();
        proxy.tokens.lock().expect("tokens").push(token);
        if let Some(lifetime) = proxy.advertised_lifetime {
            answer["expires_in"] = json!(lifetime);
            body = Bytes::from(answer.to_string());
        }
    }
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl Proxy {
    async fn start(upstream: &str, advertised_lifetime: Option<&'static str>) -> Self {
        let state = ProxyState {
            upstream: upstream.to_owned(),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("proxy client"),
            counts: Arc::default(),
            tokens: Arc::default(),
            advertised_lifetime,
        };
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        Self {
            server: Server::start(router).await,
            state,
        }
    }

    /// Requests forwarded to `path` so far.
    fn count(&self, path: &str) -> usize {
        self.state
            .counts
            .lock()
            .expect("counts")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn tokens(&self) -> Vec<String> {
        self.state.tokens.lock().expect("tokens").clone()
    }

    /// A client of the stand-in through the proxy, with `account`'s credentials.
    fn client(&self, account: &MpesaSandboxConfig) -> Daraja {
        Daraja::new(client_config(&self.server.url, account)).expect("client")
    }

    /// [`Proxy::client`], reading the time on `clock`.
    fn client_on(&self, account: &MpesaSandboxConfig, clock: &TestClock) -> Daraja {
        let config = client_config(&self.server.url, account);
        Daraja::with_clock(config, Arc::new(clock.clone())).expect("client")
    }
}

/// A stand-in behind a counting [`Proxy`], and a receiver of its callbacks.
struct Proxied {
    sandbox: RunningMpesaSandbox,
    proxy: Proxy,
    receiver: CallbackRecorder,
}

impl Proxied {
    async fn start(config: &MpesaSandboxConfig, advertised_lifetime: Option<&'static str>) -> Self {
        let sandbox = stand_in::start(config.clone(), 0).await.expect("stand-in");
        let proxy = Proxy::start(&sandbox.base_url, advertised_lifetime).await;
        Self {
            sandbox,
            proxy,
            receiver: accepting_receiver().await,
        }
    }
}

fn stand_in_config() -> MpesaSandboxConfig {
    MpesaSandboxConfig {
        decision_delay: DECISION_DELAY,
        ..MpesaSandboxConfig::default()
    }
}

/// The client's account: the stand-in's.
fn client_config(base_url: &str, account: &MpesaSandboxConfig) -> DarajaConfig {
    DarajaConfig {
        base_url: base_url.parse().expect("base URL"),
        consumer_key: SecretString::from(account.consumer_key.as_str()),
        consumer_secret: SecretString::from(account.consumer_secret.as_str()),
        shortcode: account.shortcode.clone(),
        passkey: SecretString::from(account.passkey.as_str()),
        initiator_name: account.initiator_name.clone(),
        security_credential: SecretString::from(account.security_credential.as_str()),
        timeout: Duration::from_secs(10),
    }
}

fn phone(number: &str) -> PhoneNumber {
    PhoneNumber::parse(number).expect("a Kenyan mobile number")
}

fn shillings(amount: u32) -> Shillings {
    Shillings::new(amount).expect("an amount M-Pesa moves")
}

/// A push of `amount` from `payer`, calling back on `receiver`.
fn stk_push(receiver: &CallbackRecorder, payer: &str, amount: u32) -> StkPush {
    StkPush {
        amount: shillings(amount),
        phone: phone(payer),
        account_reference: "ORD7K2M9QX4P".into(),
        transaction_desc: "Order payment".into(),
        callback_url: receiver.url(STK),
    }
}

/// The C2B URLs on `receiver`, confirming every payment it does not reject.
fn c2b_urls(receiver: &CallbackRecorder) -> C2bUrls {
    C2bUrls {
        response_type: C2bResponseType::Completed,
        confirmation_url: receiver.url(CONFIRMATION),
        validation_url: receiver.url(VALIDATION),
    }
}

/// Registers `urls` three times at once on `daraja`; each call must be taken.
async fn register_three_at_once(daraja: &Daraja, urls: &C2bUrls, why: &str) {
    let register = || daraja.register_c2b_urls(urls);
    let (first, second, third) = tokio::join!(register(), register(), register());
    for result in [first, second, third] {
        result.expect(why);
    }
}

/// A stand-in, a receiver of its callbacks and a client of it.
struct World {
    stand_in: RunningMpesaSandbox,
    receiver: CallbackRecorder,
    /// Whether the receiver's C2B validation accepts.
    accept_c2b: Arc<AtomicBool>,
    daraja: Daraja,
}

impl World {
    async fn new() -> Self {
        Self::with(stand_in_config()).await
    }

    async fn with(config: MpesaSandboxConfig) -> Self {
        let stand_in = stand_in::start(config.clone(), 0).await.expect("stand-in");
        let daraja = Daraja::new(client_config(&stand_in.base_url, &config)).expect("client");
        let accept_c2b = Arc::new(AtomicBool::new(true));
        Self {
            stand_in,
            receiver: receiver(accept_c2b.clone()).await,
            accept_c2b,
            daraja,
        }
    }

    /// Makes the receiver's C2B validation accept, or reject with `C2B00012`.
    fn accept_c2b(&self, accept: bool) {
        self.accept_c2b.store(accept, Ordering::SeqCst);
    }

    fn push(&self, payer: &str, amount: u32) -> StkPush {
        stk_push(&self.receiver, payer, amount)
    }

    /// A push the stand-in accepted: its ids.
    async fn accepted_push(&self, payer: &str, amount: u32) -> StkAccepted {
        self.daraja
            .stk_push(&self.push(payer, amount))
            .await
            .expect("push accepted")
    }

    /// The callbacks of one prompt received so far, parsed.
    fn stk_callbacks(&self, checkout_id: &str) -> Vec<StkCallback> {
        self.receiver
            .bodies(STK)
            .iter()
            .map(|body| StkCallback::parse(body).expect("an STK callback of Daraja's shape"))
            .filter(|callback| callback.checkout_request_id == checkout_id)
            .collect()
    }

    /// Polls until the prompt's callback arrived.
    async fn stk_callback(&self, checkout_id: &str) -> StkCallback {
        callbacks::poll(async || self.stk_callbacks(checkout_id).into_iter().next())
            .await
            .unwrap_or_else(|| panic!("no callback for {checkout_id}"))
    }

    /// A paid prompt from `payer`: its receipt, once its callback arrived.
    async fn paid(&self, payer: &str, amount: u32) -> Receipt {
        let accepted = self.accepted_push(payer, amount).await;
        let callback = self.stk_callback(&accepted.checkout_request_id).await;
        callback.paid.expect("paid").receipt
    }

    fn reversal(&self, receipt: &Receipt, amount: u32) -> Reversal {
        Reversal {
            receipt: receipt.clone(),
            amount: shillings(amount),
            remarks: "Order cancelled".into(),
            occasion: "ORD7K2M9QX4P".into(),
            result_url: self.receiver.url(REVERSAL_RESULT),
            queue_timeout_url: self.receiver.url(REVERSAL_TIMEOUT),
        }
    }

    /// A reversal the stand-in accepted: its conversation ids.
    async fn accepted_reversal(&self, receipt: &Receipt, amount: u32) -> ReversalAccepted {
        self.daraja
            .reverse(&self.reversal(receipt, amount))
            .await
            .expect("reversal accepted")
    }

    /// The reversal results received so far, parsed.
    fn reversal_results(&self) -> Vec<ReversalResult> {
        self.receiver
            .bodies(REVERSAL_RESULT)
            .iter()
            .map(|body| ReversalResult::parse(body).expect("a reversal result of Daraja's shape"))
            .collect()
    }

    /// Polls until the result of the reversal `accepted` arrived.
    async fn reversal_result(&self, accepted: &ReversalAccepted) -> ReversalResult {
        callbacks::poll(async || {
            self.reversal_results()
                .into_iter()
                .find(|r| r.conversation_id == accepted.conversation_id)
        })
        .await
        .unwrap_or_else(|| panic!("no result for reversal {}", accepted.conversation_id))
    }

    /// Polls until the stand-in kept `n` deliveries of `kind`.
    async fn wait_for_deliveries(&self, kind: DeliveryKind, n: usize) {
        callbacks::poll(async || (self.stand_in.deliveries.of_kind(kind).len() >= n).then_some(()))
            .await
            .unwrap_or_else(|| panic!("{n} deliveries of {kind:?} expected"));
    }
}

/// Polls the query until the prompt is decided; every earlier answer must be `Pending`.
async fn completed(daraja: &Daraja, checkout_id: &str) -> (ResultCode, String) {
    callbacks::poll(async || {
        match daraja
            .stk_query(checkout_id)
            .await
            .expect("the query is answered")
        {
            StkQueryAnswer::Pending => None,
            StkQueryAnswer::Completed {
                result_code,
                result_desc,
            } => Some((result_code, result_desc)),
        }
    })
    .await
    .unwrap_or_else(|| panic!("{checkout_id} never decided"))
}

fn refusal(result: Result<impl std::fmt::Debug, DarajaError>) -> Refusal {
    match result {
        Err(DarajaError::Refused(refusal)) => refusal,
        other => panic!("not a refusal: {other:?}"),
    }
}

/// What a refusal says: (HTTP status, code, description).
fn refusal_parts(refused: &Refusal) -> (u16, &str, &str) {
    (
        refused.http_status,
        refused.code.as_str(),
        refused.description.as_str(),
    )
}

/// A port nothing listens on (bound, then let go).
async fn closed_port() -> std::net::SocketAddr {
    tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
}

// --- OAuth -----------------------------------------------------------------------------

#[tokio::test]
async fn one_token_serves_many_calls_and_is_renewed_before_it_lapses() {
    let config = stand_in_config();
    // `_sandbox`, not `..`: the stand-in must outlive the test.
    let Proxied {
        sandbox: _sandbox,
        proxy,
        receiver,
    } = Proxied::start(&config, None).await;
    let clock = TestClock::starting_now();
    let daraja = proxy.client_on(&config, &clock);
    let urls = c2b_urls(&receiver);
    let register = || daraja.register_c2b_urls(&urls);

    // Three calls at once on a client without a token: one token between them.
    register_three_at_once(&daraja, &urls, "a call on a new token").await;
    assert_eq!(
        proxy.count(stand_in::OAUTH_PATH),
        1,
        "three calls, one token"
    );
    register().await.expect("a later call");
    assert_eq!(proxy.count(stand_in::OAUTH_PATH), 1, "the token is kept");
    assert_eq!(proxy.count(stand_in::C2B_REGISTER_PATH), 4);

    // The stand-in's 3599 s token is renewed with a tenth of its life (359.9 s) left.
    clock.advance(Duration::from_secs(3239));
    register().await.expect("a call late in the token's life");
    assert_eq!(
        proxy.count(stand_in::OAUTH_PATH),
        1,
        "still fresh at 3239 s"
    );
    clock.advance(Duration::from_secs(1));
    register().await.expect("a call near the token's end");
    assert_eq!(proxy.count(stand_in::OAUTH_PATH), 2, "renewed at 3240 s");
    register().await.expect("a call on the new token");
    assert_eq!(proxy.count(stand_in::OAUTH_PATH), 2);
    assert_eq!(
        proxy.count(stand_in::C2B_REGISTER_PATH),
        7,
        "no call retried"
    );
    let tokens = proxy.tokens();
    assert_eq!(tokens.len(), 2);
    assert_ne!(tokens[0], tokens[1]);
}

/// The stand-in's tokens last 2 s here, but the proxy tells the client `"3599"` (as when
/// Daraja drops a token early): the client keeps it, the stand-in lets it lapse (polled
/// for). The one timing this leans on: a new token is used within its 2 s, by the
/// retry that directly follows its fetch.
#[tokio::test]
async fn a_token_the_stand_in_let_lapse_is_refetched_and_the_call_sent_once_more() {
    let config = MpesaSandboxConfig {
        token_lifetime: Duration::from_secs(2),
        ..stand_in_config()
    };
    let Proxied {
        sandbox,
        proxy,
        receiver,
    } = Proxied::start(&config, Some("3599")).await;
    let clock = TestClock::starting_now();
    let daraja = proxy.client_on(&config, &clock);
    let urls = c2b_urls(&receiver);
    daraja
        .register_c2b_urls(&urls)
        .await
        .expect("a call with a new token");
    let kept = proxy.tokens().last().cloned().expect("a token was issued");

    // Polls the stand-in itself until it no longer takes the kept token.
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let query = format!("{}{}", sandbox.base_url, stand_in::STK_QUERY_PATH);
    let refused: Value = callbacks::poll(async || {
        let response = http
            .post(&query)
            .bearer_auth(&kept)
            .json(&json!({}))
            .send()
            .await
            .expect("the stand-in answers");
        if response.status() != StatusCode::UNAUTHORIZED {
            return None;
        }
        Some(response.json().await.expect("JSON"))
    })
    .await
    .expect("the stand-in's token never lapsed");
    assert_eq!(refused["errorCode"], Refusal::INVALID_TOKEN, "{refused}");

    // Three calls at once, all on the lapsed token: each is refused with 404.001.03 and
    // sent once more, on one new token between them.
    let tokens_before = proxy.count(stand_in::OAUTH_PATH);
    let calls_before = proxy.count(stand_in::C2B_REGISTER_PATH);
    register_three_at_once(&daraja, &urls, "refused, then sent again with a new token").await;
    assert_eq!(proxy.count(stand_in::OAUTH_PATH), tokens_before + 1);
    assert_eq!(
        proxy.count(stand_in::C2B_REGISTER_PATH),
        calls_before + 6,
        "each sent twice: refused, then taken"
    );
    assert_ne!(proxy.tokens().last(), Some(&kept));
}

#[tokio::test]
async fn a_call_is_sent_at_most_twice_when_every_token_is_refused() {
    // Tokens that lapse as they are issued.
    let config = MpesaSandboxConfig {
        token_lifetime: Duration::ZERO,
        ..stand_in_config()
    };
    let Proxied {
        sandbox,
        proxy,
        receiver,
    } = Proxied::start(&config, None).await;
    let daraja = proxy.client(&config);
    let push = stk_push(&receiver, PAYER, 10);
    let error = daraja.stk_push(&push).await.expect_err("refused");
    let DarajaError::Refused(refused) = &error else {
        panic!("not a refusal: {error:?}");
    };
    assert!(refused.is_invalid_token(), "{refused}");
    assert_eq!(refused.http_status, 401);
    assert!(error.not_taken() && !error.is_transient());
    assert_eq!(proxy.count(stand_in::STK_PUSH_PATH), 2);
    assert_eq!(proxy.count(stand_in::OAUTH_PATH), 2);
    assert!(sandbox.deliveries.all().is_empty());
}

#[tokio::test]
async fn wrong_credentials_get_no_token_and_nothing_is_sent() {
    let config = stand_in_config();
    let Proxied {
        sandbox,
        proxy,
        receiver,
    } = Proxied::start(&config, None).await;
    let wrong = MpesaSandboxConfig {
        consumer_secret: "not-the-secret".into(),
        ..config
    };
    let daraja = proxy.client(&wrong);
    let push = stk_push(&receiver, PAYER, 10);
    let error = daraja.stk_push(&push).await.expect_err("no token");
    let DarajaError::NoToken(TokenFailure::Refused(refused)) = &error else {
        panic!("not a refused token: {error:?}");
    };
    assert_eq!(
        (refused.http_status, refused.code.as_str()),
        (400, "400.008.01")
    );
    assert!(error.not_taken() && !error.is_transient());
    assert_eq!(error.kind(), "token_refused");
    assert!(!error.to_string().contains("not-the-secret"));
    assert_eq!(proxy.count(stand_in::OAUTH_PATH), 1);
    assert_eq!(proxy.count(stand_in::STK_PUSH_PATH), 0, "nothing sent");
    assert!(sandbox.deliveries.all().is_empty());
}

// --- STK push and query ----------------------------------------------------------------

#[tokio::test]
async fn a_prompt_is_pending_until_decided_and_an_unknown_one_is_refused() {
    let world = World::with(MpesaSandboxConfig {
        decision_delay: Duration::from_secs(3600),
        ..stand_in_config()
    })
    .await;
    let accepted = world.accepted_push(PAYER, 10).await;
    for _ in 0..2 {
        assert_eq!(
            world.daraja.stk_query(&accepted.checkout_request_id).await,
            Ok(StkQueryAnswer::Pending)
        );
    }
    let refused = refusal(world.daraja.stk_query("ws_CO_000000000000").await);
    assert_eq!(
        refusal_parts(&refused),
        (400, "400.002.02", "Bad Request - Invalid CheckoutRequestID")
    );
}

#[tokio::test]
async fn a_paid_prompt_completes_and_calls_back_with_its_receipt_and_amount() {
    let world = World::new().await;
    let before = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second");
    let accepted = world.accepted_push(PAYER, 1499).await;
    assert!(
        accepted.checkout_request_id.starts_with("ws_CO_"),
        "{accepted:?}"
    );
    assert!(!accepted.merchant_request_id.is_empty());

    let (code, desc) = completed(&world.daraja, &accepted.checkout_request_id).await;
    assert!(code.is_success(), "{code}");
    assert_eq!(code.as_str(), "0");
    assert_eq!(desc, PROCESSED);

    let callback = world.stk_callback(&accepted.checkout_request_id).await;
    let after = OffsetDateTime::now_utc();
    assert_eq!(callback.merchant_request_id, accepted.merchant_request_id);
    assert!(callback.result_code.is_success());
    assert_eq!(callback.result_desc, PROCESSED);
    let paid = callback.paid.expect("paid");
    assert_eq!(paid.amount, shillings(1499).to_money());
    assert_eq!(paid.receipt.as_str().len(), 10, "{:?}", paid.receipt);
    // Written and read as Nairobi time: the same instant, not three hours off.
    let paid_at = paid.transaction_date.expect("a transaction date");
    assert!(before <= paid_at && paid_at <= after, "{paid_at}");
    assert_eq!(paid.phone.as_deref(), Some("254712345678"));
}

#[tokio::test]
async fn scripted_failures_complete_with_their_codes_and_no_payment() {
    let world = World::new().await;
    for (payer, code) in [
        ("+254700001032", 1032),
        ("+254700000001", 1),
        ("+254700002001", 2001),
        ("+254700001037", 1037),
    ] {
        let accepted = world.accepted_push(payer, 10).await;
        let (result_code, result_desc) =
            completed(&world.daraja, &accepted.checkout_request_id).await;
        assert_eq!(result_code, ResultCode::from_number(code), "{payer}");
        assert!(!result_code.is_success());
        let callback = world.stk_callback(&accepted.checkout_request_id).await;
        assert_eq!(
            callback.result_code,
            ResultCode::from_number(code),
            "{payer}"
        );
        assert_eq!(callback.result_desc, result_desc, "{payer}");
        assert_eq!(callback.paid, None, "{payer}");
    }
}

#[tokio::test]
async fn a_0404_prompt_succeeds_without_calling_back() {
    let world = World::new().await;
    let silent = world.accepted_push("+254700000404", 10).await;
    let (code, _) = completed(&world.daraja, &silent.checkout_request_id).await;
    assert!(code.is_success(), "{code}");
    // Barrier: a prompt pushed after the silent one was decided calls back.
    world.paid(PAYER, 10).await;
    assert!(world.stk_callbacks(&silent.checkout_request_id).is_empty());
    assert_eq!(
        world.stand_in.deliveries.of_kind(DeliveryKind::Stk).len(),
        1
    );
}

#[tokio::test]
async fn a_0002_prompt_calls_back_twice_with_one_receipt() {
    let world = World::new().await;
    let accepted = world.accepted_push("+254700000002", 25).await;
    world.receiver.wait_for(STK, 2).await;
    let callbacks = world.stk_callbacks(&accepted.checkout_request_id);
    assert_eq!(callbacks.len(), 2);
    assert_eq!(callbacks[0], callbacks[1]);
    let paid = callbacks[0].paid.as_ref().expect("paid");
    assert_eq!(paid.amount, shillings(25).to_money());
    let (code, _) = completed(&world.daraja, &accepted.checkout_request_id).await;
    assert!(code.is_success());
}

#[tokio::test]
async fn the_limit_is_the_stand_ins_and_a_wrong_passkey_is_refused() {
    assert_eq!(Shillings::new(250_001), Err(InvalidShillings::AboveMaximum));
    assert_eq!(u64::from(MAX_SHILLINGS), stand_in::MAX_AMOUNT);
    let world = World::new().await;

    let wrong = MpesaSandboxConfig {
        passkey: "not-the-passkey".into(),
        ..stand_in_config()
    };
    let daraja = Daraja::new(client_config(&world.stand_in.base_url, &wrong)).expect("client");
    for result in [
        daraja.stk_push(&world.push(PAYER, 10)).await.map(drop),
        daraja.stk_query("ws_CO_000000000000").await.map(drop),
    ] {
        let error = result.expect_err("refused");
        assert!(error.not_taken() && !error.is_transient(), "{error}");
        let refused = refusal(Err::<(), _>(error));
        assert_eq!(
            refusal_parts(&refused),
            (400, "400.002.02", "Bad Request - Invalid Password")
        );
    }

    // The most M-Pesa moves is taken; barrier: the refused push was never decided.
    let receipt = world.paid(PAYER, MAX_SHILLINGS).await;
    assert!(!receipt.as_str().is_empty());
    let deliveries = world.stand_in.deliveries.of_kind(DeliveryKind::Stk);
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"],
        json!(250_000.0)
    );
}

#[tokio::test]
async fn an_unreachable_daraja_is_no_token_before_sending_and_no_answer_after() {
    let config = stand_in_config();
    let receiver = accepting_receiver().await;
    let push = stk_push(&receiver, PAYER, 10);

    // Nothing listens: no token, so the push itself was certainly never sent.
    let nowhere = Daraja::new(client_config(
        &format!("http://{}", closed_port().await),
        &config,
    ))
    .expect("client");
    for error in [
        nowhere.stk_push(&push).await.expect_err("unreachable"),
        nowhere.stk_query("ws_CO_1").await.expect_err("unreachable"),
    ] {
        assert_eq!(
            error,
            DarajaError::NoToken(TokenFailure::NoAnswer(NoAnswer::Unreachable))
        );
        assert!(error.not_taken() && error.is_transient(), "{error}");
    }

    // With a token in hand, a push to a stand-in gone away may have been taken.
    let sandbox = stand_in::start(config.clone(), 0).await.expect("stand-in");
    let daraja = Daraja::new(client_config(&sandbox.base_url, &config)).expect("client");
    daraja
        .register_c2b_urls(&c2b_urls(&receiver))
        .await
        .expect("a call fetching the token");
    let address = sandbox.base_url.trim_start_matches("http://").to_owned();
    drop(sandbox);
    callbacks::poll(async || {
        let refused = tokio::net::TcpStream::connect(&address).await.is_err();
        refused.then_some(())
    })
    .await
    .expect("the stand-in still listens");
    let error = daraja.stk_push(&push).await.expect_err("no answer");
    assert_eq!(error, DarajaError::NoAnswer(NoAnswer::Unreachable));
    assert!(!error.not_taken() && error.is_transient());
    let error = daraja.stk_query("ws_CO_1").await.expect_err("no answer");
    assert!(matches!(error, DarajaError::NoAnswer(_)), "{error}");
    assert!(error.is_transient());
}

// --- C2B -------------------------------------------------------------------------------

impl World {
    async fn register_c2b(&self) {
        self.daraja
            .register_c2b_urls(&c2b_urls(&self.receiver))
            .await
            .expect("URLs registered");
    }

    async fn simulate_c2b(&self, amount: u32, bill_ref_number: &str) {
        self.daraja
            .simulate_c2b(&C2bSimulation {
                amount: shillings(amount),
                payer: phone("+254712345126"),
                bill_ref_number: bill_ref_number.into(),
            })
            .await
            .expect("payment simulated");
    }
}

#[tokio::test]
async fn a_paybill_payment_is_validated_then_confirmed() {
    let world = World::new().await;
    world.register_c2b().await;
    let before = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second");
    world.simulate_c2b(500, "ORD7K2M9QX4P").await;

    let confirmations = world.receiver.wait_for(CONFIRMATION, 1).await;
    let after = OffsetDateTime::now_utc();
    let confirmation = C2bPayment::parse(&confirmations[0]).expect("a confirmation");
    assert_eq!(confirmation.amount, shillings(500).to_money());
    assert_eq!(confirmation.bill_ref_number, "ORD7K2M9QX4P");
    assert_eq!(confirmation.msisdn.as_deref(), Some("2547 ***** 126"));
    assert_eq!(
        confirmation.business_short_code,
        stand_in::SANDBOX_SHORTCODE
    );
    assert_eq!(confirmation.transaction_type.as_deref(), Some("Pay Bill"));
    let paid_at = confirmation.trans_time.expect("a transaction time");
    assert!(before <= paid_at && paid_at <= after, "{paid_at}");
    assert!(confirmation.payer_name.is_some());
    assert_eq!(confirmation.trans_id.as_str().len(), 10);

    let validations = world.receiver.bodies(VALIDATION);
    assert_eq!(validations.len(), 1);
    let validation = C2bPayment::parse(&validations[0]).expect("a validation");
    assert_eq!(
        validation, confirmation,
        "the same payment, asked then told"
    );
    let kinds: Vec<DeliveryKind> = world
        .stand_in
        .deliveries
        .all()
        .iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(
        kinds,
        [DeliveryKind::C2bValidation, DeliveryKind::C2bConfirmation]
    );
}

#[tokio::test]
async fn a_paybill_payment_rejected_at_validation_is_never_confirmed() {
    let world = World::new().await;
    world.register_c2b().await;
    world.accept_c2b(false);
    world.simulate_c2b(300, "NO-SUCH-ORDER").await;
    world
        .wait_for_deliveries(DeliveryKind::C2bValidation, 1)
        .await;
    let validation = &world
        .stand_in
        .deliveries
        .of_kind(DeliveryKind::C2bValidation)[0];
    assert_eq!(validation.status, Some(200));
    assert_eq!(validation.body["BillRefNumber"], "NO-SUCH-ORDER");

    // Barrier: a later payment, accepted, is confirmed; the rejected one never was.
    world.accept_c2b(true);
    world.simulate_c2b(200, "ORD2").await;
    let confirmations = world.receiver.wait_for(CONFIRMATION, 1).await;
    assert_eq!(confirmations.len(), 1);
    let confirmed = C2bPayment::parse(&confirmations[0]).expect("a confirmation");
    assert_eq!(confirmed.bill_ref_number, "ORD2");
    assert_eq!(
        world
            .stand_in
            .deliveries
            .of_kind(DeliveryKind::C2bConfirmation)
            .len(),
        1
    );
}

// --- Reversal --------------------------------------------------------------------------

#[tokio::test]
async fn a_paid_prompt_is_reversed_once() {
    let world = World::new().await;
    let receipt = world.paid(PAYER, 70).await;

    let accepted = world.accepted_reversal(&receipt, 70).await;
    assert!(accepted.conversation_id.starts_with("AG_"), "{accepted:?}");
    assert!(!accepted.originator_conversation_id.is_empty());
    let result = world.reversal_result(&accepted).await;
    assert!(result.result_code.is_success(), "{result:?}");
    assert_eq!(result.result_desc, PROCESSED);
    assert_eq!(
        result.originator_conversation_id,
        accepted.originator_conversation_id
    );
    assert_eq!(
        result.original_transaction_id.as_deref(),
        Some(receipt.as_str())
    );
    assert!(
        result
            .transaction_id
            .as_deref()
            .is_some_and(|id| id != receipt.as_str()),
        "{result:?}"
    );

    let again = world.accepted_reversal(&receipt, 70).await;
    let result = world.reversal_result(&again).await;
    assert!(result.result_code.is_already_reversed(), "{result:?}");
    assert!(!result.result_code.is_success());
    assert!(world.receiver.bodies(REVERSAL_TIMEOUT).is_empty());
}

#[tokio::test]
async fn an_unknown_receipt_is_not_reversed() {
    let world = World::new().await;
    let unknown = Receipt::parse("SLNEVER123").expect("receipt");
    let accepted = world.accepted_reversal(&unknown, 70).await;
    let result = world.reversal_result(&accepted).await;
    assert_eq!(result.result_code.as_str(), "R000002");
    assert!(!result.result_code.is_success() && !result.result_code.is_already_reversed());
    assert_eq!(result.original_transaction_id, None);
}

#[tokio::test]
async fn a_0003_reversal_is_accepted_and_never_answered() {
    let world = World::new().await;
    let receipt = world.paid("+254700000003", 40).await;
    let silent = world.accepted_reversal(&receipt, 40).await;

    // Barrier: a reversal requested after it is answered; the silent one never is.
    let unknown = Receipt::parse("SLNEVER123").expect("receipt");
    let later = world.accepted_reversal(&unknown, 40).await;
    world.reversal_result(&later).await;
    let results = world.reversal_results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].conversation_id, later.conversation_id);
    let delivered = world
        .stand_in
        .deliveries
        .of_kind(DeliveryKind::ReversalResult);
    assert_eq!(delivered.len(), 1);
    assert_ne!(
        delivered[0].body["Result"]["ConversationID"],
        json!(silent.conversation_id)
    );
    assert!(world.receiver.bodies(REVERSAL_TIMEOUT).is_empty());
}
