//! Delivery reports on DynamoDB: the `SMS#<provider id>` item that leads an accepted SMS to
//! its order and message, and the conditional write of a report on the order item.
//!
//! Invariants:
//! - The `SMS#` item is put once the provider accepted the text, before the send is
//!   recorded; it expires after [`SENT_SMS_TTL_DAYS`] (reports come within hours), and
//!   putting it again (a retry) writes the same item.
//! - A delivery is written only where the message's stored `message_id` is the report's
//!   and no delivery is stored yet: a second report, or one about an earlier send, changes
//!   nothing. An undelivered one lists the order among the failed notifications (GSI5,
//!   `messages_failed`) in the same `UpdateItem`, for good.

use domain::OrderId;
use domain::notification::{Channel, Delivery, SentSms, SmsId, SmsSubject};
use domain::order::OrderError;
use serde::{Deserialize, Serialize};

use crate::expr::Expr;
use crate::item::s;
use crate::keys::{self, entity};
use crate::records::channel::{channel_attr, delivery_fields};
use crate::records::message::message_attr;
use crate::records::order::listed_as_failed;
use crate::records::{ItemHead, attr, decode, encode};
use crate::table::{Table, WriteError};

/// How long an accepted SMS's id is kept for its delivery report.
pub const SENT_SMS_TTL_DAYS: i64 = 30;

const RECORD: &str = "sent SMS";
/// How a confirmation is named in the `subject` attribute (message keys never are).
const CONFIRMATION: &str = "confirmation";

#[derive(Debug, Serialize, Deserialize)]
struct SentSmsRecord {
    #[serde(flatten)]
    head: ItemHead,
    order_id: String,
    /// `confirmation`, or the customer message's key.
    subject: String,
    expires_at: i64,
}

/// The order attribute holding what `subject` tells.
fn subject_attr(subject: &SmsSubject) -> String {
    match subject {
        SmsSubject::Confirmation => channel_attr(Channel::Sms).to_owned(),
        SmsSubject::Message(key) => message_attr(key),
    }
}

/// Puts the `SMS#` item of `id`.
pub(crate) async fn remember(table: &Table, id: &SmsId, sent: &SentSms) -> Result<(), OrderError> {
    let record = SentSmsRecord {
        head: ItemHead::new(keys::sent_sms(id), entity::SENT_SMS),
        order_id: sent.order.to_string(),
        subject: match &sent.subject {
            SmsSubject::Confirmation => CONFIRMATION.to_owned(),
            SmsSubject::Message(key) => key.to_string(),
        },
        expires_at: domain::Timestamp::now().unix_seconds() + SENT_SMS_TTL_DAYS * 86_400,
    };
    let item = encode(RECORD, &record)?;
    // Unconditional: putting it again (a retried send) writes the same item.
    match table.put(item, &Expr::new()).await {
        Ok(()) | Err(WriteError::ConditionFailed) => Ok(()),
        Err(WriteError::Failed(failure)) => Err(failure.into()),
    }
}

/// What the SMS `id` stands for, if this shop sent it.
pub(crate) async fn sent_sms(table: &Table, id: &SmsId) -> Result<Option<SentSms>, OrderError> {
    let Some(item) = table.get(&keys::sent_sms(id)).await? else {
        return Ok(None);
    };
    let record: SentSmsRecord = decode(RECORD, item)?;
    let invalid = |what: &str| crate::failure::Failure::record(RECORD, what.to_owned());
    let order = record
        .order_id
        .parse::<OrderId>()
        .map_err(|_| invalid("order_id"))?;
    let subject = if record.subject == CONFIRMATION {
        SmsSubject::Confirmation
    } else {
        SmsSubject::Message(
            domain::notification::MessageKey::parse(&record.subject)
                .map_err(|_| invalid("subject"))?,
        )
    };
    Ok(Some(SentSms { order, subject }))
}

/// Writes `delivery` on the message `sent` names, if it was sent as `id` and has none yet.
pub(crate) async fn record_delivery(
    table: &Table,
    id: &SmsId,
    sent: &SentSms,
    delivery: &Delivery,
) -> Result<bool, OrderError> {
    let this = subject_attr(&sent.subject);
    let path = |field: &str| format!("{this}.{field}");
    let (word, reason) = delivery_fields(delivery);
    let mut update = Expr::new()
        .set(&path(attr::DELIVERY), s(word))
        .when_eq(&path(attr::MESSAGE_ID), s(id.as_str()))
        .when_absent(&path(attr::DELIVERY));
    if let Some(reason) = reason {
        update = listed_as_failed(update, sent.order)
            .set(&path(attr::DELIVERY_REASON), s(reason))
            .set(
                attr::MESSAGES_FAILED,
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            );
    }
    match table.update(&keys::order(sent.order), &update).await {
        Ok(_) => Ok(true),
        Err(WriteError::ConditionFailed) => Ok(false),
        Err(WriteError::Failed(failure)) => Err(failure.into()),
    }
}
