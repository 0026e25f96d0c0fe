//! Why a call to Daraja did not give the answer asked for.
//!
//! Invariants:
//! - Every failure is either certain that M-Pesa did not take the request (not sent,
//!   no access token, or a definite refusal: [`DarajaError::not_taken`]) or a
//!   [`DarajaError::NoAnswer`], after which M-Pesa may or may not have taken it.
//! - Errors carry HTTP statuses, Daraja's codes (cleaned to a short code alphabet) and
//!   short descriptions with digit runs masked: never a phone number, a name or a secret.

use std::fmt;

/// A call's failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DarajaError {
    /// The request breaks one of Daraja's rules; nothing was sent.
    #[error("request not sent: {0}")]
    InvalidRequest(#[from] InvalidRequest),
    /// No access token could be had; the call itself was not sent.
    #[error("no access token: {0}")]
    NoToken(TokenFailure),
    /// Daraja answered that it did not take the request.
    #[error("refused by Daraja: {0}")]
    Refused(Refusal),
    /// No definite answer: M-Pesa may or may not have taken the request (for a query:
    /// ask again later).
    #[error("no definite answer from Daraja: {0}")]
    NoAnswer(NoAnswer),
}

impl DarajaError {
    /// Whether M-Pesa certainly did not take the request: for a prompt, its slot can be
    /// freed. `false` means it may have been taken (keep the payment pending).
    pub fn not_taken(&self) -> bool {
        !matches!(self, Self::NoAnswer(_))
    }

    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::InvalidRequest(_) => false,
            Self::NoToken(TokenFailure::NoAnswer(_)) | Self::NoAnswer(_) => true,
            Self::NoToken(TokenFailure::Refused(refusal)) | Self::Refused(refusal) => {
                refusal.is_throttled()
            }
        }
    }

    /// A short, stable name of the kind of failure, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::NoToken(TokenFailure::Refused(_)) => "token_refused",
            Self::NoToken(TokenFailure::NoAnswer(_)) => "token_no_answer",
            Self::Refused(_) => "refused",
            Self::NoAnswer(no_answer) => no_answer.kind(),
        }
    }
}

/// A rule of Daraja's that a request would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRequest {
    #[error("AccountReference must be 1 to 12 printable ASCII characters")]
    AccountReference,
    #[error("TransactionDesc must be 1 to 13 printable ASCII characters")]
    TransactionDesc,
    #[error("CheckoutRequestID must be 1 to 100 printable ASCII characters")]
    CheckoutRequestId,
    #[error("BillRefNumber must be 1 to 20 printable ASCII characters")]
    BillRefNumber,
    #[error("Remarks must be 2 to 100 printable ASCII characters")]
    Remarks,
    #[error("Occasion must be at most 100 printable ASCII characters")]
    Occasion,
    #[error("C2B payments can only be simulated in the sandbox")]
    SimulationOutsideSandbox,
}

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFailure {
    /// The OAuth endpoint refused the credentials (fix the configuration).
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    NoAnswer(NoAnswer),
}

/// Daraja's definite "no": an error code and description, or a non-zero `ResponseCode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub http_status: u16,
    /// `errorCode` (`"400.002.02"`) or `ResponseCode` (`"1"`), cleaned.
    pub code: String,
    /// `errorMessage` or `ResponseDescription`, shortened, digit runs masked.
    pub description: String,
}

impl Refusal {
    /// Daraja's code for an access token it does not (or no longer) accept.
    pub const INVALID_TOKEN: &str = "404.001.03";

    /// Whether the access token was refused (the call is worth one retry with a new one).
    pub fn is_invalid_token(&self) -> bool {
        self.code == Self::INVALID_TOKEN
    }

    /// Whether Daraja turned the request away for load (quota, spike arrest): asking
    /// again later may succeed.
    pub fn is_throttled(&self) -> bool {
        self.http_status == 429 || is_throttling(&self.code, &self.description)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP {}, code {}: {}",
            self.http_status, self.code, self.description
        )
    }
}

/// Why there was no definite answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAnswer {
    #[error("Daraja did not answer in time")]
    Timeout,
    #[error("Daraja could not be reached, or its answer was cut off")]
    Unreachable,
    /// Quota, spike arrest, "system is busy".
    #[error("Daraja is busy: HTTP {http_status}, code {}", code.as_deref().unwrap_or("none"))]
    Busy {
        http_status: u16,
        code: Option<String>,
    },
    #[error("Daraja failed: HTTP {http_status}, code {}", code.as_deref().unwrap_or("none"))]
    ServerError {
        http_status: u16,
        code: Option<String>,
    },
    /// An answer that is none of the documented shapes.
    #[error("Daraja's answer could not be read: HTTP {http_status}")]
    Unreadable { http_status: u16 },
}

impl NoAnswer {
    /// A short, stable name of the kind, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::Busy { .. } => "busy",
            Self::ServerError { .. } => "server_error",
            Self::Unreadable { .. } => "unreadable",
        }
    }
}

/// Whether a code or description says Daraja is shedding load (spike arrest, quota,
/// "System is busy").
pub(crate) fn is_throttling(code: &str, description: &str) -> bool {
    let description = description.to_ascii_lowercase();
    matches!(code, "500.003.02" | "500.003.03")
        || ["busy", "spike arrest", "quota", "rate limit"]
            .iter()
            .any(|word| description.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(http_status: u16, code: &str) -> Refusal {
        Refusal {
            http_status,
            code: code.into(),
            description: "Bad Request".into(),
        }
    }

    #[test]
    fn only_no_answer_may_have_been_taken() {
        let cases = [
            (
                DarajaError::InvalidRequest(InvalidRequest::Remarks),
                true,
                false,
            ),
            (
                DarajaError::NoToken(TokenFailure::NoAnswer(NoAnswer::Timeout)),
                true,
                true,
            ),
            (
                DarajaError::NoToken(TokenFailure::Refused(refusal(400, "400.008.01"))),
                true,
                false,
            ),
            (
                DarajaError::Refused(refusal(400, "400.002.02")),
                true,
                false,
            ),
            (DarajaError::Refused(refusal(429, "429.001.01")), true, true),
            (DarajaError::Refused(refusal(200, "1")), true, false),
            (DarajaError::NoAnswer(NoAnswer::Timeout), false, true),
            (
                DarajaError::NoAnswer(NoAnswer::Unreadable { http_status: 200 }),
                false,
                true,
            ),
        ];
        for (error, not_taken, transient) in cases {
            assert_eq!(error.not_taken(), not_taken, "{error}");
            assert_eq!(error.is_transient(), transient, "{error}");
        }
    }

    #[test]
    fn display_names_status_and_code() {
        let error = DarajaError::Refused(refusal(400, "400.002.02"));
        assert_eq!(
            error.to_string(),
            "refused by Daraja: HTTP 400, code 400.002.02: Bad Request"
        );
        let busy = DarajaError::NoAnswer(NoAnswer::Busy {
            http_status: 429,
            code: None,
        });
        assert_eq!(
            busy.to_string(),
            "no definite answer from Daraja: Daraja is busy: HTTP 429, code none"
        );
        assert_eq!(busy.kind(), "busy");
    }
}
