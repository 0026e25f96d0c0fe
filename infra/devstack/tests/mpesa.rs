//! The M-Pesa Daraja stand-in over real HTTP, in Daraja's raw JSON (so these tests pin
//! the wire format), with a recorder of callbacks on 127.0.0.1
//! ([`testkit::callbacks::CallbackRecorder`]) that keeps every callback it gets and
//! answers C2B validations (a `BillRefNumber` starting with `REJECT` is refused with
//! `C2B00012`); on `/broken` it answers HTTP 500.
//!
//! Every test has a stand-in of its own with a decision delay of a few tens of
//! milliseconds. No test sleeps a fixed time or bounds one: a test waiting for a callback,
//! a delivery or a decision polls for it ([`callbacks::poll`]: [`callbacks::POLL_TRIES`]
//! looks, [`callbacks::POLL_EVERY`] apart), and "never sent" is read after a later
//! callback of the same stand-in arrived (a barrier), or with a decision delay of an hour
//! for "not decided yet".

use std::time::Duration;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use devstack::mpesa::{self, Delivery, DeliveryKind, MpesaSandboxConfig, RunningMpesaSandbox};
use serde_json::{Value, json};
use testkit::callbacks::{self, CallbackRecorder};

const SHORTCODE: &str = "174379";
const PASSKEY: &str = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";
const TIMESTAMP: &str = "20240101120000";
const KEY: &str = "test-consumer-key";
const SECRET: &str = "test-consumer-secret";
const INITIATOR: &str = "testapi";
const CREDENTIAL: &str = "test-security-credential";
const PAYER: &str = "254708374149";

/// Daraja's paths.
const STK_PUSH: &str = "/mpesa/stkpush/v1/processrequest";
const STK_QUERY: &str = "/mpesa/stkpushquery/v1/query";
const REGISTER: &str = "/mpesa/c2b/v1/registerurl";
const SIMULATE: &str = "/mpesa/c2b/v1/simulate";
const REVERSAL: &str = "/mpesa/reversal/v1/request";

/// The shop's answer to a callback on `path`: HTTP 500 on `/broken`, a C2B rejection
/// (`C2B00012`) of a `BillRefNumber` starting with `REJECT`, otherwise accepted.
fn answer(path: &str, body: &[u8]) -> (StatusCode, String) {
    let body: Value = serde_json::from_slice(body).expect("a callback is JSON");
    let rejected = body["BillRefNumber"]
        .as_str()
        .is_some_and(|r| r.starts_with("REJECT"));
    if path == "/broken" {
        (StatusCode::INTERNAL_SERVER_ERROR, json!({}).to_string())
    } else if rejected {
        let answer = json!({"ResultCode": "C2B00012", "ResultDesc": "Rejected"});
        (StatusCode::OK, answer.to_string())
    } else {
        let answer = json!({"ResultCode": 0, "ResultDesc": "Accepted"});
        (StatusCode::OK, answer.to_string())
    }
}

/// A stand-in, a recorder of its callbacks and a token.
struct World {
    sandbox: RunningMpesaSandbox,
    receiver: CallbackRecorder,
    http: reqwest::Client,
    token: String,
}

fn config() -> MpesaSandboxConfig {
    MpesaSandboxConfig {
        consumer_key: KEY.into(),
        consumer_secret: SECRET.into(),
        shortcode: SHORTCODE.into(),
        passkey: PASSKEY.into(),
        initiator_name: INITIATOR.into(),
        security_credential: CREDENTIAL.into(),
        token_lifetime: Duration::from_secs(3599),
        decision_delay: Duration::from_millis(20),
    }
}

fn password() -> String {
    BASE64.encode(format!("{SHORTCODE}{PASSKEY}{TIMESTAMP}"))
}

impl World {
    async fn new() -> Self {
        Self::with(config()).await
    }

    async fn with(config: MpesaSandboxConfig) -> Self {
        let sandbox = mpesa::start(config, 0).await.expect("start");
        let receiver = CallbackRecorder::start(answer).await;
        let http = reqwest::Client::new();
        let mut world = Self {
            sandbox,
            receiver,
            http,
            token: String::new(),
        };
        world.token = world.new_token().await;
        world
    }

    async fn oauth(&self, auth: Option<(&str, &str)>, query: &str) -> reqwest::Response {
        let mut request = self.http.get(format!(
            "{}/oauth/v1/generate{query}",
            self.sandbox.base_url
        ));
        if let Some((key, secret)) = auth {
            request = request.basic_auth(key, Some(secret));
        }
        request.send().await.expect("oauth request")
    }

    /// A token asked for with the right credentials: Daraja's answer.
    async fn token_answer(&self) -> Value {
        let response = self
            .oauth(Some((KEY, SECRET)), "?grant_type=client_credentials")
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON")
    }

    async fn new_token(&self) -> String {
        let body = self.token_answer().await;
        body["access_token"].as_str().expect("token").to_owned()
    }

    /// POSTs `body` to `path` with `token`: (HTTP status, JSON body).
    async fn post_as(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.sandbox.base_url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON answer"))
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_as(&self.token, path, body).await
    }

    /// POSTs `body` to `path`, which Daraja must take (HTTP 200): its answer.
    async fn accepted(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    fn url(&self, path: &str) -> String {
        self.receiver.url(path).to_string()
    }

    fn push_body(&self, phone: &str, amount: Value) -> Value {
        json!({
            "BusinessShortCode": SHORTCODE,
            "Password": password(),
            "Timestamp": TIMESTAMP,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": amount,
            "PartyA": phone,
            "PartyB": SHORTCODE,
            "PhoneNumber": phone,
            "CallBackURL": self.url("/stk"),
            "AccountReference": "ORD12345",
            "TransactionDesc": "Order payment",
        })
    }

    /// An accepted STK push: Daraja's answer.
    async fn push(&self, phone: &str, amount: u64) -> Value {
        let body = self.push_body(phone, json!(amount));
        self.accepted(STK_PUSH, &body).await
    }

    async fn query(&self, checkout_id: &str) -> (u16, Value) {
        let body = json!({
            "BusinessShortCode": SHORTCODE,
            "Password": password(),
            "Timestamp": TIMESTAMP,
            "CheckoutRequestID": checkout_id,
        });
        self.post(STK_QUERY, &body).await
    }

    /// Polls the query until the prompt is decided: its 200 answer.
    async fn decided(&self, checkout_id: &str) -> Value {
        callbacks::poll(async || {
            let (status, answer) = self.query(checkout_id).await;
            if status == 200 {
                return Some(answer);
            }
            assert_eq!(status, 500, "{answer}");
            None
        })
        .await
        .unwrap_or_else(|| panic!("{checkout_id} never decided"))
    }

    /// The callbacks of one prompt received so far.
    fn stk_callbacks(&self, checkout_id: &str) -> Vec<Value> {
        self.receiver
            .json("/stk")
            .into_iter()
            .filter(|c| c["Body"]["stkCallback"]["CheckoutRequestID"] == checkout_id)
            .collect()
    }

    /// Polls until the prompt's callback arrived: its `stkCallback`.
    async fn stk_callback(&self, checkout_id: &str) -> Value {
        callbacks::poll(async || {
            let callback = self.stk_callbacks(checkout_id).into_iter().next()?;
            Some(callback["Body"]["stkCallback"].clone())
        })
        .await
        .unwrap_or_else(|| panic!("no callback for {checkout_id}"))
    }

    /// A successful prompt from `phone`: its receipt, once its callback arrived.
    async fn paid(&self, phone: &str, amount: u64) -> String {
        let answer = self.push(phone, amount).await;
        let callback = self.stk_callback(checkout_id(&answer)).await;
        receipt_of(&callback)
    }

    /// A registration of this shortcode's C2B URLs: confirmations to the recorder's
    /// `/c2b/confirmation`, validations to `validation_url`.
    fn registration(&self, response_type: &str, validation_url: &str) -> Value {
        json!({
            "ShortCode": SHORTCODE,
            "ResponseType": response_type,
            "ConfirmationURL": self.url("/c2b/confirmation"),
            "ValidationURL": validation_url,
        })
    }

    async fn register(&self, response_type: &str, validation_path: &str) -> (u16, Value) {
        let body = self.registration(response_type, &self.url(validation_path));
        self.post(REGISTER, &body).await
    }

    async fn simulate(&self, amount: u64, bill_ref: &str) -> (u16, Value) {
        let body = json!({
            "ShortCode": SHORTCODE,
            "CommandID": "CustomerPayBillOnline",
            "Amount": amount,
            "Msisdn": "254712345126",
            "BillRefNumber": bill_ref,
        });
        self.post(SIMULATE, &body).await
    }

    fn reversal_body(&self, receipt: &str, amount: u64) -> Value {
        json!({
            "Initiator": INITIATOR,
            "SecurityCredential": CREDENTIAL,
            "CommandID": "TransactionReversal",
            "TransactionID": receipt,
            "Amount": amount,
            "ReceiverParty": SHORTCODE,
            "RecieverIdentifierType": "11",
            "ResultURL": self.url("/reversal/result"),
            "QueueTimeOutURL": self.url("/reversal/timeout"),
            "Remarks": "Order cancelled",
            "Occasion": "ORD12345",
        })
    }

    /// An accepted reversal: Daraja's answer.
    async fn reverse(&self, receipt: &str, amount: u64) -> Value {
        let body = self.reversal_body(receipt, amount);
        self.accepted(REVERSAL, &body).await
    }

    /// Polls until the stand-in kept `n` deliveries of `kind`, and returns them.
    async fn deliveries(&self, kind: DeliveryKind, n: usize) -> Vec<Delivery> {
        callbacks::poll(async || {
            Some(self.sandbox.deliveries.of_kind(kind)).filter(|kept| kept.len() >= n)
        })
        .await
        .unwrap_or_else(|| panic!("{n} deliveries of {kind:?} expected"))
    }

    /// Polls until the result of the reversal `answer` arrived: its `Result`.
    async fn reversal_result(&self, answer: &Value) -> Value {
        let conversation = &answer["ConversationID"];
        callbacks::poll(async || {
            let results = self.receiver.json("/reversal/result");
            let result = results
                .iter()
                .find(|r| r["Result"]["ConversationID"] == *conversation)?;
            Some(result["Result"].clone())
        })
        .await
        .unwrap_or_else(|| panic!("no reversal result for {answer}"))
    }
}

/// The checkout id of an accepted STK push.
fn checkout_id(answer: &Value) -> &str {
    answer["CheckoutRequestID"].as_str().expect("a checkout id")
}

/// `body` with `field` set to `value`.
fn with_field(body: &Value, field: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[field] = value;
    body
}

/// A port nothing listens on (bound, then let go).
async fn closed_port() -> std::net::SocketAddr {
    tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
}

fn metadata(callback: &Value, name: &str) -> Value {
    callback["CallbackMetadata"]["Item"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["Name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {callback}"))
        .get("Value")
        .cloned()
        .unwrap_or(Value::Null)
}

fn receipt_of(callback: &Value) -> String {
    metadata(callback, "MpesaReceiptNumber")
        .as_str()
        .expect("receipt")
        .to_owned()
}

fn is_receipt(s: &str) -> bool {
    s.len() == 10
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn is_daraja_time(s: &str) -> bool {
    s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit())
}

fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str, message: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["errorMessage"], message, "{body}");
    assert!(
        body["requestId"].as_str().is_some_and(|id| !id.is_empty()),
        "{body}"
    );
}

/// Daraja's refusal of a request whose `field` is bad: HTTP 400 `400.002.02`.
fn assert_invalid(status: u16, body: &Value, field: &str) {
    let message = format!("Bad Request - Invalid {field}");
    assert_error(status, body, 400, "400.002.02", &message);
}

// --- OAuth -------------------------------------------------------------------------------

#[tokio::test]
async fn the_right_credentials_get_a_token_whose_lifetime_is_a_string() {
    let world = World::new().await;
    let body = world.token_answer().await;
    assert_eq!(body["expires_in"], "3599");
    let token = body["access_token"].as_str().expect("a string token");
    assert!(token.len() >= 20 && token.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(token, world.token);
    let (status, _) = world.post_as(token, STK_QUERY, &json!({})).await;
    assert_eq!(status, 400, "a good token passes, the empty body does not");
}

#[tokio::test]
async fn wrong_credentials_or_grant_type_get_darajas_400() {
    let world = World::new().await;
    for (auth, query) in [
        (Some((KEY, "wrong")), "?grant_type=client_credentials"),
        (Some(("wrong", SECRET)), "?grant_type=client_credentials"),
        (None, "?grant_type=client_credentials"),
        (Some((KEY, SECRET)), "?grant_type=password"),
        (Some((KEY, SECRET)), ""),
    ] {
        let response = world.oauth(auth, query).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON");
        assert_error(
            status,
            &body,
            400,
            "400.008.01",
            "Invalid Authentication passed",
        );
    }
}

#[tokio::test]
async fn daraja_paths_need_a_token_it_issued() {
    let world = World::new().await;
    let body = world.push_body(PAYER, json!(1));
    for token in ["", "made-up-token", &format!("{}x", world.token)] {
        let (status, answer) = world.post_as(token, STK_PUSH, &body).await;
        assert_error(status, &answer, 401, "404.001.03", "Invalid Access Token");
    }
    let response = world
        .http
        .post(format!("{}{REVERSAL}", world.sandbox.base_url))
        .json(&json!({}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_token_stops_working_when_its_lifetime_ends() {
    let world = World::with(MpesaSandboxConfig {
        token_lifetime: Duration::from_millis(50),
        ..config()
    })
    .await;
    // A query of a prompt it never saw: 400 while the token works, then 401.
    let refused = callbacks::poll(async || {
        let (status, answer) = world.query("ws_CO_000").await;
        if status == 401 {
            return Some(answer);
        }
        assert_eq!(status, 400, "{answer}");
        None
    })
    .await
    .expect("the token never expired");
    assert_error(401, &refused, 401, "404.001.03", "Invalid Access Token");
}

// --- STK push ----------------------------------------------------------------------------

#[tokio::test]
async fn an_stk_push_is_accepted_with_darajas_ids() {
    let world = World::new().await;
    let answer = world.push(PAYER, 1).await;
    assert_eq!(answer["ResponseCode"], "0");
    assert_eq!(
        answer["ResponseDescription"],
        "Success. Request accepted for processing"
    );
    assert_eq!(
        answer["CustomerMessage"],
        "Success. Request accepted for processing"
    );
    let merchant = answer["MerchantRequestID"].as_str().expect("merchant id");
    let parts: Vec<&str> = merchant.split('-').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u64>().is_ok()),
        "{merchant}"
    );
    let checkout = answer["CheckoutRequestID"].as_str().expect("checkout id");
    let digits = checkout.strip_prefix("ws_CO_").expect("ws_CO_ prefix");
    assert!(
        digits.len() > 14 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{checkout}"
    );
    // An amount as a numeric string is taken too, and the highest amount.
    for amount in [json!("10"), json!(250_000)] {
        world
            .accepted(STK_PUSH, &world.push_body(PAYER, amount))
            .await;
    }
}

#[tokio::test]
async fn a_bad_field_is_refused_with_darajas_code() {
    let world = World::new().await;
    let good = world.push_body(PAYER, json!(1));
    let with = |field: &str, value: Value| with_field(&good, field, value);
    let wrong_password = BASE64.encode(format!("{SHORTCODE}not-the-passkey{TIMESTAMP}"));
    for (body, field) in [
        (with("Password", json!(wrong_password)), "Password"),
        (with("Timestamp", json!("20240101120001")), "Password"),
        (with("Timestamp", json!("2024010112")), "Timestamp"),
        (
            with("BusinessShortCode", json!("600000")),
            "BusinessShortCode",
        ),
        (with("PhoneNumber", json!("0712345678")), "PhoneNumber"),
        (with("PhoneNumber", json!("254812345678")), "PhoneNumber"),
        (with("PartyA", json!("25470837414")), "PartyA"),
        (with("Amount", json!(250_001)), "Amount"),
        (with("Amount", json!(0)), "Amount"),
        (with("Amount", json!("1.5")), "Amount"),
        (
            with("CallBackURL", json!("ftp://example.com/cb")),
            "CallBackURL",
        ),
        (
            with("AccountReference", json!("ABCDEFGHIJKLM")),
            "AccountReference",
        ),
        (
            with("TransactionDesc", json!("ABCDEFGHIJKLMN")),
            "TransactionDesc",
        ),
        (with("TransactionDesc", json!("")), "TransactionDesc"),
        (
            with("TransactionType", json!("CustomerBuyGoods")),
            "TransactionType",
        ),
    ] {
        let (status, answer) = world.post(STK_PUSH, &body).await;
        assert_invalid(status, &answer, field);
    }
    assert!(world.sandbox.deliveries.all().is_empty());
}

#[tokio::test]
async fn the_query_answers_500_until_the_prompt_is_decided() {
    let world = World::with(MpesaSandboxConfig {
        decision_delay: Duration::from_secs(3600),
        ..config()
    })
    .await;
    let answer = world.push(PAYER, 1).await;
    let (status, body) = world.query(checkout_id(&answer)).await;
    assert_error(
        status,
        &body,
        500,
        "500.001.1001",
        "The transaction is being processed",
    );
    let (status, body) = world.query("ws_CO_01012024120000123456").await;
    assert_invalid(status, &body, "CheckoutRequestID");
}

#[tokio::test]
async fn a_successful_prompt_calls_back_with_receipt_amount_and_phone() {
    let world = World::new().await;
    let answer = world.push(PAYER, 1).await;
    let checkout_id = checkout_id(&answer);
    let callback = world.stk_callback(checkout_id).await;
    assert_eq!(callback["MerchantRequestID"], answer["MerchantRequestID"]);
    assert_eq!(callback["ResultCode"], 0);
    assert!(callback["ResultCode"].is_number());
    assert_eq!(
        callback["ResultDesc"],
        "The service request is processed successfully."
    );
    assert_eq!(metadata(&callback, "Amount").as_f64(), Some(1.0));
    assert!(is_receipt(&receipt_of(&callback)), "{callback}");
    assert_eq!(metadata(&callback, "Balance"), Value::Null);
    let date = metadata(&callback, "TransactionDate");
    assert!(
        date.as_u64()
            .is_some_and(|d| is_daraja_time(&d.to_string())),
        "{callback}"
    );
    assert_eq!(
        metadata(&callback, "PhoneNumber"),
        json!(254_708_374_149_u64)
    );

    let query = world.decided(checkout_id).await;
    assert_eq!(query["ResponseCode"], "0");
    assert_eq!(
        query["ResponseDescription"],
        "The service request has been accepted successsfully"
    );
    assert_eq!(query["ResultCode"], "0");
    assert_eq!(
        query["ResultDesc"],
        "The service request is processed successfully."
    );
    assert_eq!(query["MerchantRequestID"], answer["MerchantRequestID"]);
    assert_eq!(query["CheckoutRequestID"], checkout_id);

    let deliveries = world.sandbox.deliveries.of_kind(DeliveryKind::Stk);
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].delivered());
    assert_eq!(deliveries[0].url, world.url("/stk"));
    assert_eq!(deliveries[0].body["Body"]["stkCallback"], callback);
    let listed: Vec<Value> = reqwest::get(format!("{}/deliveries", world.sandbox.base_url))
        .await
        .expect("GET /deliveries")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["kind"], "stk");
    assert_eq!(listed[0]["status"], 200);
}

#[tokio::test]
async fn the_scripted_failures_follow_the_last_four_digits() {
    let world = World::new().await;
    for (phone, code, desc) in [
        ("254700001032", 1032, "Request cancelled by user"),
        (
            "254700000001",
            1,
            "The balance is insufficient for the transaction",
        ),
        (
            "254700002001",
            2001,
            "The initiator information is invalid.",
        ),
        ("254700001037", 1037, "DS timeout user cannot be reached"),
    ] {
        let answer = world.push(phone, 5).await;
        let checkout_id = checkout_id(&answer);
        let callback = world.stk_callback(checkout_id).await;
        assert_eq!(callback["ResultCode"], json!(code), "{phone}");
        assert_eq!(callback["ResultDesc"], desc, "{phone}");
        assert!(callback.get("CallbackMetadata").is_none(), "{callback}");
        let query = world.decided(checkout_id).await;
        assert_eq!(query["ResultCode"], json!(code.to_string()), "{phone}");
        assert_eq!(query["ResultDesc"], desc, "{phone}");
    }
}

#[tokio::test]
async fn a_0404_prompt_succeeds_but_never_calls_back() {
    let world = World::new().await;
    let silent = world.push("254700000404", 5).await;
    let silent_id = checkout_id(&silent);
    let query = world.decided(silent_id).await;
    assert_eq!(query["ResultCode"], "0");
    // Barrier: a prompt pushed after the silent one was decided calls back after it.
    world.paid(PAYER, 5).await;
    assert!(world.stk_callbacks(silent_id).is_empty());
    assert_eq!(world.sandbox.deliveries.of_kind(DeliveryKind::Stk).len(), 1);
}

#[tokio::test]
async fn a_0002_prompt_calls_back_twice_with_one_receipt() {
    let world = World::new().await;
    let answer = world.push("254700000002", 5).await;
    let checkout_id = checkout_id(&answer);
    world.receiver.wait_for("/stk", 2).await;
    let callbacks = world.stk_callbacks(checkout_id);
    assert_eq!(callbacks.len(), 2);
    assert_eq!(callbacks[0], callbacks[1]);
    let callback = &callbacks[0]["Body"]["stkCallback"];
    assert_eq!(callback["ResultCode"], 0);
    assert!(is_receipt(&receipt_of(callback)));
}

#[tokio::test]
async fn a_failed_callback_is_kept_and_the_stand_in_goes_on() {
    let world = World::new().await;
    let closed = closed_port().await;
    let mut body = world.push_body(PAYER, json!(5));
    body["CallBackURL"] = json!(format!("http://{closed}/stk"));
    world.accepted(STK_PUSH, &body).await;
    let refused = world.deliveries(DeliveryKind::Stk, 1).await;
    assert_eq!(refused.len(), 1, "the failed delivery is kept");
    assert!(!refused[0].delivered() && refused[0].status.is_none() && refused[0].error.is_some());
    body["CallBackURL"] = json!(world.url("/broken"));
    world.accepted(STK_PUSH, &body).await;
    let answered_500 = world.deliveries(DeliveryKind::Stk, 2).await;
    assert_eq!(answered_500[1].status, Some(500));
    assert!(!answered_500[1].delivered());
    // Neither is retried, and the stand-in still serves.
    world.paid(PAYER, 5).await;
    let deliveries = world.sandbox.deliveries.of_kind(DeliveryKind::Stk);
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries[2].delivered());
    assert_eq!(world.receiver.bodies("/broken").len(), 1);
}

// --- C2B ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_paybill_payment_is_validated_then_confirmed() {
    let world = World::new().await;
    let (status, answer) = world.register("Completed", "/c2b/validation").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ResponseCode"], "0");
    assert_eq!(answer["ResponseDescription"], "Success");
    assert!(answer["OriginatorCoversationID"].is_string(), "{answer}");

    let (status, answer) = world.simulate(500, "ORD12345").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ResponseCode"], "0");
    assert_eq!(
        answer["ResponseDescription"],
        "Accept the service request successfully."
    );
    assert!(answer["OriginatorCoversationID"].is_string(), "{answer}");

    let confirmation = world.receiver.wait_for_json("/c2b/confirmation", 1).await[0].clone();
    let validation = world.receiver.json("/c2b/validation")[0].clone();
    for body in [&validation, &confirmation] {
        assert_eq!(body["TransactionType"], "Pay Bill");
        assert_eq!(body["TransAmount"], "500.00");
        assert_eq!(body["BusinessShortCode"], SHORTCODE);
        assert_eq!(body["BillRefNumber"], "ORD12345");
        assert_eq!(body["MSISDN"], "2547 ***** 126");
        assert_eq!(body["InvoiceNumber"], "");
        assert_eq!(body["ThirdPartyTransID"], "");
        assert!(body["FirstName"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(is_daraja_time(
            body["TransTime"].as_str().expect("TransTime")
        ));
        assert!(is_receipt(body["TransID"].as_str().expect("TransID")));
    }
    assert_eq!(validation["TransID"], confirmation["TransID"]);
    assert!(confirmation["OrgAccountBalance"].is_string());

    let kinds: Vec<DeliveryKind> = world
        .sandbox
        .deliveries
        .all()
        .iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(
        kinds,
        [DeliveryKind::C2bValidation, DeliveryKind::C2bConfirmation]
    );

    // The Paybill receipt can be reversed.
    let receipt = confirmation["TransID"].as_str().expect("receipt");
    let reversal = world.reverse(receipt, 500).await;
    assert_eq!(world.reversal_result(&reversal).await["ResultCode"], 0);
}

#[tokio::test]
async fn a_payment_refused_at_validation_is_never_confirmed() {
    let world = World::new().await;
    world.register("Completed", "/c2b/validation").await;
    let (status, _) = world.simulate(300, "REJECT-1").await;
    assert_eq!(status, 200);
    world.receiver.wait_for("/c2b/validation", 1).await;
    // Barrier: a later accepted payment is confirmed; the refused one never was.
    world.simulate(200, "ORD2").await;
    let confirmations = world.receiver.wait_for_json("/c2b/confirmation", 1).await;
    assert_eq!(world.receiver.bodies("/c2b/validation").len(), 2);
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["BillRefNumber"], "ORD2");
}

#[tokio::test]
async fn an_unanswered_validation_confirms_only_when_registered_completed() {
    let world = World::new().await;
    // Nothing listens there: the validation gets no answer.
    let unanswered = format!("http://{}/validation", closed_port().await);
    let register = |response_type: &str| world.registration(response_type, &unanswered);
    world.accepted(REGISTER, &register("Cancelled")).await;
    world.simulate(100, "ORD-CANCELLED").await;
    let validations = world.deliveries(DeliveryKind::C2bValidation, 1).await;
    assert!(validations[0].error.is_some() && validations[0].status.is_none());

    world.accepted(REGISTER, &register("Completed")).await;
    world.simulate(100, "ORD3").await;
    // Also the barrier: the cancelled payment was never confirmed.
    let confirmations = world.receiver.wait_for_json("/c2b/confirmation", 1).await;
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["BillRefNumber"], "ORD3");
    assert_eq!(
        world
            .sandbox
            .deliveries
            .of_kind(DeliveryKind::C2bValidation)
            .len(),
        2
    );
}

#[tokio::test]
async fn paybill_needs_registered_urls_for_its_own_shortcode() {
    let world = World::new().await;
    let (status, answer) = world.simulate(100, "ORD1").await;
    assert_invalid(status, &answer, "ShortCode");
    let good = world.registration("Completed", &world.url("/v"));
    for (body, field) in [
        (with_field(&good, "ShortCode", json!("600000")), "ShortCode"),
        (
            with_field(&good, "ConfirmationURL", json!("not a url")),
            "ConfirmationURL",
        ),
    ] {
        let (status, answer) = world.post(REGISTER, &body).await;
        assert_invalid(status, &answer, field);
    }
}

// --- Reversal ----------------------------------------------------------------------------

#[tokio::test]
async fn a_receipt_is_reversed_once() {
    let world = World::new().await;
    let receipt = world.paid(PAYER, 70).await;
    let answer = world.reverse(&receipt, 70).await;
    assert_eq!(answer["ResponseCode"], "0");
    assert_eq!(
        answer["ResponseDescription"],
        "Accept the service request successfully."
    );
    assert!(answer["OriginatorConversationID"].is_string(), "{answer}");
    let conversation = answer["ConversationID"].as_str().expect("ConversationID");
    assert!(conversation.starts_with("AG_"), "{conversation}");

    let result = world.reversal_result(&answer).await;
    assert_eq!(result["ResultType"], 0);
    assert_eq!(result["ResultCode"], 0);
    assert!(result["ResultCode"].is_number());
    assert_eq!(
        result["ResultDesc"],
        "The service request is processed successfully."
    );
    assert_eq!(
        result["OriginatorConversationID"],
        answer["OriginatorConversationID"]
    );
    let transaction_id = result["TransactionID"].as_str().expect("TransactionID");
    assert!(is_receipt(transaction_id) && transaction_id != receipt);
    let parameter = |key: &str| {
        result["ResultParameters"]["ResultParameter"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["Key"] == key)
            .map(|p| p["Value"].clone())
            .unwrap_or_else(|| panic!("no {key}: {result}"))
    };
    assert_eq!(parameter("OriginalTransactionID"), receipt.as_str());
    assert_eq!(parameter("Amount"), 70);
    assert!(parameter("DebitAccountBalance").is_string());
    assert!(parameter("CreditPartyPublicName").is_string());
    assert!(
        parameter("TransCompletedTime")
            .as_u64()
            .is_some_and(|t| is_daraja_time(&t.to_string()))
    );
    assert_eq!(
        result["ReferenceData"]["ReferenceItem"]["Value"],
        world.url("/reversal/timeout")
    );

    let again = world.reverse(&receipt, 70).await;
    let result = world.reversal_result(&again).await;
    assert_eq!(result["ResultCode"], "R000001");
    assert_eq!(
        result["ResultDesc"],
        "The transaction has already been reversed."
    );
    assert!(result.get("ResultParameters").is_none(), "{result}");
}

#[tokio::test]
async fn a_receipt_it_never_issued_or_another_amount_is_refused() {
    let world = World::new().await;
    let answer = world.reverse("SLNEVER123", 70).await;
    let result = world.reversal_result(&answer).await;
    assert_eq!(result["ResultCode"], "R000002");
    assert_eq!(
        result["ResultDesc"],
        "The OriginalTransactionID is invalid."
    );
    assert!(result.get("ResultParameters").is_none(), "{result}");

    let receipt = world.paid(PAYER, 70).await;
    let answer = world.reverse(&receipt, 71).await;
    assert_eq!(
        world.reversal_result(&answer).await["ResultCode"],
        "R000002"
    );
    // Still reversible for its own amount.
    let answer = world.reverse(&receipt, 70).await;
    assert_eq!(world.reversal_result(&answer).await["ResultCode"], 0);
}

#[tokio::test]
async fn a_reversal_of_a_0003_payment_is_accepted_and_never_answered() {
    let world = World::new().await;
    let silent_receipt = world.paid("254700000003", 40).await;
    let silent = world.reverse(&silent_receipt, 40).await;
    assert_eq!(silent["ResponseCode"], "0");
    // Barrier: a reversal requested after it is answered; the silent one never is.
    let receipt = world.paid(PAYER, 40).await;
    let other = world.reverse(&receipt, 40).await;
    world.reversal_result(&other).await;
    let results = world.receiver.json("/reversal/result");
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]["Result"]["ConversationID"],
        other["ConversationID"]
    );
    assert!(world.receiver.bodies("/reversal/timeout").is_empty());
}

#[tokio::test]
async fn a_reversal_needs_the_initiator_and_its_credential() {
    let world = World::new().await;
    let receipt = "SLJ7RT61SV";
    let good = world.reversal_body(receipt, 70);
    let with = |field: &str, value: Value| with_field(&good, field, value);
    for (body, field) in [
        (with("Initiator", json!("someone")), "Initiator"),
        (
            with("SecurityCredential", json!("wrong")),
            "SecurityCredential",
        ),
        (with("CommandID", json!("Reverse")), "CommandID"),
        (
            with("TransactionID", json!("not-a-receipt")),
            "TransactionID",
        ),
        (with("Amount", json!(0)), "Amount"),
        (with("ReceiverParty", json!("600000")), "ReceiverParty"),
        (
            with("RecieverIdentifierType", json!("4")),
            "RecieverIdentifierType",
        ),
        (with("ResultURL", json!("nowhere")), "ResultURL"),
        (with("QueueTimeOutURL", json!("")), "QueueTimeOutURL"),
    ] {
        let (status, answer) = world.post(REVERSAL, &body).await;
        assert_invalid(status, &answer, field);
    }
}
