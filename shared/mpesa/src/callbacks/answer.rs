//! What we answer M-Pesa's callbacks with (HTTP 200, `application/json`).
//!
//! Invariant: the bodies are Daraja's exact shapes: the STK (and result-URL) answer has a
//! numeric `ResultCode`, the C2B answers a string one; a C2B rejection names one of
//! Daraja's `C2B000xx` reasons.

/// Why a C2B payment is rejected at the validation URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C2bRejection {
    /// `C2B00011`.
    InvalidMsisdn,
    /// `C2B00012`: no order has this account number.
    InvalidAccountNumber,
    /// `C2B00013`.
    InvalidAmount,
    /// `C2B00014`.
    InvalidKyc,
    /// `C2B00015`.
    InvalidShortcode,
    /// `C2B00016`.
    Other,
}

/// The body of our answer to a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAnswer {
    /// `{"ResultCode":0,"ResultDesc":"Accepted"}`: to an STK callback or a result URL.
    Accepted,
    /// `{"ResultCode":"0","ResultDesc":"Accepted"}`: to a C2B confirmation or validation.
    C2bAccepted,
    /// `{"ResultCode":"C2B000xx","ResultDesc":"Rejected"}`: to a C2B validation.
    C2bRejected(C2bRejection),
}

impl CallbackAnswer {
    /// The answer to an STK callback.
    pub fn stk_accepted() -> Self {
        Self::Accepted
    }

    /// The answer accepting a C2B payment.
    pub fn c2b_accepted() -> Self {
        Self::C2bAccepted
    }

    /// The answer rejecting a C2B payment at validation.
    pub fn c2b_rejected(reason: C2bRejection) -> Self {
        Self::C2bRejected(reason)
    }

    /// The JSON body.
    pub fn body(&self) -> &'static str {
        match self {
            Self::Accepted => r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#,
            Self::C2bAccepted => r#"{"ResultCode":"0","ResultDesc":"Accepted"}"#,
            Self::C2bRejected(reason) => match reason {
                C2bRejection::InvalidMsisdn => {
                    r#"{"ResultCode":"C2B00011","ResultDesc":"Rejected"}"#
                }
                C2bRejection::InvalidAccountNumber => {
                    r#"{"ResultCode":"C2B00012","ResultDesc":"Rejected"}"#
                }
                C2bRejection::InvalidAmount => {
                    r#"{"ResultCode":"C2B00013","ResultDesc":"Rejected"}"#
                }
                C2bRejection::InvalidKyc => r#"{"ResultCode":"C2B00014","ResultDesc":"Rejected"}"#,
                C2bRejection::InvalidShortcode => {
                    r#"{"ResultCode":"C2B00015","ResultDesc":"Rejected"}"#
                }
                C2bRejection::Other => r#"{"ResultCode":"C2B00016","ResultDesc":"Rejected"}"#,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn json(answer: CallbackAnswer) -> Value {
        serde_json::from_str(answer.body()).expect("json")
    }

    #[test]
    fn bodies_are_daraja_s() {
        assert_eq!(
            json(CallbackAnswer::stk_accepted()),
            json!({"ResultCode": 0, "ResultDesc": "Accepted"})
        );
        assert_eq!(
            json(CallbackAnswer::c2b_accepted()),
            json!({"ResultCode": "0", "ResultDesc": "Accepted"})
        );
        assert_eq!(
            json(CallbackAnswer::c2b_rejected(
                C2bRejection::InvalidAccountNumber
            )),
            json!({"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
        );
        for (reason, code) in [
            (C2bRejection::InvalidMsisdn, "C2B00011"),
            (C2bRejection::InvalidAmount, "C2B00013"),
            (C2bRejection::InvalidKyc, "C2B00014"),
            (C2bRejection::InvalidShortcode, "C2B00015"),
            (C2bRejection::Other, "C2B00016"),
        ] {
            assert_eq!(
                json(CallbackAnswer::c2b_rejected(reason)),
                json!({"ResultCode": code, "ResultDesc": "Rejected"})
            );
        }
    }
}
