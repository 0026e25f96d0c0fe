//! The local stack of `make dev` (and of `make fuzz` and the browser tests): what the
//! `devstack` binary runs. Never deployed, never linked by a function's tests except the
//! notifier's, which drive the real queue bridge.
//!
//! - [`bootstrap`]: the table from template.yaml, the notifications queue and its
//!   dead-letter queue, the SES sender, a local key pair, the demo catalog ([`seed`]) and
//!   the `dev.env` every function reads under `cargo lambda watch`.
//! - [`sms`]: the Africa's Talking stand-in the notifier sends to, which posts delivery
//!   reports.
//! - [`mpesa`]: the M-Pesa Daraja stand-in (OAuth, STK push and query, C2B, reversal).
//! - [`bridge`]: the queue bridge, standing in for Lambda's SQS event source mapping
//!   (with `ReportBatchItemFailures`) between the local queue and a function.
//! - [`gateway`]: a stand-in for API Gateway in front of `cargo lambda watch` (`make fuzz`).
//!
//! Invariant: every AWS client points at the local endpoint it was given; nothing here can
//! reach a real AWS account.

mod background;
pub mod bootstrap;
pub mod bridge;
pub mod gateway;
pub mod mpesa;
pub mod seed;
pub mod sms;

/// Everything that can go wrong in the local stack.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// The kit's table, queue, key or template work failed.
    #[error(transparent)]
    Kit(#[from] testkit::KitError),
    /// A file, a port or a local service.
    #[error("{0}")]
    Other(String),
}
