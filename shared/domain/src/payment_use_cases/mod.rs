//! The payments use cases: prompting a customer's phone, taking what M-Pesa says (the
//! STK callback, its status query, Paybill confirmations) and applying each payment to its
//! order exactly once. Generic over the ports, so tests run them on the real adapters.
//!
//! - [`ports`]: what the service needs from storage and from M-Pesa.
//! - [`service`]: the use cases.

pub mod ports;
pub mod service;

pub use ports::{
    Claim, GatewayError, MpesaGateway, PaymentError, PaymentStore, PaymentWrite, PromptRef,
    PromptRequest, QueryAnswer, UnmatchedPayment, WriteFailure,
};
pub use service::{
    Handled, PaybillNotice, PaymentService, ReversalNotice, ReversalReport, StkNotice, WRITE_TRIES,
};
