//! Customer-to-business payments to our Paybill: registering where M-Pesa posts them
//! (`POST {base}/mpesa/c2b/v1/registerurl`, a one-time deploy step) and, in the
//! sandbox only, simulating one (`POST {base}/mpesa/c2b/v1/simulate`).
//!
//! Invariants:
//! - Both are accepted only by a 2xx answer with `ResponseCode` `0`; the rest of the
//!   answer (with Daraja's misspelt `OriginatorCoversationID`) is not relied on.
//! - A simulation is never sent to production ([`InvalidRequest::SimulationOutsideSandbox`]).

use std::fmt;

use domain::PhoneNumber;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::answers::{Throttled, accepted, failure};
use crate::client::Daraja;
use crate::error::{DarajaError, InvalidRequest};
use crate::fields::fits;
use crate::msisdn::Msisdn;
use crate::shillings::Shillings;

/// What M-Pesa does with a payment when our validation URL does not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum C2bResponseType {
    /// Complete the payment.
    Completed,
    /// Cancel it.
    Cancelled,
}

/// Where M-Pesa posts C2B payments to our Paybill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2bUrls {
    pub response_type: C2bResponseType,
    /// Told of every completed payment ([`crate::C2bPayment`]).
    pub confirmation_url: Url,
    /// Asked to accept or reject a payment first (when validation is enabled on the
    /// Paybill).
    pub validation_url: Url,
}

/// A payment to simulate in the sandbox.
#[derive(Clone, PartialEq, Eq)]
pub struct C2bSimulation {
    pub amount: Shillings,
    /// The paying number (the sandbox's test number is `254708374149`).
    pub payer: PhoneNumber,
    /// The account number the payer typed: 1 to 20 characters.
    pub bill_ref_number: String,
}

impl fmt::Debug for C2bSimulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("C2bSimulation")
            .field("amount", &self.amount)
            .field("bill_ref_number", &self.bill_ref_number)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegisterBody<'a> {
    short_code: &'a str,
    response_type: C2bResponseType,
    #[serde(rename = "ConfirmationURL")]
    confirmation_url: &'a str,
    #[serde(rename = "ValidationURL")]
    validation_url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SimulateBody<'a> {
    short_code: &'a str,
    #[serde(rename = "CommandID")]
    command_id: &'static str,
    amount: Shillings,
    msisdn: &'a Msisdn,
    bill_ref_number: &'a str,
}

/// Nothing beyond the envelope is read.
#[derive(Deserialize)]
struct Acknowledged {}

/// Sorts the answer to a registration or a simulation (`status`, `body`).
pub fn classify_c2b_answer(http_status: u16, body: &str) -> Result<(), DarajaError> {
    if !(200..=299).contains(&http_status) {
        return Err(failure(http_status, body, Throttled::Refused));
    }
    accepted::<Acknowledged>(http_status, body).map(|_| ())
}

impl Daraja {
    /// Registers the URLs M-Pesa posts our Paybill's C2B payments to.
    pub async fn register_c2b_urls(&self, urls: &C2bUrls) -> Result<(), DarajaError> {
        let body = RegisterBody {
            short_code: &self.shortcode,
            response_type: urls.response_type,
            confirmation_url: urls.confirmation_url.as_str(),
            validation_url: urls.validation_url.as_str(),
        };
        self.call(
            "c2b_register",
            &self.endpoints.c2b_register,
            &body,
            classify_c2b_answer,
        )
        .await
    }

    /// Has the sandbox pay our Paybill as if a customer did (refused in production).
    pub async fn simulate_c2b(&self, payment: &C2bSimulation) -> Result<(), DarajaError> {
        if self.is_production() {
            return Err(InvalidRequest::SimulationOutsideSandbox.into());
        }
        if !fits(&payment.bill_ref_number, 1..=20) {
            return Err(InvalidRequest::BillRefNumber.into());
        }
        let msisdn = Msisdn::of(&payment.payer);
        let body = SimulateBody {
            short_code: &self.shortcode,
            command_id: "CustomerPayBillOnline",
            amount: payment.amount,
            msisdn: &msisdn,
            bill_ref_number: &payment.bill_ref_number,
        };
        self.call(
            "c2b_simulate",
            &self.endpoints.c2b_simulate,
            &body,
            classify_c2b_answer,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::client::tests::config;
    use crate::error::{NoAnswer, Refusal};

    #[test]
    fn registration_answered_0_is_accepted() {
        for body in [
            r#"{"OriginatorCoversationID":"7619-37765134-1","ResponseCode":"0","ResponseDescription":"success"}"#,
            r#"{"ResponseCode":"0","ResponseDescription":"Accept the service request successfully."}"#,
            r#"{"ResponseCode":0}"#,
        ] {
            assert_eq!(classify_c2b_answer(200, body), Ok(()), "{body}");
        }
    }

    #[test]
    fn registration_refusals_and_silences() {
        let body = r#"{"requestId":"","errorCode":"500.003.1001","errorMessage":"Urls are already registered"}"#;
        assert!(matches!(
            classify_c2b_answer(500, body),
            Err(DarajaError::NoAnswer(NoAnswer::ServerError {
                http_status: 500,
                ..
            }))
        ));
        let body = r#"{"requestId":"","errorCode":"400.003.02","errorMessage":"Bad Request - Invalid ValidationURL"}"#;
        assert!(matches!(
            classify_c2b_answer(400, body),
            Err(DarajaError::Refused(Refusal { http_status: 400, ref code, .. })) if code == "400.003.02"
        ));
        assert!(matches!(
            classify_c2b_answer(
                200,
                r#"{"ResponseCode":"1","ResponseDescription":"failed"}"#
            ),
            Err(DarajaError::Refused(Refusal {
                http_status: 200,
                ..
            }))
        ));
        assert_eq!(
            classify_c2b_answer(200, "ok"),
            Err(DarajaError::NoAnswer(NoAnswer::Unreadable {
                http_status: 200
            }))
        );
    }

    #[test]
    fn bodies_are_daraja_s() {
        let register = RegisterBody {
            short_code: "600638",
            response_type: C2bResponseType::Completed,
            confirmation_url: "https://shop.example/mpesa/c2b/confirmation",
            validation_url: "https://shop.example/mpesa/c2b/validation",
        };
        assert_eq!(
            serde_json::to_value(&register).expect("json"),
            json!({
                "ShortCode": "600638",
                "ResponseType": "Completed",
                "ConfirmationURL": "https://shop.example/mpesa/c2b/confirmation",
                "ValidationURL": "https://shop.example/mpesa/c2b/validation",
            })
        );
        assert_eq!(
            serde_json::to_value(C2bResponseType::Cancelled).expect("json"),
            json!("Cancelled")
        );
        let payer = Msisdn::of(&PhoneNumber::parse("254708374149").expect("phone"));
        let simulate = SimulateBody {
            short_code: "600638",
            command_id: "CustomerPayBillOnline",
            amount: Shillings::new(10).expect("amount"),
            msisdn: &payer,
            bill_ref_number: "ORD7K2M9QX4P",
        };
        assert_eq!(
            serde_json::to_value(&simulate).expect("json"),
            json!({
                "ShortCode": "600638",
                "CommandID": "CustomerPayBillOnline",
                "Amount": 10,
                "Msisdn": "254708374149",
                "BillRefNumber": "ORD7K2M9QX4P",
            })
        );
    }

    fn simulation(bill_ref_number: &str) -> C2bSimulation {
        C2bSimulation {
            amount: Shillings::new(10).expect("amount"),
            payer: PhoneNumber::parse("254708374149").expect("phone"),
            bill_ref_number: bill_ref_number.into(),
        }
    }

    #[tokio::test]
    async fn simulations_are_checked_before_sending() {
        let production = Daraja::new(config(crate::PRODUCTION_BASE_URL)).expect("client");
        assert_eq!(
            production.simulate_c2b(&simulation("ORD1")).await,
            Err(DarajaError::InvalidRequest(
                InvalidRequest::SimulationOutsideSandbox
            ))
        );
        let sandbox = Daraja::new(config("http://127.0.0.1:9")).expect("client");
        for bad in ["", "ORD7K2M9QX4P-ORD7K2M9", "ORD\n1"] {
            assert_eq!(
                sandbox.simulate_c2b(&simulation(bad)).await,
                Err(DarajaError::InvalidRequest(InvalidRequest::BillRefNumber)),
                "{bad:?}"
            );
        }
        assert!(!format!("{:?}", simulation("ORD1")).contains("708374149"));
    }
}
