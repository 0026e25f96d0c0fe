//! The notifier's writes on the order item, and the delivery reports': channel states and
//! customer messages (each a conditional `UpdateItem` on its `version`), the hand-off
//! acknowledgement, the `SMS#` item of an accepted SMS and a report's delivery
//! (`crate::sms`).
//!
//! Invariant: an order is in the sparse GSI5 (failed notifications) exactly while one of
//! its channels is `failed`, or for good once a customer message failed or an SMS was not
//! delivered (`messages_failed`): the write of a state sets or removes the GSI5 keys
//! itself, under a condition on the stored states ([`NotificationStore::save_channel`]).

use aws_sdk_dynamodb::types::AttributeValue;
use domain::OrderId;
use domain::notification::{
    Channel, ChannelState, ChannelStatus, CustomerMessage, Delivery, DeliveryStore,
    NotificationStore, SentSms, SmsId,
};
use domain::order::OrderError;

use crate::expr::Expr;
use crate::item::n;
use crate::keys;
use crate::orders::{DynamoOrders, without_hand_off};
use crate::records::attr;
use crate::records::channel::{ChannelRecord, channel_attr, channel_status_path, stored_status};
use crate::records::message::{MessageRecord, message_attr};
use crate::records::order::listed_as_failed;
use crate::sms;
use crate::table::WriteError;

impl NotificationStore for DynamoOrders {
    #[tracing::instrument(name = "dynamodb.save_channel", skip_all,
        fields(order_id = %order, channel = %channel, version = expected_version))]
    async fn save_channel(
        &self,
        order: OrderId,
        channel: Channel,
        expected_version: u32,
        state: &ChannelState,
    ) -> Result<bool, OrderError> {
        // Each case below is one conditional `UpdateItem` writing the channel and, in the
        // same write, the order's GSI5 membership (some channel `failed`); its condition
        // pins the stored states that membership follows from, so the index never
        // disagrees with them.
        let this = channel_attr(channel);
        let record = ChannelRecord::encode(state)?;
        let written = || {
            let update = Expr::new().set(this, record.clone()).when_exists(keys::PK);
            if expected_version == 0 {
                update.when_absent(this)
            } else {
                update.when_eq(&format!("{this}.{}", attr::VERSION), n(expected_version))
            }
        };
        let failed = || stored_status(ChannelStatus::Failed);
        let this_status = channel_status_path(channel);
        let other_status = channel_status_path(channel.other());
        let cases = if state.status == ChannelStatus::Failed {
            // Failed: listed, whatever the other channel.
            vec![listed_as_failed(written(), order)]
        } else if expected_version == 0 {
            // Never written (pending): not failed before, nor now; membership unchanged.
            vec![written()]
        } else {
            vec![
                // Not failed before, nor now (every other write of the notifier, for
                // which `failed` is final): membership unchanged.
                written().when_ne(&this_status, failed()),
                // Leaving `failed` (a re-send after the notifier's time, say) with the
                // other channel not failed and no customer message failed: off the list.
                written()
                    .when_eq(&this_status, failed())
                    .when_absent_or_ne(channel_attr(channel.other()), &other_status, failed())
                    .when_absent(attr::MESSAGES_FAILED)
                    .remove(keys::GSI5PK)
                    .remove(keys::GSI5SK),
                // Leaving `failed` while a customer message failed: still listed.
                listed_as_failed(
                    written()
                        .when_eq(&this_status, failed())
                        .when_exists(attr::MESSAGES_FAILED),
                    order,
                ),
                // Leaving `failed` while the other channel is failed: still listed.
                listed_as_failed(
                    written()
                        .when_eq(&this_status, failed())
                        .when_eq(&other_status, failed()),
                    order,
                ),
            ]
        };
        // The cases exclude each other; each failed condition rules one out. None left:
        // the version did not match (another delivery wrote first).
        for update in cases {
            match self.table.update(&keys::order(order), &update).await {
                Ok(_) => return Ok(true),
                Err(WriteError::ConditionFailed) => {}
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
        }
        Ok(false)
    }

    #[tracing::instrument(name = "dynamodb.save_message", skip_all,
        fields(order_id = %order, message = %message.key))]
    async fn save_message(
        &self,
        order: OrderId,
        message: &CustomerMessage,
        expected_version: u32,
    ) -> Result<bool, OrderError> {
        let this = message_attr(&message.key);
        let mut update = Expr::new()
            .set(&this, MessageRecord::encode(message)?)
            .when_exists(keys::PK)
            .when_eq(&format!("{this}.{}", attr::VERSION), n(expected_version));
        let undelivered = matches!(message.state.delivery, Some(Delivery::Undelivered(_)));
        if message.state.status == ChannelStatus::Failed || undelivered {
            // Failed or not delivered: on the failed-notifications list for good.
            update = listed_as_failed(update, order)
                .set(attr::MESSAGES_FAILED, AttributeValue::Bool(true));
        }
        match self.table.update(&keys::order(order), &update).await {
            Ok(_) => Ok(true),
            Err(WriteError::ConditionFailed) => Ok(false),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }

    #[tracing::instrument(name = "dynamodb.remember_sms", skip_all, fields(order_id = %sent.order))]
    async fn remember_sms(&self, id: &SmsId, sent: &SentSms) -> Result<(), OrderError> {
        sms::remember(&self.table, id, sent).await
    }

    #[tracing::instrument(name = "dynamodb.acknowledge", skip_all, fields(order_id = %order))]
    async fn acknowledge(&self, order: OrderId) -> Result<(), OrderError> {
        let update = without_hand_off(Expr::new()).when_exists(keys::PK);
        match self.table.update(&keys::order(order), &update).await {
            Ok(_) | Err(WriteError::ConditionFailed) => Ok(()),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }
}

impl DeliveryStore for DynamoOrders {
    #[tracing::instrument(name = "dynamodb.sent_sms", skip_all)]
    async fn sent_sms(&self, id: &SmsId) -> Result<Option<SentSms>, OrderError> {
        sms::sent_sms(&self.table, id).await
    }

    #[tracing::instrument(name = "dynamodb.record_delivery", skip_all,
        fields(order_id = %sent.order, subject = %sent.subject))]
    async fn record_delivery(
        &self,
        id: &SmsId,
        sent: &SentSms,
        delivery: &Delivery,
    ) -> Result<bool, OrderError> {
        sms::record_delivery(&self.table, id, sent, delivery).await
    }
}
