//! The notifier's use case: given a confirmed order's id, bring each channel to a final
//! state (sent, skipped or failed) at most once, then acknowledge the hand-off.
//!
//! Invariants:
//! - At most one read of the order and one of its customer per message.
//! - A provider is called only after this delivery's claim on the channel was written
//!   (conditional on the version read), and never for a final channel.
//! - The hand-off mark is cleared only once both channels are final, so the reconciler
//!   keeps re-sending an order that still has something to send.
//! - A message is handled in a span `notifier.notify` carrying the order's id (and each
//!   channel in `notifier.channel`, with the channel's name), never a phone number, an
//!   address or a name.

use std::time::Duration;

use crate::customer::{Customer, CustomerError, CustomerStore, PhoneNumber};
use crate::id::OrderId;
use crate::notification::channel::{Channel, ChannelState, ChannelStatus, Outcome, Step};
use crate::notification::message::{admin_email, sms_text};
use crate::notification::ports::{EmailSender, NotificationStore, SmsSender};
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
        }
    }

    /// Handles one `order.confirmed` message for `order_id`.
    #[tracing::instrument(name = "notifier.notify", skip_all, fields(order_id = %order_id))]
    pub async fn notify(&self, order_id: OrderId) -> Result<Handled, NotifyError> {
        let Some(order) = self.store.order(order_id).await? else {
            tracing::warn!(order_id = %order_id, "no such order; message dropped");
            return Ok(Handled::Ignored(Ignored::UnknownOrder));
        };
        if order.confirmed_at.is_none() || order.status == OrderStatus::Cancelled {
            tracing::info!(order_id = %order_id, status = order.status.as_str(),
                "order not confirmed; nothing to notify");
            self.acknowledge(&order).await?;
            return Ok(Handled::Ignored(Ignored::NotConfirmed));
        }
        let mut states = order.notifications.clone();
        if !states.all_final() {
            let customer = self.customers.customer(order.customer_id).await?;
            if customer.is_none() {
                tracing::warn!(order_id = %order_id, "the order's customer does not exist");
            }
            for channel in Channel::ALL {
                let state = self
                    .advance(&order, customer.as_ref(), channel, states.get(channel))
                    .await?;
                *states.get_mut(channel) = state;
            }
        }
        if !states.all_final() {
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

    /// Moves one channel as far as it goes now; returns its state afterwards (as stored,
    /// or as read when another delivery wrote first).
    #[tracing::instrument(name = "notifier.channel", skip_all,
        fields(order_id = %order.id, channel = %channel))]
    async fn advance(
        &self,
        order: &Order,
        customer: Option<&Customer>,
        channel: Channel,
        state: &ChannelState,
    ) -> Result<ChannelState, NotifyError> {
        let target = match channel {
            Channel::Sms => customer
                .and_then(|c| c.phone_number.as_ref())
                .map(|phone| Target::Sms(phone, customer.map_or("", |c| c.name.as_str()))),
            Channel::Email => Some(Target::Email),
        };
        let claim = match state.next_step(Timestamp::now(), self.lease, target.is_some()) {
            Step::Done => return Ok(state.clone()),
            Step::InFlight => {
                tracing::info!(order_id = %order.id, %channel, "send in flight elsewhere");
                return Ok(state.clone());
            }
            Step::Record(next) => return self.save(order.id, channel, state, next).await,
            Step::Claim(claim) => claim,
        };
        // `next_step` claims only a channel with somewhere to send to.
        let Some(target) = target else {
            return Ok(state.clone());
        };
        let claimed = self.save(order.id, channel, state, claim.clone()).await?;
        if claimed != claim {
            return Ok(claimed);
        }
        let result = match target {
            Target::Sms(phone, name) => self.sms.send_sms(phone, &sms_text(order, name)).await,
            Target::Email => self.email.send_email(&admin_email(order, customer)).await,
        };
        let outcome = match result {
            Ok(accepted) => Outcome::Accepted {
                message_id: accepted.message_id,
            },
            Err(err) => {
                tracing::warn!(order_id = %order.id, %channel, error = %err, "send failed");
                err.outcome()
            }
        };
        let done = claim.after_send(outcome);
        let saved = self.save(order.id, channel, &claim, done.clone()).await;
        if saved.is_err() && done.status == ChannelStatus::Sent {
            // The provider took it but the record did not stick: the claim will expire
            // as `interrupted` (never re-sent). Say loudly that it did go out.
            tracing::error!(order_id = %order.id, %channel, message_id = ?done.message_id,
                "sent, but recording it failed");
        }
        saved
    }

    /// Writes `next` over `current`; when another delivery wrote first, `current` is
    /// returned unchanged (it is no longer accurate, but no longer ours to move either).
    async fn save(
        &self,
        order: OrderId,
        channel: Channel,
        current: &ChannelState,
        next: ChannelState,
    ) -> Result<ChannelState, NotifyError> {
        if self
            .store
            .save_channel(order, channel, current.version, &next)
            .await?
        {
            tracing::info!(order_id = %order, %channel, status = next.status.as_str(),
                attempts = next.attempts, error = next.last_error.as_ref().map(|c| c.as_str()),
                in_flight = next.claimed_at.is_some(), "notification state");
            Ok(next)
        } else {
            tracing::info!(order_id = %order, %channel, "another delivery changed the channel first");
            Ok(current.clone())
        }
    }
}
