//! Lipa na M-Pesa Online: the STK push (`POST {base}/mpesa/stkpush/v1/processrequest`),
//! which puts a payment prompt on the customer's phone, and its query
//! (`POST {base}/mpesa/stkpushquery/v1/query`).
//!
//! Invariants:
//! - `AccountReference` (1–12) and `TransactionDesc` (1–13) are checked before anything
//!   is sent ([`InvalidRequest`]).
//! - A push is accepted only by a 2xx answer with `ResponseCode` `0` and both request
//!   ids. A 4xx with an `errorCode`, or another `ResponseCode`, is a refusal: the prompt
//!   was not taken. A timeout, a lost connection, a 5xx or an answer we cannot read is no
//!   answer: the prompt may be on the customer's phone.
//! - A query's HTTP 500 `500.001.1001` "The transaction is being processed" is
//!   [`StkQueryAnswer::Pending`], not a failure; throttling, 5xx and timeouts are no
//!   answer (ask again later); a 4xx with an `errorCode` is a refusal.
//! - The query's `ResultCode` is a string (a number is read too).

use std::fmt;

use domain::PhoneNumber;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::answers::{ErrorAnswer, Throttled, accepted, failure};
use crate::client::Daraja;
use crate::error::{DarajaError, InvalidRequest, NoAnswer};
use crate::fields::fits;
use crate::msisdn::Msisdn;
use crate::nairobi::nairobi_timestamp;
use crate::password::stk_password;
use crate::result_code::ResultCode;
use crate::shillings::Shillings;

/// A payment prompt to put on a customer's phone.
#[derive(Clone, PartialEq, Eq)]
pub struct StkPush {
    pub amount: Shillings,
    /// Who pays (`PartyA` and `PhoneNumber`).
    pub phone: PhoneNumber,
    /// 1 to 12 characters: our order's payment reference, shown to the customer.
    pub account_reference: String,
    /// 1 to 13 characters.
    pub transaction_desc: String,
    /// Where M-Pesa posts the result ([`crate::StkCallback`]).
    pub callback_url: Url,
}

impl fmt::Debug for StkPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StkPush")
            .field("amount", &self.amount)
            .field("account_reference", &self.account_reference)
            .field("transaction_desc", &self.transaction_desc)
            .field("callback_url", &self.callback_url.as_str())
            .finish_non_exhaustive()
    }
}

/// M-Pesa took the prompt; the outcome comes to the callback URL (or a query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkAccepted {
    pub merchant_request_id: String,
    pub checkout_request_id: String,
}

/// What a query learnt of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StkQueryAnswer {
    /// The customer has not finished with the prompt yet.
    Pending,
    /// The prompt is over: paid when `result_code.is_success()`, otherwise cancelled,
    /// timed out, insufficient funds… (`1032`, `1037`, `1`…).
    Completed {
        result_code: ResultCode,
        result_desc: String,
    },
}

/// The push's body.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PushBody<'a> {
    business_short_code: &'a str,
    password: &'a str,
    timestamp: &'a str,
    transaction_type: &'static str,
    amount: Shillings,
    party_a: &'a Msisdn,
    party_b: &'a str,
    phone_number: &'a Msisdn,
    #[serde(rename = "CallBackURL")]
    callback_url: &'a str,
    account_reference: &'a str,
    transaction_desc: &'a str,
}

/// The query's body.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueryBody<'a> {
    business_short_code: &'a str,
    password: &'a str,
    timestamp: &'a str,
    #[serde(rename = "CheckoutRequestID")]
    checkout_request_id: &'a str,
}

#[derive(Deserialize)]
struct PushAnswer {
    #[serde(rename = "MerchantRequestID")]
    merchant_request_id: String,
    #[serde(rename = "CheckoutRequestID")]
    checkout_request_id: String,
}

#[derive(Deserialize)]
struct QueryAnswer {
    #[serde(rename = "ResultCode")]
    result_code: ResultCode,
    #[serde(rename = "ResultDesc", default)]
    result_desc: String,
}

/// Daraja's code for an error answer to a query.
const BEING_PROCESSED: &str = "500.001.1001";

/// Sorts the push's answer (`status`, `body`) into accepted, refused or no answer.
pub fn classify_stk_push(http_status: u16, body: &str) -> Result<StkAccepted, DarajaError> {
    if !(200..=299).contains(&http_status) {
        return Err(failure(http_status, body, Throttled::Refused));
    }
    let answer: PushAnswer = accepted(http_status, body)?;
    if answer.merchant_request_id.is_empty() || answer.checkout_request_id.is_empty() {
        return Err(DarajaError::NoAnswer(NoAnswer::Unreadable { http_status }));
    }
    Ok(StkAccepted {
        merchant_request_id: answer.merchant_request_id,
        checkout_request_id: answer.checkout_request_id,
    })
}

/// Sorts the query's answer (`status`, `body`) into pending, completed or a failure.
pub fn classify_stk_query(http_status: u16, body: &str) -> Result<StkQueryAnswer, DarajaError> {
    if (200..=299).contains(&http_status) {
        let answer: QueryAnswer = accepted(http_status, body)?;
        return Ok(StkQueryAnswer::Completed {
            result_code: answer.result_code,
            result_desc: answer.result_desc,
        });
    }
    if (500..=599).contains(&http_status)
        && let Some(error) = ErrorAnswer::read(body)
        && error.code == BEING_PROCESSED
        && error.message.to_ascii_lowercase().contains("process")
    {
        return Ok(StkQueryAnswer::Pending);
    }
    Err(failure(http_status, body, Throttled::NoAnswer))
}

impl Daraja {
    /// Puts a payment prompt on `push.phone`.
    pub async fn stk_push(&self, push: &StkPush) -> Result<StkAccepted, DarajaError> {
        if !fits(&push.account_reference, 1..=12) {
            return Err(InvalidRequest::AccountReference.into());
        }
        if !fits(&push.transaction_desc, 1..=13) {
            return Err(InvalidRequest::TransactionDesc.into());
        }
        let timestamp = nairobi_timestamp(self.clock.now());
        let password = stk_password(&self.shortcode, &self.passkey, &timestamp);
        let msisdn = Msisdn::of(&push.phone);
        let body = PushBody {
            business_short_code: &self.shortcode,
            password: password.expose_secret(),
            timestamp: &timestamp,
            transaction_type: "CustomerPayBillOnline",
            amount: push.amount,
            party_a: &msisdn,
            party_b: &self.shortcode,
            phone_number: &msisdn,
            callback_url: push.callback_url.as_str(),
            account_reference: &push.account_reference,
            transaction_desc: &push.transaction_desc,
        };
        let accepted = self
            .call(
                "stk_push",
                &self.endpoints.stk_push,
                &body,
                classify_stk_push,
            )
            .await?;
        tracing::info!(
            checkout_request_id = %accepted.checkout_request_id,
            "M-Pesa took the STK push"
        );
        Ok(accepted)
    }

    /// Asks how the prompt of `checkout_request_id` ended, if it has.
    pub async fn stk_query(
        &self,
        checkout_request_id: &str,
    ) -> Result<StkQueryAnswer, DarajaError> {
        if !fits(checkout_request_id, 1..=100) {
            return Err(InvalidRequest::CheckoutRequestId.into());
        }
        let timestamp = nairobi_timestamp(self.clock.now());
        let password = stk_password(&self.shortcode, &self.passkey, &timestamp);
        let body = QueryBody {
            business_short_code: &self.shortcode,
            password: password.expose_secret(),
            timestamp: &timestamp,
            checkout_request_id,
        };
        self.call(
            "stk_query",
            &self.endpoints.stk_query,
            &body,
            classify_stk_query,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::Refusal;

    fn refused(result: Result<impl fmt::Debug, DarajaError>) -> Refusal {
        match result {
            Err(DarajaError::Refused(refusal)) => refusal,
            other => panic!("not a refusal: {other:?}"),
        }
    }

    fn no_answer(result: Result<impl fmt::Debug, DarajaError>) -> NoAnswer {
        match result {
            Err(DarajaError::NoAnswer(no_answer)) => no_answer,
            other => panic!("not a no-answer: {other:?}"),
        }
    }

    const PUSH_ACCEPTED: &str = r#"{
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": "ws_CO_191220191020363925",
        "ResponseCode": "0",
        "ResponseDescription": "Success. Request accepted for processing",
        "CustomerMessage": "Success. Request accepted for processing"
    }"#;

    #[test]
    fn a_push_answered_0_is_accepted() {
        assert_eq!(
            classify_stk_push(200, PUSH_ACCEPTED),
            Ok(StkAccepted {
                merchant_request_id: "29115-34620561-1".into(),
                checkout_request_id: "ws_CO_191220191020363925".into(),
            })
        );
    }

    #[test]
    fn a_push_answered_another_code_is_refused() {
        let body = json!({
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResponseCode": "1",
            "ResponseDescription": "Rejected for 254712345678",
        })
        .to_string();
        let refusal = refused(classify_stk_push(200, &body));
        assert_eq!(refusal.http_status, 200);
        assert_eq!(refusal.code, "1");
        assert_eq!(refusal.description, "Rejected for #");
        let error = classify_stk_push(200, &body).expect_err("refused");
        assert!(error.not_taken());
        assert!(!format!("{error} {error:?}").contains("712345678"));
    }

    #[test]
    fn a_push_refused_with_an_error_code_was_not_taken() {
        let body = r#"{"requestId":"11728-2929992-1","errorCode":"400.002.02","errorMessage":"Bad Request - Invalid PhoneNumber"}"#;
        let refusal = refused(classify_stk_push(400, body));
        assert_eq!(
            (
                refusal.http_status,
                refusal.code.as_str(),
                refusal.description.as_str()
            ),
            (400, "400.002.02", "Bad Request - Invalid PhoneNumber")
        );
        assert!(!refusal.is_invalid_token());
        // Turned away by the gateway for load: not taken either.
        let throttled =
            r#"{"requestId":"","errorCode":"429.001.01","errorMessage":"Rate limit exceeded"}"#;
        let refusal = refused(classify_stk_push(429, throttled));
        assert!(refusal.is_throttled());
    }

    #[test]
    fn an_invalid_token_is_a_refusal_worth_one_retry() {
        let body =
            r#"{"requestId":"","errorCode":"404.001.03","errorMessage":"Invalid Access Token"}"#;
        assert!(refused(classify_stk_push(401, body)).is_invalid_token());
        assert!(refused(classify_stk_query(401, body)).is_invalid_token());
    }

    #[test]
    fn a_push_without_a_definite_answer_may_have_been_taken() {
        let cases = [
            (
                500,
                r#"{"requestId":"","errorCode":"500.001.1001","errorMessage":"Unable to lock subscriber, a transaction is already in process for the current subscriber"}"#,
            ),
            (503, "Service Unavailable"),
            (
                500,
                r#"{"requestId":"","errorCode":"500.003.02","errorMessage":"System is busy. Please try again in few minutes."}"#,
            ),
            (200, "<html>maintenance</html>"),
            (
                200,
                r#"{"ResponseCode":"0","ResponseDescription":"Success"}"#,
            ),
            (
                200,
                r#"{"MerchantRequestID":"","CheckoutRequestID":"","ResponseCode":"0"}"#,
            ),
            (200, r#"{"MerchantRequestID":"a","CheckoutRequestID":"b"}"#),
            (400, "Bad Request"),
            (429, ""),
            (302, ""),
        ];
        for (status, body) in cases {
            let error = classify_stk_push(status, body).expect_err(body);
            assert!(!error.not_taken(), "{status} {body}: {error}");
        }
        assert_eq!(
            no_answer(classify_stk_push(503, "Service Unavailable")),
            NoAnswer::ServerError {
                http_status: 503,
                code: None
            }
        );
        assert_eq!(
            no_answer(classify_stk_push(200, "<html>")),
            NoAnswer::Unreadable { http_status: 200 }
        );
    }

    const QUERY_PAID: &str = r#"{
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": "22205-34066-1",
        "CheckoutRequestID": "ws_CO_13012021093521236557",
        "ResultCode": "0",
        "ResultDesc": "The service request is processed successfully."
    }"#;

    #[test]
    fn a_finished_prompt_is_completed_with_its_result_code() {
        let StkQueryAnswer::Completed {
            result_code,
            result_desc,
        } = classify_stk_query(200, QUERY_PAID).expect("completed")
        else {
            panic!("not completed");
        };
        assert!(result_code.is_success());
        assert_eq!(
            result_desc,
            "The service request is processed successfully."
        );
        for code in [json!("1032"), json!(1032)] {
            let body = json!({
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": "22205-34066-1",
                "CheckoutRequestID": "ws_CO_13012021093521236557",
                "ResultCode": code,
                "ResultDesc": "Request cancelled by user",
            })
            .to_string();
            assert_eq!(
                classify_stk_query(200, &body),
                Ok(StkQueryAnswer::Completed {
                    result_code: ResultCode::from_number(1032),
                    result_desc: "Request cancelled by user".into(),
                })
            );
        }
    }

    #[test]
    fn a_prompt_being_processed_is_pending() {
        let body = r#"{"requestId":"ws_CO_05102024113414447712345678","errorCode":"500.001.1001","errorMessage":"The transaction is being processed"}"#;
        assert_eq!(classify_stk_query(500, body), Ok(StkQueryAnswer::Pending));
    }

    #[test]
    fn query_load_and_server_trouble_are_transient() {
        let cases = [
            (
                500,
                r#"{"requestId":"","errorCode":"500.001.1001","errorMessage":"Wrong credentials"}"#,
            ),
            (
                500,
                r#"{"requestId":"","errorCode":"500.003.02","errorMessage":"System is busy. Please try again in few minutes."}"#,
            ),
            (
                429,
                r#"{"requestId":"","errorCode":"429.001.01","errorMessage":"Spike arrest violation"}"#,
            ),
            (429, ""),
            (502, "Bad Gateway"),
            (200, "{}"),
            (
                200,
                r#"{"ResponseCode":"0","ResponseDescription":"accepted"}"#,
            ),
        ];
        for (status, body) in cases {
            let error = classify_stk_query(status, body).expect_err(body);
            assert!(
                matches!(error, DarajaError::NoAnswer(_)),
                "{status} {body}: {error}"
            );
            assert!(error.is_transient());
        }
        assert!(matches!(
            no_answer(classify_stk_query(429, "")),
            NoAnswer::Busy {
                http_status: 429,
                code: None
            }
        ));
    }

    #[test]
    fn a_query_refused_with_an_error_code_is_definite() {
        let body = r#"{"requestId":"","errorCode":"400.002.02","errorMessage":"Bad Request - Invalid CheckoutRequestID"}"#;
        let error = classify_stk_query(400, body).expect_err("refused");
        assert!(!error.is_transient());
        assert_eq!(refused(Err::<(), _>(error)).code, "400.002.02");
    }

    #[test]
    fn the_push_body_is_daraja_s() {
        let phone = PhoneNumber::parse("0708374149").expect("phone");
        let msisdn = Msisdn::of(&phone);
        let body = PushBody {
            business_short_code: "174379",
            password: "cGFzc3dvcmQ=",
            timestamp: "20261207013000",
            transaction_type: "CustomerPayBillOnline",
            amount: Shillings::new(1499).expect("amount"),
            party_a: &msisdn,
            party_b: "174379",
            phone_number: &msisdn,
            callback_url: "https://shop.example/mpesa/stk",
            account_reference: "ORD7K2M9QX4P",
            transaction_desc: "Order payment",
        };
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            json!({
                "BusinessShortCode": "174379",
                "Password": "cGFzc3dvcmQ=",
                "Timestamp": "20261207013000",
                "TransactionType": "CustomerPayBillOnline",
                "Amount": 1499,
                "PartyA": "254708374149",
                "PartyB": "174379",
                "PhoneNumber": "254708374149",
                "CallBackURL": "https://shop.example/mpesa/stk",
                "AccountReference": "ORD7K2M9QX4P",
                "TransactionDesc": "Order payment",
            })
        );
        let query = QueryBody {
            business_short_code: "174379",
            password: "cGFzc3dvcmQ=",
            timestamp: "20261207013000",
            checkout_request_id: "ws_CO_191220191020363925",
        };
        assert_eq!(
            serde_json::to_value(&query).expect("json"),
            json!({
                "BusinessShortCode": "174379",
                "Password": "cGFzc3dvcmQ=",
                "Timestamp": "20261207013000",
                "CheckoutRequestID": "ws_CO_191220191020363925",
            })
        );
    }

    fn push(account_reference: &str, transaction_desc: &str) -> StkPush {
        StkPush {
            amount: Shillings::new(10).expect("amount"),
            phone: PhoneNumber::parse("0712345678").expect("phone"),
            account_reference: account_reference.into(),
            transaction_desc: transaction_desc.into(),
            callback_url: "https://shop.example/mpesa/stk".parse().expect("url"),
        }
    }

    /// A base nothing listens on: the checks must fail before any request is made.
    fn unreachable_daraja() -> Daraja {
        Daraja::new(crate::client::tests::config("http://127.0.0.1:9")).expect("client")
    }

    #[tokio::test]
    async fn long_fields_are_refused_before_sending() {
        let daraja = unreachable_daraja();
        for (reference, desc, expected) in [
            ("ORD7K2M9QX4PZ", "Order", InvalidRequest::AccountReference),
            ("", "Order", InvalidRequest::AccountReference),
            ("ORD1", "Order payment!", InvalidRequest::TransactionDesc),
            ("ORD1", "", InvalidRequest::TransactionDesc),
            (
                "ORD1",
                "Malipo ya oda\u{e9}",
                InvalidRequest::TransactionDesc,
            ),
        ] {
            assert_eq!(
                daraja.stk_push(&push(reference, desc)).await,
                Err(DarajaError::InvalidRequest(expected)),
                "{reference:?} {desc:?}"
            );
        }
        assert_eq!(
            daraja.stk_query("").await,
            Err(DarajaError::InvalidRequest(
                InvalidRequest::CheckoutRequestId
            ))
        );
    }

    #[test]
    fn debug_of_a_push_hides_the_phone() {
        let shown = format!("{:?}", push("ORD1", "Order"));
        assert!(!shown.contains("712345678"), "{shown}");
        assert!(shown.contains("ORD1"));
    }
}
