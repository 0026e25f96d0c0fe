//! The payments use cases: prompting a customer's phone, taking what M-Pesa says (the
//! STK callback, its status query, Paybill confirmations) and applying each payment to its
//! order exactly once. Generic over the ports, so tests run them on the real adapters.
//!
//! - [`ports`]: what the service needs from storage and from M-Pesa.
//! - [`service`]: the use cases M-Pesa's messages and the customer's prompt drive.
//! - [`sweep`]: the reconciler's sweep of what no callback settled.
//! - [`staff`]: unmatched payments and the payments that need staff's attention.

pub mod ports;
pub mod service;
pub mod staff;
pub mod sweep;

pub use ports::{
    Claim, GatewayError, MpesaGateway, PaymentError, PaymentStore, PaymentWrite, PromptRef,
    PromptRequest, QueryAnswer, UnmatchedPayment, WriteFailure,
};
pub use service::{
    Handled, PaybillNotice, PaymentService, ReversalNotice, ReversalReport, StkNotice, WRITE_TRIES,
};
pub use staff::AttentionItem;
pub use sweep::{NO_ANSWER_AFTER, REVERSAL_ATTEMPTS, REVERSAL_RESULT_WAIT, SweepReport};
