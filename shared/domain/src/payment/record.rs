//! One M-Pesa payment and the only moves it can make.
//!
//! Invariants:
//! - A prompt is `succeeded` only on [`PromptOutcome::Confirmed`] (the STK Query answered
//!   `ResultCode` `"0"`); a callback alone never makes it so. Only a non-zero result code
//!   ([`PromptOutcome::Refused`]) or the 10-minute rule ([`PromptOutcome::NoAnswer`]) makes
//!   it `failed`, and a success proven after the 10-minute rule still counts.
//! - `succeeded` and `reversed` are never left by an outcome of the prompt: a late or
//!   repeated message cannot take money back or count it twice.
//! - A reversal is requested only for a succeeded payment with a receipt (M-Pesa reverses
//!   by receipt); `reversed` is reached only through M-Pesa's answer (`0`, or `R000001`:
//!   already reversed).
//! - `Debug` never shows the payer's number or name (personal data stays out of logs).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::id::{InvalidId, OrderId, ulid_id};
use crate::money::Money;
use crate::timestamp::Timestamp;

ulid_id!(
    /// Identifies a payment.
    PaymentId
);

/// How the money came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentMethod {
    /// A prompt the system sent to the payer's phone (Lipa na M-Pesa Online, "STK push").
    MpesaPrompt,
    /// A payment from the payer's own M-Pesa menu to the shop's Paybill.
    MpesaPaybill,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::MpesaPrompt => "mpesa_prompt",
            PaymentMethod::MpesaPaybill => "mpesa_paybill",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [PaymentMethod::MpesaPrompt, PaymentMethod::MpesaPaybill]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// A prompt waiting on the phone (or on M-Pesa's answer).
    Pending,
    /// M-Pesa confirmed the money: it counts in `amount_paid`.
    Succeeded,
    /// The prompt was refused, cancelled, or got no answer in time.
    Failed,
    /// The money went back to the payer.
    Reversed,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Succeeded => "succeeded",
            PaymentState::Failed => "failed",
            PaymentState::Reversed => "reversed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PaymentState::Pending,
            PaymentState::Succeeded,
            PaymentState::Failed,
            PaymentState::Reversed,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// An M-Pesa receipt number (`MpesaReceiptNumber`, `TransID`): 8 to 20 digits and
/// upper-case letters, such as `SLJ7RT61SV`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Receipt(String);

/// Why text is not an M-Pesa receipt number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an M-Pesa receipt number is 8 to 20 upper-case letters and digits")]
pub struct InvalidReceipt;

impl Receipt {
    pub fn parse(s: &str) -> Result<Self, InvalidReceipt> {
        let valid = (8..=20).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        valid.then(|| Self(s.to_owned())).ok_or(InvalidReceipt)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// M-Pesa's result for a prompt: its `ResultCode` (as text: `"0"`, `"1032"`) and
/// `ResultDesc`. A prompt failed by the 10-minute rule has no code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpesaResult {
    pub code: Option<String>,
    pub description: String,
}

impl MpesaResult {
    /// The description of a prompt failed by the 10-minute rule.
    pub const NO_ANSWER: &'static str = "no answer";
}

/// What M-Pesa said about a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptOutcome {
    /// The STK Query answered `ResultCode` `"0"`.
    Confirmed,
    /// A non-zero `ResultCode`: cancelled by the user, insufficient funds, wrong PIN, ...
    Refused { code: String, description: String },
    /// No definite answer 10 minutes after the prompt was sent.
    NoAnswer,
}

/// Where a reversal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReversalState {
    Requested,
    Reversed,
    Failed,
}

impl ReversalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReversalState::Requested => "requested",
            ReversalState::Reversed => "reversed",
            ReversalState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ReversalState::Requested,
            ReversalState::Reversed,
            ReversalState::Failed,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// The reversal of a succeeded payment (Daraja's Reversal API, by receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversal {
    pub state: ReversalState,
    /// M-Pesa's `ResultCode` once it answered (`"0"`, `"R000001"`, `"R000002"`, ...).
    pub result_code: Option<String>,
    /// When the state was last set.
    pub at: Timestamp,
    /// M-Pesa's `ConversationID` of the latest request, to match its result.
    pub conversation_id: Option<String>,
    /// How many times it was requested.
    pub attempts: u32,
}

/// M-Pesa's answer to a reversal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversalOutcome {
    /// `ResultCode` 0.
    Reversed,
    /// `R000001`: the transaction had already been reversed (the money is back).
    AlreadyReversed,
    /// Any other code, or a timeout: the money is still with the shop.
    Failed { code: Option<String> },
}

/// Why a reversal cannot be requested (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CannotReverse {
    #[error("only a succeeded payment can be reversed")]
    NotSucceeded,
    #[error("M-Pesa reverses by receipt, and this payment has none yet")]
    NoReceipt,
    #[error("a reversal of this payment is already requested or done")]
    AlreadyUnderway,
}

/// A payment, through either method.
#[derive(Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    /// The order it pays; `None` while it is unmatched (a Paybill payment that named no
    /// order, or a confirmed prompt M-Pesa names but no order holds).
    pub order_id: Option<OrderId>,
    pub method: PaymentMethod,
    pub state: PaymentState,
    pub amount: Money,
    /// As M-Pesa gives it: the number prompted, or the masked Paybill payer.
    pub phone_number: Option<String>,
    pub payer_name: Option<String>,
    pub receipt: Option<Receipt>,
    /// The prompt's `CheckoutRequestID` once M-Pesa accepted it.
    pub checkout_request_id: Option<String>,
    /// What the payer typed as the account number (Paybill).
    pub account_reference: Option<String>,
    pub result: Option<MpesaResult>,
    pub reversal: Option<Reversal>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payment")
            .field("id", &self.id)
            .field("order_id", &self.order_id)
            .field("method", &self.method)
            .field("state", &self.state)
            .field("amount", &self.amount)
            .field("receipt", &self.receipt)
            .field("checkout_request_id", &self.checkout_request_id)
            .field("result", &self.result)
            .field("reversal", &self.reversal)
            .finish_non_exhaustive()
    }
}

impl Payment {
    /// A prompt about to be sent to `phone_number` for `amount`: pending, with no
    /// `CheckoutRequestID` until M-Pesa accepts it.
    pub fn prompt(
        id: PaymentId,
        order_id: OrderId,
        amount: Money,
        phone_number: String,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            order_id: Some(order_id),
            method: PaymentMethod::MpesaPrompt,
            state: PaymentState::Pending,
            amount,
            phone_number: Some(phone_number),
            payer_name: None,
            receipt: None,
            checkout_request_id: None,
            account_reference: None,
            result: None,
            reversal: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// A Paybill payment M-Pesa confirmed: succeeded from the start (the confirmation is
    /// M-Pesa's record of money received), for `order_id` or unmatched.
    #[allow(clippy::too_many_arguments)]
    pub fn paybill(
        id: PaymentId,
        order_id: Option<OrderId>,
        amount: Money,
        receipt: Receipt,
        phone_number: Option<String>,
        payer_name: Option<String>,
        account_reference: String,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            order_id,
            method: PaymentMethod::MpesaPaybill,
            state: PaymentState::Succeeded,
            amount,
            phone_number,
            payer_name,
            receipt: Some(receipt),
            checkout_request_id: None,
            account_reference: Some(account_reference),
            result: Some(MpesaResult {
                code: Some("0".into()),
                description: "Paybill payment confirmed".into(),
            }),
            reversal: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// A prompt M-Pesa confirmed (its status query said `"0"`) that no order of ours
    /// sent: kept, unmatched, for staff to assign.
    pub fn unmatched_prompt(
        id: PaymentId,
        amount: Money,
        receipt: Receipt,
        checkout_request_id: String,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            order_id: None,
            method: PaymentMethod::MpesaPrompt,
            state: PaymentState::Succeeded,
            amount,
            phone_number: None,
            payer_name: None,
            receipt: Some(receipt),
            checkout_request_id: Some(checkout_request_id),
            account_reference: None,
            result: Some(MpesaResult {
                code: Some("0".into()),
                description: "confirmed by the status query".into(),
            }),
            reversal: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Whether the money counts towards the order (`amount_paid`).
    pub fn counts(&self) -> bool {
        self.state == PaymentState::Succeeded
    }

    /// Whether the payment ever held money (succeeded, or succeeded and then reversed).
    pub fn held_money(&self) -> bool {
        matches!(self.state, PaymentState::Succeeded | PaymentState::Reversed)
    }

    /// M-Pesa accepted the prompt and named it.
    pub fn accepted(&mut self, checkout_request_id: String, at: Timestamp) {
        if self.checkout_request_id.is_none() {
            self.checkout_request_id = Some(checkout_request_id);
            self.updated_at = at;
        }
    }

    /// Applies what M-Pesa said about the prompt. Returns whether anything changed, so a
    /// repeated or late message is seen as the no-op it is.
    pub fn settle(&mut self, outcome: &PromptOutcome, at: Timestamp) -> bool {
        let failed_for_no_answer = self.state == PaymentState::Failed
            && self.result.as_ref().is_some_and(|r| r.code.is_none());
        let next = match (self.state, outcome) {
            (PaymentState::Pending, PromptOutcome::Confirmed) => PaymentState::Succeeded,
            // A success proven after the 10-minute rule still counts.
            (PaymentState::Failed, PromptOutcome::Confirmed) if failed_for_no_answer => {
                PaymentState::Succeeded
            }
            (PaymentState::Pending, PromptOutcome::Refused { .. } | PromptOutcome::NoAnswer) => {
                PaymentState::Failed
            }
            _ => return false,
        };
        self.state = next;
        self.result = Some(match outcome {
            PromptOutcome::Confirmed => MpesaResult {
                code: Some("0".into()),
                description: "The service request is processed successfully.".into(),
            },
            PromptOutcome::Refused { code, description } => MpesaResult {
                code: Some(code.clone()),
                description: description.clone(),
            },
            PromptOutcome::NoAnswer => MpesaResult {
                code: None,
                description: MpesaResult::NO_ANSWER.into(),
            },
        });
        self.updated_at = at;
        true
    }

    /// Keeps the receipt a callback brought. A payment keeps its first receipt: another
    /// one is refused (`false`), as is one on a payment that can no longer hold money.
    pub fn attach_receipt(&mut self, receipt: Receipt, at: Timestamp) -> bool {
        match &self.receipt {
            Some(_) => false,
            None if matches!(self.state, PaymentState::Pending | PaymentState::Succeeded) => {
                self.receipt = Some(receipt);
                self.updated_at = at;
                true
            }
            None => false,
        }
    }

    /// Marks a reversal as requested (again, after a failure).
    pub fn request_reversal(&mut self, at: Timestamp) -> Result<(), CannotReverse> {
        if self.state != PaymentState::Succeeded {
            return Err(CannotReverse::NotSucceeded);
        }
        if self.receipt.is_none() {
            return Err(CannotReverse::NoReceipt);
        }
        let attempts = match &self.reversal {
            None => 0,
            Some(r) if r.state == ReversalState::Failed => r.attempts,
            Some(_) => return Err(CannotReverse::AlreadyUnderway),
        };
        self.reversal = Some(Reversal {
            state: ReversalState::Requested,
            result_code: None,
            at,
            conversation_id: None,
            attempts: attempts + 1,
        });
        self.updated_at = at;
        Ok(())
    }

    /// Whether a reversal is requested that M-Pesa has not taken yet (no `ConversationID`):
    /// the call to its Reversal API is due.
    pub fn awaits_reversal_call(&self) -> bool {
        self.receipt.is_some()
            && self
                .reversal
                .as_ref()
                .is_some_and(|r| r.state == ReversalState::Requested && r.conversation_id.is_none())
    }

    /// M-Pesa accepted the reversal request and named it.
    pub fn reversal_accepted(&mut self, conversation_id: String, at: Timestamp) {
        if let Some(reversal) = &mut self.reversal
            && reversal.state == ReversalState::Requested
        {
            reversal.conversation_id = Some(conversation_id);
            reversal.at = at;
            self.updated_at = at;
        }
    }

    /// Applies M-Pesa's answer to the requested reversal. Returns whether anything
    /// changed (an answer to no requested reversal changes nothing).
    pub fn settle_reversal(&mut self, outcome: &ReversalOutcome, at: Timestamp) -> bool {
        let Some(reversal) = &mut self.reversal else {
            return false;
        };
        if reversal.state != ReversalState::Requested || self.state != PaymentState::Succeeded {
            return false;
        }
        match outcome {
            ReversalOutcome::Reversed | ReversalOutcome::AlreadyReversed => {
                reversal.state = ReversalState::Reversed;
                reversal.result_code = Some(
                    if *outcome == ReversalOutcome::Reversed {
                        "0"
                    } else {
                        "R000001"
                    }
                    .into(),
                );
                self.state = PaymentState::Reversed;
            }
            ReversalOutcome::Failed { code } => {
                reversal.state = ReversalState::Failed;
                reversal.result_code = code.clone();
            }
        }
        reversal.at = at;
        self.updated_at = at;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("timestamp")
    }

    fn prompt() -> Payment {
        Payment::prompt(
            PaymentId::generate(),
            OrderId::generate(),
            Money::from_whole_shillings(1161),
            "+254712345678".into(),
            at("2026-12-06T10:00:00Z"),
        )
    }

    fn receipt() -> Receipt {
        Receipt::parse("SLJ7RT61SV").expect("receipt")
    }

    fn refused() -> PromptOutcome {
        PromptOutcome::Refused {
            code: "1032".into(),
            description: "Request cancelled by user".into(),
        }
    }

    #[test]
    fn only_the_query_makes_a_prompt_succeed_and_then_it_stays() {
        let mut p = prompt();
        let later = at("2026-12-06T10:00:05Z");
        assert!(p.settle(&PromptOutcome::Confirmed, later));
        assert_eq!(p.state, PaymentState::Succeeded);
        assert!(p.counts());
        assert!(!p.settle(&PromptOutcome::Confirmed, later), "twice is once");
        assert!(
            !p.settle(&refused(), later),
            "a late refusal takes nothing back"
        );
        assert!(!p.settle(&PromptOutcome::NoAnswer, later));
        assert_eq!(p.state, PaymentState::Succeeded);
    }

    #[test]
    fn a_refusal_fails_the_prompt_for_good_but_a_late_success_after_no_answer_counts() {
        let mut refused_prompt = prompt();
        assert!(refused_prompt.settle(&refused(), at("2026-12-06T10:00:05Z")));
        assert_eq!(refused_prompt.state, PaymentState::Failed);
        assert_eq!(
            refused_prompt
                .result
                .as_ref()
                .and_then(|r| r.code.as_deref()),
            Some("1032")
        );
        assert!(!refused_prompt.settle(&PromptOutcome::Confirmed, at("2026-12-06T10:01:00Z")));

        let mut silent = prompt();
        assert!(silent.settle(&PromptOutcome::NoAnswer, at("2026-12-06T10:10:00Z")));
        assert_eq!(silent.state, PaymentState::Failed);
        assert_eq!(
            silent.result.as_ref().map(|r| r.description.as_str()),
            Some(MpesaResult::NO_ANSWER)
        );
        assert!(silent.settle(&PromptOutcome::Confirmed, at("2026-12-06T10:12:00Z")));
        assert_eq!(silent.state, PaymentState::Succeeded);
    }

    #[test]
    fn a_payment_keeps_its_first_receipt() {
        let mut p = prompt();
        assert!(p.attach_receipt(receipt(), at("2026-12-06T10:00:01Z")));
        let other = Receipt::parse("SLJ7RT61SW").expect("receipt");
        assert!(!p.attach_receipt(other, at("2026-12-06T10:00:02Z")));
        assert_eq!(p.receipt, Some(receipt()));
        let mut failed = prompt();
        failed.settle(&refused(), at("2026-12-06T10:00:01Z"));
        assert!(!failed.attach_receipt(receipt(), at("2026-12-06T10:00:02Z")));
    }

    #[test]
    fn a_reversal_needs_a_receipt_and_ends_only_on_mpesas_answer() {
        let t = at("2026-12-06T11:00:00Z");
        let mut p = prompt();
        assert_eq!(p.request_reversal(t), Err(CannotReverse::NotSucceeded));
        p.settle(&PromptOutcome::Confirmed, t);
        assert_eq!(p.request_reversal(t), Err(CannotReverse::NoReceipt));
        p.attach_receipt(receipt(), t);
        assert!(!p.awaits_reversal_call());
        assert_eq!(p.request_reversal(t), Ok(()));
        assert!(p.awaits_reversal_call(), "requested: M-Pesa is to be asked");
        assert_eq!(p.request_reversal(t), Err(CannotReverse::AlreadyUnderway));
        p.reversal_accepted("AG_20261206_1".into(), t);
        assert!(
            !p.awaits_reversal_call(),
            "M-Pesa took it: never asked twice"
        );
        assert!(
            p.counts(),
            "the money is the shop's until M-Pesa says otherwise"
        );

        let failed = ReversalOutcome::Failed {
            code: Some("R000002".into()),
        };
        assert!(p.settle_reversal(&failed, t));
        assert_eq!(p.state, PaymentState::Succeeded);
        assert_eq!(
            p.request_reversal(t),
            Ok(()),
            "a failed reversal may be retried"
        );
        assert_eq!(p.reversal.as_ref().map(|r| r.attempts), Some(2));
        assert!(p.settle_reversal(&ReversalOutcome::AlreadyReversed, t));
        assert_eq!(p.state, PaymentState::Reversed);
        assert!(!p.counts() && p.held_money());
        assert!(
            !p.settle_reversal(&ReversalOutcome::Reversed, t),
            "twice is once"
        );
        assert!(!p.settle(&PromptOutcome::Confirmed, t));
    }

    #[test]
    fn receipts_are_upper_case_alphanumerics() {
        for ok in ["SLJ7RT61SV", "RKTQDM7W6S", "ABCDEFGH"] {
            assert!(Receipt::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "slj7rt61sv",
            "SLJ7 RT61",
            "SLJ7",
            "SLJ7RT61SV-",
            "SLJ7RT61SV123456789012",
        ] {
            assert_eq!(Receipt::parse(bad), Err(InvalidReceipt), "{bad:?}");
        }
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let mut p = prompt();
        p.payer_name = Some("Wanjiru Kamau".into());
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("712345678") && !shown.contains("Wanjiru"),
            "{shown}"
        );
    }
}
