//! M-Pesa payments of an order, kept apart from its fulfilment `status` (as Shopify keeps
//! `financial_status`): payment never gates fulfilment, and fulfilment never rewrites a
//! payment.
//!
//! - [`amounts`]: `amount_due` (rounded up to whole shillings) and what one prompt may ask.
//! - [`record`]: one payment and the only moves it can make.
//!
//! What an order's payments add up to (`payment_status`, `amount_paid`) and its Paybill
//! account number are the order's ([`crate::order::payments`],
//! [`crate::order::reference`]); the use cases are [`crate::payment_use_cases`]. This
//! module depends on neither.
//!
//! Invariants: amounts are [`Money`](crate::Money) (exact decimals, never floats);
//! `amount_paid` is the sum of succeeded payments, so a payment counts once whatever
//! path (callback, query, Paybill, staff assignment) made it succeed.

pub mod amounts;
pub mod record;

pub use amounts::{PROMPT_LIMIT, amount_due, prompt_amount};
pub use record::{
    InvalidReceipt, MpesaResult, Payment, PaymentId, PaymentMethod, PaymentState, PromptOutcome,
    Receipt, Reversal, ReversalOutcome, ReversalState,
};
