//! Reversing a completed M-Pesa payment to our Paybill
//! (`POST {base}/mpesa/reversal/v1/request`); the outcome comes later to the result URL
//! ([`crate::ReversalResult`]).
//!
//! Invariants:
//! - `Remarks` (2–100) and `Occasion` (0–100) are checked before anything is sent.
//! - The security credential is exposed only into the body.
//! - Accepted only by a 2xx answer with `ResponseCode` `0` and both conversation ids; a
//!   4xx with an `errorCode`, or another `ResponseCode`, is a refusal (nothing will be
//!   reversed); a timeout, a 5xx or an unreadable answer is no answer (it may be).
//! - The body keeps Daraja's spelling, `RecieverIdentifierType` included.

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::answers::{Throttled, accepted, failure};
use crate::client::Daraja;
use crate::error::{DarajaError, InvalidRequest, NoAnswer};
use crate::fields::fits;
use crate::shillings::Shillings;
use domain::payment::Receipt;

/// Daraja's receiver identifier type of an organisation's shortcode.
const SHORTCODE_IDENTIFIER: &str = "11";

/// A payment to give back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversal {
    /// The M-Pesa receipt of the payment (`TransactionID`).
    pub receipt: Receipt,
    pub amount: Shillings,
    /// 2 to 100 characters.
    pub remarks: String,
    /// At most 100 characters; may be empty.
    pub occasion: String,
    /// Where M-Pesa posts the result.
    pub result_url: Url,
    /// Where M-Pesa posts a timeout of the request in its queue.
    pub queue_timeout_url: Url,
}

/// M-Pesa took the reversal request; its result comes to the result URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalAccepted {
    pub conversation_id: String,
    pub originator_conversation_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReversalBody<'a> {
    initiator: &'a str,
    security_credential: &'a str,
    #[serde(rename = "CommandID")]
    command_id: &'static str,
    #[serde(rename = "TransactionID")]
    transaction_id: &'a str,
    amount: Shillings,
    receiver_party: &'a str,
    reciever_identifier_type: &'static str,
    #[serde(rename = "ResultURL")]
    result_url: &'a str,
    #[serde(rename = "QueueTimeOutURL")]
    queue_timeout_url: &'a str,
    remarks: &'a str,
    occasion: &'a str,
}

#[derive(Deserialize)]
struct ReversalAnswer {
    #[serde(rename = "ConversationID")]
    conversation_id: String,
    #[serde(rename = "OriginatorConversationID")]
    originator_conversation_id: String,
}

/// Sorts the answer to a reversal request (`status`, `body`).
pub fn classify_reversal(http_status: u16, body: &str) -> Result<ReversalAccepted, DarajaError> {
    if !(200..=299).contains(&http_status) {
        return Err(failure(http_status, body, Throttled::Refused));
    }
    let answer: ReversalAnswer = accepted(http_status, body)?;
    if answer.conversation_id.is_empty() || answer.originator_conversation_id.is_empty() {
        return Err(DarajaError::NoAnswer(NoAnswer::Unreadable { http_status }));
    }
    Ok(ReversalAccepted {
        conversation_id: answer.conversation_id,
        originator_conversation_id: answer.originator_conversation_id,
    })
}

impl Daraja {
    /// Asks M-Pesa to give back the payment of `reversal.receipt`.
    pub async fn reverse(&self, reversal: &Reversal) -> Result<ReversalAccepted, DarajaError> {
        if !fits(&reversal.remarks, 2..=100) {
            return Err(InvalidRequest::Remarks.into());
        }
        if !fits(&reversal.occasion, 0..=100) {
            return Err(InvalidRequest::Occasion.into());
        }
        let body = ReversalBody {
            initiator: &self.initiator_name,
            security_credential: self.security_credential.expose_secret(),
            command_id: "TransactionReversal",
            transaction_id: reversal.receipt.as_str(),
            amount: reversal.amount,
            receiver_party: &self.shortcode,
            reciever_identifier_type: SHORTCODE_IDENTIFIER,
            result_url: reversal.result_url.as_str(),
            queue_timeout_url: reversal.queue_timeout_url.as_str(),
            remarks: &reversal.remarks,
            occasion: &reversal.occasion,
        };
        let accepted = self
            .call(
                "reversal",
                &self.endpoints.reversal,
                &body,
                classify_reversal,
            )
            .await?;
        tracing::info!(
            conversation_id = %accepted.conversation_id,
            receipt = %reversal.receipt,
            "M-Pesa took the reversal request"
        );
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::client::tests::config;
    use crate::error::Refusal;

    #[test]
    fn a_reversal_answered_0_is_accepted() {
        let body = r#"{
            "OriginatorConversationID": "f1e2-4b95-a71d-b30d3cdbb7a7735297",
            "ConversationID": "AG_20210706_20106e9209f64bebd05b",
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully."
        }"#;
        assert_eq!(
            classify_reversal(200, body),
            Ok(ReversalAccepted {
                conversation_id: "AG_20210706_20106e9209f64bebd05b".into(),
                originator_conversation_id: "f1e2-4b95-a71d-b30d3cdbb7a7735297".into(),
            })
        );
    }

    #[test]
    fn refusals_and_silences_are_told_apart() {
        let body = r#"{"requestId":"","errorCode":"401.002.01","errorMessage":"Error Occurred - Invalid Access Token - BJGFGOXv5aZnw90KkA4TDtu4Xdyf"}"#;
        let error = classify_reversal(400, body).expect_err("refused");
        assert!(error.not_taken());
        assert!(matches!(
            classify_reversal(200, r#"{"ResponseCode":"2001","ResponseDescription":"The initiator information is invalid."}"#),
            Err(DarajaError::Refused(Refusal { http_status: 200, ref code, .. })) if code == "2001"
        ));
        for (status, body) in [
            (500, "Internal Server Error"),
            (200, r#"{"ResponseCode":"0"}"#),
            (
                200,
                r#"{"ResponseCode":"0","ConversationID":"","OriginatorConversationID":""}"#,
            ),
        ] {
            let error = classify_reversal(status, body).expect_err(body);
            assert!(!error.not_taken(), "{status} {body}");
        }
    }

    #[test]
    fn the_body_is_daraja_s_misspelling_included() {
        let body = ReversalBody {
            initiator: "testapi",
            security_credential: "ZmFrZQ==",
            command_id: "TransactionReversal",
            transaction_id: "OEI2AK4Q16",
            amount: Shillings::new(1499).expect("amount"),
            receiver_party: "600638",
            reciever_identifier_type: SHORTCODE_IDENTIFIER,
            result_url: "https://shop.example/mpesa/reversal/result",
            queue_timeout_url: "https://shop.example/mpesa/reversal/timeout",
            remarks: "Order cancelled",
            occasion: "",
        };
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            json!({
                "Initiator": "testapi",
                "SecurityCredential": "ZmFrZQ==",
                "CommandID": "TransactionReversal",
                "TransactionID": "OEI2AK4Q16",
                "Amount": 1499,
                "ReceiverParty": "600638",
                "RecieverIdentifierType": "11",
                "ResultURL": "https://shop.example/mpesa/reversal/result",
                "QueueTimeOutURL": "https://shop.example/mpesa/reversal/timeout",
                "Remarks": "Order cancelled",
                "Occasion": "",
            })
        );
    }

    #[tokio::test]
    async fn remarks_and_occasion_are_checked_before_sending() {
        let daraja = Daraja::new(config("http://127.0.0.1:9")).expect("client");
        let reversal = |remarks: &str, occasion: &str| Reversal {
            receipt: Receipt::parse("OEI2AK4Q16").expect("receipt"),
            amount: Shillings::new(10).expect("amount"),
            remarks: remarks.into(),
            occasion: occasion.into(),
            result_url: "https://shop.example/r".parse().expect("url"),
            queue_timeout_url: "https://shop.example/t".parse().expect("url"),
        };
        for (remarks, occasion, expected) in [
            ("x", "", InvalidRequest::Remarks),
            (&"x".repeat(101), "", InvalidRequest::Remarks),
            (
                "Order cancelled",
                &"x".repeat(101),
                InvalidRequest::Occasion,
            ),
        ] {
            assert_eq!(
                daraja.reverse(&reversal(remarks, occasion)).await,
                Err(DarajaError::InvalidRequest(expected))
            );
        }
    }
}
