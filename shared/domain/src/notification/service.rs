//! The notifier's use case: given an order's id, bring each channel of its confirmation
//! and each of its customer messages to a final state (sent, skipped or failed) at most
//! once, messages in the order their events happened, then acknowledge the hand-off.
//!
//! Invariants:
//! - At most one read of the order and one of its customer per message.
//! - An SMS the provider accepted is remembered by its id ([`SentSms`]) before its send is
//!   recorded, so its delivery report, which may come at once, finds its message.
//! - A provider is called only after this delivery's claim on the channel was written
//!   (conditional on the version read), and never for a final channel.
//! - The hand-off mark is cleared only once every channel due and every message is
//!   final, so the reconciler keeps re-sending an order that still has something to send.
//! - A message is told even when the order has since left the state it tells of
//!   (delivered before its shipped message went out): it happened, and the customer hears
//!   of it once, in order.
//! - A message is handled in a span `notifier.notify` carrying the order's id (and each
//!   channel in `notifier.channel`, with the channel's name), never a phone number, an
//!   address or a name.

use std::time::Duration;

use crate::customer::{Customer, CustomerError, CustomerStore, PhoneNumber};
use crate::id::OrderId;
use crate::notification::delivery_report::{SentSms, SmsId, SmsSubject};
use crate::notification::message::admin_email;
use crate::notification::ports::{EmailSender, NotificationStore, SmsSender};
use crate::notification::sms::customer_sms;
use crate::order::channel::{Channel, ChannelState, ChannelStatus, Outcome, Step};
use crate::order::customer_message::CustomerMessage;
use crate::order::customer_message::{CustomerEvent, PayBy};
use crate::order::{Order, OrderError, OrderStatus};
use crate::timestamp::Timestamp;

/// How long a claim protects a send in flight. It must outlive the notifier's timeout:
/// after it, the claimant is surely dead and the outcome is unknown.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(120);

/// Why handling a message failed before any outcome could be recorded (worth retrying).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("reading or writing the order failed")]
    Orders(#[from] OrderError),
    #[error("reading the customer failed")]
    Customers(#[from] CustomerError),
}

/// Why a message needs no notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// No such order.
    UnknownOrder,
    /// Never confirmed, or cancelled since.
    NotConfirmed,
}

/// What handling one message achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Both channels are final and the hand-off is acknowledged.
    Done,
    /// A channel is still pending (a transient failure, or a send in flight elsewhere):
    /// deliver the message again later.
    Retry,
    /// Nothing to do for this message.
    Ignored(Ignored),
}

/// What the notifier moves: one of the confirmation's channels, or a customer message.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Channel(Channel),
    Message(&'a CustomerMessage),
}

impl std::fmt::Display for Slot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Slot::Channel(channel) => write!(f, "{channel}"),
            Slot::Message(message) => write!(f, "{}", message.key),
        }
    }
}

/// Where a channel's message goes.
enum Target<'a> {
    /// The customer's phone, and the name to greet.
    Sms(&'a PhoneNumber, &'a str),
    /// The admin (the email adapter knows the address).
    Email,
}

/// The notifier.
#[derive(Debug, Clone)]
pub struct Notifier<S, C, M, E> {
    store: S,
    customers: C,
    sms: M,
    email: E,
    lease: Duration,
    /// The shop's M-Pesa Paybill, told in the confirmation of an order not paid yet.
    paybill: Option<String>,
}

impl<S, C, M, E> Notifier<S, C, M, E>
where
    S: NotificationStore,
    C: CustomerStore,
    M: SmsSender,
    E: EmailSender,
{
    pub fn new(store: S, customers: C, sms: M, email: E, lease: Duration) -> Self {
        Self {
            store,
            customers,
            sms,
            email,
            lease,
            paybill: None,
        }
    }

    /// The same notifier, telling customers of unpaid orders to pay `paybill` (the shop's
    /// M-Pesa Paybill) with the order's account reference.
    pub fn with_paybill(self, paybill: Option<String>) -> Self {
        Self { paybill, ..self }
    }

    /// The customer's confirmation: how to pay when the order is not paid yet.
    fn confirmation(&self, order: &Order, name: &str) -> String {
        let pay = self
            .paybill
            .clone()
            .filter(|_| !order.payment_standing().fully_paid())
            .map(|paybill| PayBy {
                paybill,
                reference: order.payment_reference(),
            });
        let event = CustomerEvent::Confirmed {
            total: order.totals.total_amount,
            pay,
        };
        customer_sms(&event, &order.order_number, name)
    }

    /// Handles one message of the notifications queue for `order_id`, whatever its event:
    /// brings the confirmation's channels (when the order was confirmed and not cancelled
    /// before they went out) and every customer message to a final state, messages in the
    /// order their events happened.
    #[tracing::instrument(name = "notifier.notify", skip_all, fields(order_id = %order_id))]
    pub async fn notify(&self, order_id: OrderId) -> Result<Handled, NotifyError> {
        let Some(order) = self.store.order(order_id).await? else {
            tracing::warn!(order_id = %order_id, "no such order; message dropped");
            return Ok(Handled::Ignored(Ignored::UnknownOrder));
        };
        let confirmation_due =
            order.confirmed_at.is_some() && order.status != OrderStatus::Cancelled;
        if !confirmation_due && order.messages.is_empty() {
            tracing::info!(order_id = %order_id, status = order.status.as_str(),
                "order not confirmed; nothing to notify");
            self.acknowledge(&order).await?;
            return Ok(Handled::Ignored(Ignored::NotConfirmed));
        }
        let mut states = order.notifications.clone();
        let channels_open = confirmation_due && !states.all_final();
        let messages_open = order.messages.iter().any(|m| !m.state.status.is_final());
        let mut all_final = true;
        if channels_open || messages_open {
            let customer = self.customers.customer(order.customer_id).await?;
            if customer.is_none() {
                tracing::warn!(order_id = %order_id, "the order's customer does not exist");
            }
            let customer = customer.as_ref();
            if channels_open {
                for channel in Channel::ALL {
                    let slot = Slot::Channel(channel);
                    let state = self
                        .advance(&order, customer, slot, states.get(channel))
                        .await?;
                    *states.get_mut(channel) = state;
                }
                all_final &= states.all_final();
            }
            for message in &order.messages {
                let state = self
                    .advance(&order, customer, Slot::Message(message), &message.state)
                    .await?;
                all_final &= state.status.is_final();
            }
        }
        if !all_final {
            return Ok(Handled::Retry);
        }
        self.acknowledge(&order).await?;
        Ok(Handled::Done)
    }

    async fn acknowledge(&self, order: &Order) -> Result<(), NotifyError> {
        if order.hand_off_due.is_some() {
            self.store.acknowledge(order.id).await?;
        }
        Ok(())
    }

    /// Moves one channel or message as far as it goes now; returns its state afterwards
    /// (as stored, or as read when another delivery wrote first).
    #[tracing::instrument(name = "notifier.send", skip_all,
        fields(order_id = %order.id, what = %slot))]
    async fn advance(
        &self,
        order: &Order,
        customer: Option<&Customer>,
        slot: Slot<'_>,
        state: &ChannelState,
    ) -> Result<ChannelState, NotifyError> {
        let target = match slot {
            Slot::Channel(Channel::Email) => Some(Target::Email),
            Slot::Channel(Channel::Sms) | Slot::Message(_) => customer
                .and_then(|c| c.phone_number.as_ref())
                .map(|phone| Target::Sms(phone, customer.map_or("", |c| c.name.as_str()))),
        };
        let claim = match state.next_step(Timestamp::now(), self.lease, target.is_some()) {
            Step::Done => return Ok(state.clone()),
            Step::InFlight => {
                tracing::info!(order_id = %order.id, what = %slot, "send in flight elsewhere");
                return Ok(state.clone());
            }
            Step::Record(next) => return self.save(order.id, slot, state, next).await,
            Step::Claim(claim) => claim,
        };
        // `next_step` claims only a channel with somewhere to send to.
        let Some(target) = target else {
            return Ok(state.clone());
        };
        let claimed = self.save(order.id, slot, state, claim.clone()).await?;
        if claimed != claim {
            return Ok(claimed);
        }
        let result = match (target, slot) {
            (Target::Sms(phone, name), Slot::Message(message)) => {
                let text = customer_sms(&message.event, &order.order_number, name);
                self.sms.send_sms(phone, &text).await
            }
            (Target::Sms(phone, name), Slot::Channel(_)) => {
                let text = self.confirmation(order, name);
                self.sms.send_sms(phone, &text).await
            }
            (Target::Email, _) => self.email.send_email(&admin_email(order, customer)).await,
        };
        let outcome = match result {
            Ok(accepted) => {
                self.remember(order.id, slot, accepted.message_id.as_deref())
                    .await;
                Outcome::Accepted {
                    message_id: accepted.message_id,
                }
            }
            Err(err) => {
                tracing::warn!(order_id = %order.id, what = %slot, error = %err, "send failed");
                err.outcome()
            }
        };
        let done = claim.after_send(outcome);
        let saved = self.save(order.id, slot, &claim, done.clone()).await;
        if saved.is_err() && done.status == ChannelStatus::Sent {
            // The provider took it but the record did not stick: the claim will expire
            // as `interrupted` (never re-sent). Say loudly that it did go out.
            tracing::error!(order_id = %order.id, what = %slot, message_id = ?done.message_id,
                "sent, but recording it failed");
        }
        saved
    }

    /// Remembers which order and message the accepted SMS `message_id` is, for its
    /// delivery report. Not remembering it loses only that report's record (logged): the
    /// send itself is still recorded.
    async fn remember(&self, order: OrderId, slot: Slot<'_>, message_id: Option<&str>) {
        let subject = match slot {
            Slot::Channel(Channel::Email) => return,
            Slot::Channel(Channel::Sms) => SmsSubject::Confirmation,
            Slot::Message(message) => SmsSubject::Message(message.key.clone()),
        };
        let Some(id) = message_id.and_then(|id| SmsId::parse(id).ok()) else {
            tracing::warn!(order_id = %order, what = %slot,
                "the provider gave no usable message id: no delivery report can be matched");
            return;
        };
        let sent = SentSms { order, subject };
        if let Err(err) = self.store.remember_sms(&id, &sent).await {
            tracing::error!(order_id = %order, what = %slot, sms_id = %id, error = %err,
                "remembering the SMS failed: its delivery report will not be recorded");
        }
    }

    /// Writes `next` over `current`; when another delivery wrote first, `current` is
    /// returned unchanged (it is no longer accurate, but no longer ours to move either).
    async fn save(
        &self,
        order: OrderId,
        slot: Slot<'_>,
        current: &ChannelState,
        next: ChannelState,
    ) -> Result<ChannelState, NotifyError> {
        let written = match slot {
            Slot::Channel(channel) => {
                self.store
                    .save_channel(order, channel, current.version, &next)
                    .await?
            }
            Slot::Message(message) => {
                let sent_now =
                    next.status == ChannelStatus::Sent && current.status != ChannelStatus::Sent;
                let after = CustomerMessage {
                    state: next.clone(),
                    sent_at: message.sent_at.or_else(|| sent_now.then(Timestamp::now)),
                    ..message.clone()
                };
                self.store
                    .save_message(order, &after, current.version)
                    .await?
            }
        };
        if written {
            tracing::info!(order_id = %order, what = %slot, status = next.status.as_str(),
                attempts = next.attempts, error = next.last_error.as_ref().map(|c| c.as_str()),
                in_flight = next.claimed_at.is_some(), "notification state");
            Ok(next)
        } else {
            tracing::info!(order_id = %order, what = %slot, "another delivery changed it first");
            Ok(current.clone())
        }
    }
}
