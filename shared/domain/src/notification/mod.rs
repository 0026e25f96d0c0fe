//! Notifications of confirmed orders: the customer's SMS and the admin's email, each
//! sent at most once, their state kept on the order.
//!
//! - [`channel`]: one channel's state and the only moves it can make.
//! - [`message`]: the texts (docs/api.md, Notifications).
//! - [`ports`]: the providers and where channel states are stored.
//! - [`service`]: the use case, on top of the ports.

pub mod channel;
pub mod message;
pub mod ports;
pub mod service;

pub use channel::{Channel, ChannelState, ChannelStatus, ErrorClass, Notifications, Outcome};
pub use message::EmailContent;
pub use ports::{Accepted, EmailSender, NotificationStore, SendError, SmsSender};
pub use service::{DEFAULT_CLAIM_LEASE, Handled, Ignored, Notifier, NotifyError};
