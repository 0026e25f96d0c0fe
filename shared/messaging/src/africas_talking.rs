//! SMS through Africa's Talking: `POST {base}/version1/messaging`, form-encoded
//! `username`, `to`, `message` and optional `from`, headers `apiKey` and
//! `Accept: application/json`.
//!
//! Invariants:
//! - The API key is a [`SecretString`]: exposed only into the request header, never
//!   formatted, logged or put in an error.
//! - One recipient per request; its `statusCode` in `SMSMessageData.Recipients[0]`
//!   decides: 100/101/102 sent; invalid number, unsupported number type, blacklist and
//!   do-not-disturb permanent; everything else (5xx, 429, timeouts, no balance, gateway
//!   errors, an answer we cannot read) transient, so nothing is given up on by mistake.
//! - Errors carry status names and HTTP codes only, never the number or message text.

use std::time::Duration;

use domain::PhoneNumber;
use domain::notification::{Accepted, SendError, SmsSender};
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// The live API.
pub const LIVE_BASE_URL: &str = "https://api.africastalking.com";
/// The sandbox (username `sandbox`).
pub const SANDBOX_BASE_URL: &str = "https://api.sandbox.africastalking.com";

/// How to reach the account.
#[derive(Debug, Clone)]
pub struct AfricasTalkingConfig {
    /// [`LIVE_BASE_URL`], [`SANDBOX_BASE_URL`] or a local stand-in.
    pub base_url: Url,
    pub username: String,
    /// Registered sender id or short code (`from`); the account default when `None`.
    pub sender_id: Option<String>,
    pub api_key: SecretString,
    /// Whole-request timeout; keep it well under the notifier's Lambda timeout.
    pub timeout: Duration,
}

/// [`SmsSender`] on Africa's Talking.
#[derive(Debug, Clone)]
pub struct AfricasTalking {
    http: reqwest::Client,
    endpoint: Url,
    username: String,
    sender_id: Option<String>,
    api_key: SecretString,
}

/// Why the adapter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AfricasTalkingError {
    #[error("AT_BASE_URL cannot be a base for the messaging path")]
    BadBaseUrl,
    #[error("building the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl AfricasTalking {
    pub fn new(config: AfricasTalkingConfig) -> Result<Self, AfricasTalkingError> {
        let mut endpoint = config.base_url;
        endpoint
            .path_segments_mut()
            .map_err(|()| AfricasTalkingError::BadBaseUrl)?
            .pop_if_empty()
            .extend(["version1", "messaging"]);
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(3)))
            .build()?;
        Ok(Self {
            http,
            endpoint,
            username: config.username,
            sender_id: config.sender_id,
            api_key: config.api_key,
        })
    }
}

impl SmsSender for AfricasTalking {
    async fn send_sms(&self, to: &PhoneNumber, text: &str) -> Result<Accepted, SendError> {
        let mut form = vec![
            ("username", self.username.as_str()),
            ("to", to.as_str()),
            ("message", text),
        ];
        if let Some(from) = &self.sender_id {
            form.push(("from", from));
        }
        let response = self
            .http
            .post(self.endpoint.clone())
            .header("apiKey", self.api_key.expose_secret())
            .header(ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|err| {
                if err.is_timeout() {
                    SendError::transient("timeout", "Africa's Talking did not answer in time")
                } else {
                    SendError::transient("network", "Africa's Talking could not be reached")
                }
            })?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|_| {
            SendError::transient("network", "the answer from Africa's Talking was cut off")
        })?;
        classify(status, &body)
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SMSMessageData")]
    data: MessageData,
}

#[derive(Deserialize)]
struct MessageData {
    #[serde(rename = "Recipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "statusCode")]
    status_code: u16,
    #[serde(default)]
    status: String,
    #[serde(rename = "messageId", default)]
    message_id: Option<String>,
}

/// The recipient status codes after which sending again can never succeed.
const PERMANENT: [(u16, &str); 4] = [
    (403, "InvalidPhoneNumber"),
    (404, "UnsupportedNumberType"),
    (406, "UserInBlacklist"),
    (409, "DoNotDisturbRejection"),
];

/// The recipient status names Africa's Talking documents, by code.
const KNOWN: [(u16, &str); 13] = [
    (100, "Processed"),
    (101, "Success"),
    (102, "Queued"),
    (401, "RiskHold"),
    (402, "InvalidSenderId"),
    (403, "InvalidPhoneNumber"),
    (404, "UnsupportedNumberType"),
    (405, "InsufficientBalance"),
    (406, "UserInBlacklist"),
    (407, "CouldNotRoute"),
    (409, "DoNotDisturbRejection"),
    (500, "InternalServerError"),
    (501, "GatewayError"),
];

/// Sorts Africa's Talking's answer (`status`, `body`) into sent, transient or permanent.
pub fn classify(status: u16, body: &str) -> Result<Accepted, SendError> {
    match status {
        200..=299 => {}
        429 => return Err(SendError::transient("throttled", "HTTP 429")),
        401 | 403 => {
            // The account's key or username is wrong: fixed by an operator, then retried.
            return Err(SendError::transient(
                "unauthorized",
                format!("HTTP {status}"),
            ));
        }
        500..=599 => return Err(SendError::transient("http_5xx", format!("HTTP {status}"))),
        _ => return Err(SendError::permanent("http_4xx", format!("HTTP {status}"))),
    }
    let answer: Answer = serde_json::from_str(body)
        .map_err(|_| SendError::transient("unreadable_answer", "not an SMSMessageData answer"))?;
    let Some(recipient) = answer.data.recipients.first() else {
        return Err(SendError::transient(
            "no_recipient",
            "the answer names no recipient",
        ));
    };
    let code = recipient.status_code;
    if matches!(code, 100..=102) {
        let message_id = recipient
            .message_id
            .clone()
            .filter(|id| !id.is_empty() && id != "None");
        return Ok(Accepted { message_id });
    }
    // Status names come from the documented table when known; the provider's own only
    // when it is a plain word (it never carries the number).
    let name = KNOWN
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| {
            let own = recipient.status.as_str();
            if !own.is_empty() && own.len() <= 40 && own.chars().all(|c| c.is_ascii_alphabetic()) {
                own.to_owned()
            } else {
                format!("status_{code}")
            }
        });
    let detail = format!("recipient statusCode {code} ({name})");
    if PERMANENT.iter().any(|(c, _)| *c == code) {
        Err(SendError::permanent(&name, detail))
    } else {
        Err(SendError::transient(&name, detail))
    }
}

#[cfg(test)]
mod tests {
    use domain::notification::ErrorClass;
    use wiremock::matchers::{body_string, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn answer(code: u16, status: &str) -> String {
        serde_json::json!({"SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: KES 0.8000",
            "Recipients": [{"statusCode": code, "number": "+254712345678",
                "cost": "KES 0.8000", "status": status, "messageId": "ATXid_abc"}]
        }})
        .to_string()
    }

    fn class(result: Result<Accepted, SendError>) -> (bool, String) {
        match result {
            Err(SendError::Transient { class, .. }) => (false, class.to_string()),
            Err(SendError::Permanent { class, .. }) => (true, class.to_string()),
            Ok(accepted) => panic!("accepted: {accepted:?}"),
        }
    }

    #[test]
    fn processed_sent_and_queued_are_accepted_with_the_message_id() {
        for (code, status) in [(100, "Processed"), (101, "Success"), (102, "Queued")] {
            assert_eq!(
                classify(201, &answer(code, status)),
                Ok(Accepted {
                    message_id: Some("ATXid_abc".into())
                })
            );
        }
    }

    #[test]
    fn refusals_of_the_number_are_permanent() {
        for (code, status, expected) in [
            (403, "InvalidPhoneNumber", "invalid_phone_number"),
            (404, "UnsupportedNumberType", "unsupported_number_type"),
            (406, "UserInBlacklist", "user_in_blacklist"),
            (409, "DoNotDisturbRejection", "do_not_disturb_rejection"),
        ] {
            assert_eq!(
                class(classify(201, &answer(code, status))),
                (true, expected.to_owned())
            );
        }
    }

    #[test]
    fn balance_gateway_and_server_trouble_are_transient() {
        for (code, status, expected) in [
            (405, "InsufficientBalance", "insufficient_balance"),
            (500, "InternalServerError", "internal_server_error"),
            (501, "GatewayError", "gateway_error"),
            (401, "RiskHold", "risk_hold"),
            (499, "Weird status +254712345678", "status_499"),
        ] {
            assert_eq!(
                class(classify(201, &answer(code, status))),
                (false, expected.to_owned())
            );
        }
        for (http, expected) in [
            (500, "http_5xx"),
            (503, "http_5xx"),
            (429, "throttled"),
            (401, "unauthorized"),
        ] {
            assert_eq!(class(classify(http, "oops")), (false, expected.to_owned()));
        }
        assert_eq!(
            class(classify(201, "<html>")),
            (false, "unreadable_answer".to_owned())
        );
        assert_eq!(
            class(classify(
                201,
                r#"{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}"#
            )),
            (false, "no_recipient".to_owned())
        );
        assert_eq!(
            class(classify(400, "Request is missing required form field 'to'")),
            (true, "http_4xx".to_owned())
        );
    }

    #[test]
    fn errors_never_carry_the_number() {
        let err = classify(201, &answer(403, "InvalidPhoneNumber")).expect_err("refused");
        assert!(!format!("{err} {err:?}").contains("712345678"));
    }

    fn config(server: &MockServer, timeout: Duration) -> AfricasTalkingConfig {
        AfricasTalkingConfig {
            base_url: server.uri().parse().expect("url"),
            username: "sandbox".into(),
            sender_id: Some("SHOP".into()),
            api_key: SecretString::from("at-key-123"),
            timeout,
        }
    }

    #[tokio::test]
    async fn sends_the_documented_form_and_headers() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/version1/messaging"))
            .and(header("apiKey", "at-key-123"))
            .and(header("accept", "application/json"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string(
                "username=sandbox&to=%2B254712345678&message=Hi+there%2C+%26+bye&from=SHOP",
            ))
            .respond_with(ResponseTemplate::new(201).set_body_string(answer(101, "Success")))
            .expect(1)
            .mount(&server)
            .await;
        let sms = AfricasTalking::new(config(&server, Duration::from_secs(5))).expect("client");
        let phone = PhoneNumber::parse("0712345678").expect("phone");
        let accepted = sms.send_sms(&phone, "Hi there, & bye").await.expect("sent");
        assert_eq!(accepted.message_id.as_deref(), Some("ATXid_abc"));
    }

    #[tokio::test]
    async fn a_slow_provider_is_a_transient_timeout() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_string(answer(101, "Success"))
                    .set_delay(Duration::from_secs(2)),
            )
            .mount(&server)
            .await;
        let sms = AfricasTalking::new(config(&server, Duration::from_millis(200))).expect("client");
        let phone = PhoneNumber::parse("0712345678").expect("phone");
        let err = sms.send_sms(&phone, "hi").await.expect_err("timeout");
        assert_eq!(
            err.outcome(),
            domain::notification::Outcome::Transient(ErrorClass::new("timeout"))
        );
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let sms = AfricasTalking::new(AfricasTalkingConfig {
            base_url: LIVE_BASE_URL.parse().expect("url"),
            username: "shop".into(),
            sender_id: None,
            api_key: SecretString::from("at-key-123"),
            timeout: Duration::from_secs(5),
        })
        .expect("client");
        assert_eq!(
            sms.endpoint.as_str(),
            "https://api.africastalking.com/version1/messaging"
        );
        assert!(!format!("{sms:?}").contains("at-key-123"));
    }
}
