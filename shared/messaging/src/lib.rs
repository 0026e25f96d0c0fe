//! The notifier's providers, behind the domain's [`domain::notification::SmsSender`] and
//! [`domain::notification::EmailSender`] ports.
//!
//! - [`africas_talking`]: SMS through Africa's Talking's messaging API (`reqwest`).
//! - [`ses`]: the admin's email through Amazon SES v2.
//!
//! Both sort every failure into transient (retried with backoff) or permanent (recorded,
//! never retried), and describe failures by status names only: no phone number, address
//! or key ever reaches an error or a log line.

pub mod africas_talking;
pub mod ses;

pub use africas_talking::{AfricasTalking, AfricasTalkingConfig};
pub use ses::SesEmail;
