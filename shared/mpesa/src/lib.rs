//! M-Pesa through Safaricom's Daraja API: a thin client ([`Daraja`]) for OAuth, the STK
//! push and its query, C2B URL registration and simulation, and reversals; and strict
//! parsers of the callbacks M-Pesa posts to us ([`callbacks`]).
//!
//! Invariants of the whole crate:
//! - Secrets (consumer key and secret, passkey, security credential, access tokens, STK
//!   passwords) are [`secrecy::SecretString`]s: exposed only into a request, never
//!   formatted, logged or put in an error.
//! - Phone numbers and payer names never reach an error, a log line or a `Debug` output;
//!   errors carry HTTP statuses, Daraja's codes and short descriptions with long digit
//!   runs masked.
//! - Every failed call says whether M-Pesa certainly did not take the request
//!   ([`DarajaError::not_taken`]) or may have ([`DarajaError::NoAnswer`]), so a payment
//!   is never given up on while a prompt may still be on the customer's phone.
//! - Amounts are exact decimals ([`domain::Money`]) or whole shillings ([`Shillings`]),
//!   never floats; Daraja's timestamps are Nairobi time (UTC+3, no daylight saving).
//! - Answers are classified by pure functions of `(HTTP status, body)` (`classify_*`), so
//!   every rule is tested without a server.

mod answers;
pub mod auth;
pub mod c2b;
pub mod callbacks;
pub mod client;
pub mod error;
mod fields;
pub mod gateway;
pub mod msisdn;
pub mod nairobi;
pub mod password;
pub mod result_code;
pub mod reversal;
pub mod shillings;
pub mod stk;

pub use auth::{TokenAnswer, classify_token, renewal_margin, token_is_fresh};
pub use c2b::{C2bResponseType, C2bSimulation, C2bUrls, classify_c2b_answer};
pub use callbacks::{
    C2bPayment, C2bRejection, CallbackAnswer, MalformedCallback, Problem, ReversalResult,
    StkCallback, StkPaid,
};
pub use client::{
    Clock, Daraja, DarajaBuildError, DarajaConfig, PRODUCTION_BASE_URL, SANDBOX_BASE_URL,
    SystemClock,
};
/// Receipt numbers are the domain's: one rule for what M-Pesa sends and what is stored.
pub use domain::payment::{InvalidReceipt, Receipt};
pub use error::{DarajaError, InvalidRequest, NoAnswer, Refusal, TokenFailure};
pub use gateway::{BadCallbackBase, DarajaGateway, PROMPT_DESCRIPTION, REVERSAL_REMARKS};
pub use msisdn::Msisdn;
pub use nairobi::{NAIROBI, nairobi_timestamp, parse_nairobi_timestamp};
pub use password::stk_password;
pub use result_code::ResultCode;
pub use reversal::{Reversal, ReversalAccepted, classify_reversal};
pub use shillings::{InvalidShillings, MAX_SHILLINGS, Shillings};
pub use stk::{StkAccepted, StkPush, StkQueryAnswer, classify_stk_push, classify_stk_query};
