//! Delivery reports: what the SMS provider tells, after it accepted a text, of whether the
//! phone got it. Africa's Talking posts one report per message and final status; the
//! notifier remembered, when the text was accepted, which order and which message its id
//! stands for ([`SentSms`]), so a report is recorded on that message alone.
//!
//! Invariants:
//! - A message's delivery is recorded once: the first final report wins; a report again
//!   (the provider retrying) or a different final one later changes nothing.
//! - A report is recorded only on the message that was sent with its id (the stored
//!   message id must be the report's), never on another message of the order.
//! - A report that comes before the notifier recorded the send it reports on is not
//!   acknowledged ([`DeliveryReportError::SendNotRecordedYet`]), so the provider posts it
//!   again and it is not lost; one for a send whose holder died (the message `failed`
//!   as `interrupted`) is acknowledged and changes nothing.
//! - Intermediate statuses (`Sent`, `Submitted`, `Buffered`, …) record nothing.
//! - An undelivered message lists its order among the failed notifications, for good,
//!   in the same write.

use std::fmt;
use std::future::Future;

use crate::id::OrderId;
use crate::order::channel::{Channel, ChannelState, ChannelStatus, Delivery, ErrorClass};
use crate::order::customer_message::MessageKey;
use crate::order::{Order, OrderError, OrderStore};

/// The provider's id of an accepted SMS (Africa's Talking's `ATXid_…`): 1 to 100 ASCII
/// letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsId(String);

/// Why text is not an SMS id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an SMS id: 1 to 100 letters, digits, '_' or '-'")]
pub struct InvalidSmsId;

impl SmsId {
    pub fn parse(s: &str) -> Result<Self, InvalidSmsId> {
        let valid = (1..=100).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| Self(s.to_owned())).ok_or(InvalidSmsId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SmsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an SMS told: the order's confirmation, or one of its customer messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsSubject {
    Confirmation,
    Message(MessageKey),
}

impl SmsSubject {
    /// The subject's sending state on `order`, if the order has it.
    pub fn state_on<'a>(&self, order: &'a Order) -> Option<&'a ChannelState> {
        match self {
            SmsSubject::Confirmation => Some(order.notifications.get(Channel::Sms)),
            SmsSubject::Message(key) => order
                .messages
                .iter()
                .find(|m| &m.key == key)
                .map(|m| &m.state),
        }
    }
}

impl fmt::Display for SmsSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmsSubject::Confirmation => f.write_str("confirmation"),
            SmsSubject::Message(key) => write!(f, "{key}"),
        }
    }
}

/// Where an accepted SMS belongs: its order and what it told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub order: OrderId,
    pub subject: SmsSubject,
}

/// A status word of a delivery report, as the provider names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportedStatus {
    /// Final: delivered, or not (and why).
    Final(Delivery),
    /// On its way (`Sent`, `Submitted`, `Buffered`): nothing to record.
    Interim,
}

/// A status word no provider documents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown delivery status (Success, Failed, Rejected, Sent, Submitted or Buffered)")]
pub struct UnknownReportStatus;

impl ReportedStatus {
    /// Africa's Talking's `status` with its `failureReason`: `Success` is delivered;
    /// `Failed` and `Rejected` are undelivered for the reason given (else the status);
    /// `Sent`, `Submitted`, `Buffered` are intermediate.
    pub fn parse(status: &str, failure_reason: Option<&str>) -> Result<Self, UnknownReportStatus> {
        match status {
            "Success" => Ok(Self::Final(Delivery::Delivered)),
            "Failed" | "Rejected" => {
                let reason = failure_reason.filter(|r| !r.trim().is_empty());
                Ok(Self::Final(Delivery::Undelivered(ErrorClass::new(
                    reason.unwrap_or(status),
                ))))
            }
            "Sent" | "Submitted" | "Buffered" => Ok(Self::Interim),
            _ => Err(UnknownReportStatus),
        }
    }
}

/// One delivery report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sms: SmsId,
    pub status: ReportedStatus,
}

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Its delivery is now on the message.
    Recorded(Delivery),
    /// The message already had a delivery, or is not the one sent with this id any more
    /// (its send was interrupted): nothing changed.
    Unchanged,
    /// An intermediate status: nothing to record.
    Interim,
}

/// Why a report could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryReportError {
    /// No SMS with this id was sent by this shop (or the notifier could not remember it).
    #[error("no SMS with this id was sent by this shop")]
    UnknownSms,
    /// The SMS went out but the notifier has not recorded it yet: post the report again.
    #[error("the send this report is about is not recorded yet")]
    SendNotRecordedYet,
    #[error(transparent)]
    Orders(#[from] OrderError),
}

/// Where delivery reports are recorded: what an SMS id stands for (remembered by the
/// notifier, [`crate::notification::NotificationStore::remember_sms`]), and the message's
/// delivery on its order.
pub trait DeliveryStore: OrderStore {
    /// What the SMS `id` stands for, if this shop sent it.
    fn sent_sms(
        &self,
        id: &SmsId,
    ) -> impl Future<Output = Result<Option<SentSms>, OrderError>> + Send;

    /// Writes `delivery` on the message `sent` names if it was sent as `id` and has no
    /// delivery yet (an undelivered one also lists the order among the failed
    /// notifications). `false`: it was not written.
    fn record_delivery(
        &self,
        id: &SmsId,
        sent: &SentSms,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<bool, OrderError>> + Send;
}

/// The use case: records delivery reports.
#[derive(Debug, Clone)]
pub struct DeliveryReports<S> {
    store: S,
}

impl<S: DeliveryStore> DeliveryReports<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// Records `report` on the message it is about. One read (the SMS id) and one
    /// conditional write; a write refused is looked into with one read of the order.
    #[tracing::instrument(name = "sms.delivery_report", skip_all, fields(sms_id = %report.sms))]
    pub async fn record(&self, report: &DeliveryReport) -> Result<Recorded, DeliveryReportError> {
        let ReportedStatus::Final(delivery) = &report.status else {
            return Ok(Recorded::Interim);
        };
        let sent = self
            .store
            .sent_sms(&report.sms)
            .await?
            .ok_or(DeliveryReportError::UnknownSms)?;
        tracing::info!(order_id = %sent.order, subject = %sent.subject,
            delivery = delivery.as_str(), "delivery report");
        if self
            .store
            .record_delivery(&report.sms, &sent, delivery)
            .await?
        {
            return Ok(Recorded::Recorded(delivery.clone()));
        }
        let order = self.store.order(sent.order).await?;
        let state = order.as_ref().and_then(|o| sent.subject.state_on(o));
        match state {
            Some(state)
                if state.delivery.is_none()
                    && state.status == ChannelStatus::Pending
                    && state.message_id.as_deref() != Some(report.sms.as_str()) =>
            {
                Err(DeliveryReportError::SendNotRecordedYet)
            }
            _ => Ok(Recorded::Unchanged),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_ids_are_short_plain_words() {
        assert!(SmsId::parse("ATXid_0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", "ATX id", "ATXid/../x", &"x".repeat(101), "ATXíd"] {
            assert_eq!(SmsId::parse(bad), Err(InvalidSmsId), "{bad:?}");
        }
    }

    #[test]
    fn statuses_read_as_africas_talking_names_them() {
        assert_eq!(
            ReportedStatus::parse("Success", None),
            Ok(ReportedStatus::Final(Delivery::Delivered))
        );
        assert_eq!(
            ReportedStatus::parse("Failed", Some("AbsentSubscriber")),
            Ok(ReportedStatus::Final(Delivery::Undelivered(
                ErrorClass::new("absent_subscriber")
            )))
        );
        assert_eq!(
            ReportedStatus::parse("Rejected", Some(" ")),
            Ok(ReportedStatus::Final(Delivery::Undelivered(
                ErrorClass::new("rejected")
            )))
        );
        for interim in ["Sent", "Submitted", "Buffered"] {
            assert_eq!(
                ReportedStatus::parse(interim, None),
                Ok(ReportedStatus::Interim)
            );
        }
        for unknown in ["", "success", "Delivered", "Failed "] {
            assert_eq!(
                ReportedStatus::parse(unknown, None),
                Err(UnknownReportStatus),
                "{unknown:?}"
            );
        }
    }
}
