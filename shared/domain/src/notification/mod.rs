//! Notifications of confirmed orders: the customer's SMS and the admin's email, each
//! sent at most once, their state kept on the order.
//!
//! - [`channel`] and [`customer_message`] (re-exported from [`crate::order`], whose
//!   aggregate holds them): one channel's state and its moves; the texts owed through the
//!   order's life.
//! - [`delivery_report`]: the provider's reports of whether an SMS reached the phone.
//! - [`message`]: the admin's email (docs/api.md, Notifications).
//! - [`sms`]: the customer's texts through the order's life, one SMS segment each.
//! - [`ports`]: the providers and where channel states are stored.
//! - [`service`]: the use case, on top of the ports.

pub use crate::order::{channel, customer_message};

pub mod delivery_report;
pub mod message;
pub mod ports;
pub mod service;
pub mod sms;

pub use channel::{
    Channel, ChannelState, ChannelStatus, Delivery, ErrorClass, Notifications, Outcome,
};
pub use customer_message::{CustomerEvent, CustomerMessage, MessageKey, PayBy};
pub use delivery_report::{
    DeliveryReport, DeliveryReportError, DeliveryReports, DeliveryStore, Recorded, ReportedStatus,
    SentSms, SmsId, SmsSubject,
};
pub use message::EmailContent;
pub use ports::{Accepted, EmailSender, NotificationStore, SendError, SmsSender};
pub use service::{DEFAULT_CLAIM_LEASE, Handled, Ignored, Notifier, NotifyError};
