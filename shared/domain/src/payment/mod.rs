//! M-Pesa payments of an order, kept apart from its fulfilment `status` (as Shopify keeps
//! `financial_status`): payment never gates fulfilment, and fulfilment never rewrites a
//! payment.
//!
//! - [`reference`]: the order's Paybill account number (`payment_reference`).
//! - [`amounts`]: `amount_due` (rounded up to whole shillings) and what one prompt may ask.
//! - [`record`]: one payment and the only moves it can make.
//! - [`standing`]: what an order's payments add up to (`payment_status`, `amount_paid`),
//!   whether it can be prompted, and why staff must look at it.
//!
//! Invariants: amounts are [`Money`](crate::Money) (exact decimals, never floats);
//! `amount_paid` is the sum of succeeded payments, so a payment counts once whatever
//! path (callback, query, Paybill, staff assignment) made it succeed.

pub mod amounts;
pub mod record;
pub mod reference;
pub mod standing;

pub use amounts::{PROMPT_LIMIT, amount_due, prompt_amount};
pub use record::{
    InvalidReceipt, MpesaResult, Payment, PaymentId, PaymentMethod, PaymentState, PromptOutcome,
    Receipt, Reversal, ReversalOutcome, ReversalState,
};
pub use reference::{InvalidPaymentReference, PaymentReference};
pub use standing::{Attention, NotPayable, PaymentStanding, PaymentStatus};
