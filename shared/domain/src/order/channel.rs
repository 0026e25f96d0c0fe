//! The state of one notification channel of an order (the customer's SMS, the admin's
//! email) and the only moves it can make.
//!
//! Invariants:
//! - `Sent`, `Skipped` and `Failed` are final: nothing moves a channel out of them, so a
//!   channel is sent at most once.
//! - A send is only attempted under a claim (`claimed_at`), written with a conditional
//!   write on `version` before the provider is called; every write bumps `version`, so
//!   two deliveries of the same message cannot both claim.
//! - A claim that outlives the lease means its holder died between claiming and
//!   recording the outcome. The provider may have accepted the message, so it is never
//!   retried: the channel becomes `Failed` with [`ErrorClass::INTERRUPTED`] (at most once,
//!   see README "Notifications").

use std::fmt;
use std::time::Duration;

use crate::timestamp::Timestamp;

/// A way of notifying about a confirmed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// SMS to the customer.
    Sms,
    /// Email to the admin.
    Email,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Sms, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    /// The order's other channel.
    pub fn other(self) -> Channel {
        match self {
            Channel::Sms => Channel::Email,
            Channel::Email => Channel::Sms,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChannelStatus {
    /// Not sent yet (never tried, claimed right now, or a transient failure to retry).
    #[default]
    Pending,
    /// The provider accepted the message.
    Sent,
    /// Deliberately not sent (the customer has no phone number).
    Skipped,
    /// Will not be sent: the provider refused it for good, or the outcome of a send is
    /// unknown.
    Failed,
}

impl ChannelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelStatus::Pending => "pending",
            ChannelStatus::Sent => "sent",
            ChannelStatus::Skipped => "skipped",
            ChannelStatus::Failed => "failed",
        }
    }

    /// Done with: never attempted again.
    pub fn is_final(self) -> bool {
        self != ChannelStatus::Pending
    }
}

impl std::str::FromStr for ChannelStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ChannelStatus::Pending,
            ChannelStatus::Sent,
            ChannelStatus::Skipped,
            ChannelStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or(UnknownStatus)
    }
}

/// A string that names no [`ChannelStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification status")]
pub struct UnknownStatus;

/// A short, stable, log- and API-safe name of why a send failed (`http_5xx`,
/// `invalid_phone_number`, …): lowercase ASCII letters, digits and `_`. Adapters build
/// it from the provider's status names only, never from a number, an address or free
/// text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorClass(String);

impl ErrorClass {
    /// A send claimed and never recorded: its holder died mid-send, outcome unknown.
    pub const INTERRUPTED: &'static str = "interrupted";
    /// The SMS was skipped because the customer has no phone number.
    pub const NO_PHONE_NUMBER: &'static str = "no_phone_number";

    /// The class named `raw`, in snake case (`InvalidPhoneNumber` → `invalid_phone_number`);
    /// anything outside `[A-Za-z0-9_ -]` is dropped, and an empty result is `unknown`.
    pub fn new(raw: &str) -> Self {
        let mut class = String::with_capacity(raw.len() + 4);
        let mut previous_lower = false;
        for c in raw.chars().take(64) {
            if c.is_ascii_uppercase() {
                if previous_lower {
                    class.push('_');
                }
                class.push(c.to_ascii_lowercase());
                previous_lower = false;
            } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
                class.push(c);
                previous_lower = true;
            } else if matches!(c, '_' | ' ' | '-') && !class.is_empty() && !class.ends_with('_') {
                class.push('_');
                previous_lower = false;
            }
        }
        let class = class.trim_end_matches('_');
        if class.is_empty() {
            Self("unknown".into())
        } else {
            Self(class.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the SMS provider reported of a sent message in the end (a delivery report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Not delivered, and why (the provider's reason, as a class).
    Undelivered(ErrorClass),
}

impl Delivery {
    /// `delivered` or `undelivered`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::Undelivered(_) => "undelivered",
        }
    }
}

/// One channel's state, as stored on the order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelState {
    pub status: ChannelStatus,
    /// Sends attempted (claims taken).
    pub attempts: u32,
    /// Why the last attempt did not succeed (or why the channel was skipped).
    pub last_error: Option<ErrorClass>,
    /// The provider's id of the accepted message.
    pub message_id: Option<String>,
    /// Set while a send is in flight: when it was claimed.
    pub claimed_at: Option<Timestamp>,
    /// Bumped by every write; writes are conditioned on the version they read.
    pub version: u32,
    /// The provider's final report of a sent SMS, once it came (never for e-mail). It is
    /// written apart from the sending state, once, and never bumps `version`.
    pub delivery: Option<Delivery>,
}

/// What to do with a channel, decided from its state alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Final: nothing to do.
    Done,
    /// Another delivery holds a live claim: look again later.
    InFlight,
    /// Write this state (the move is complete).
    Record(ChannelState),
    /// Write this claim, then send.
    Claim(ChannelState),
}

/// How the provider answered a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted {
        message_id: Option<String>,
    },
    /// Worth trying again later (5xx, timeout, throttling, no balance).
    Transient(ErrorClass),
    /// Will never succeed (invalid number, blacklisted, …).
    Permanent(ErrorClass),
}

impl ChannelState {
    /// The next step for a channel at `now`. `sendable` is false when there is nothing
    /// to send to (no phone number): the channel is then skipped.
    pub fn next_step(&self, now: Timestamp, lease: Duration, sendable: bool) -> Step {
        if self.status.is_final() {
            return Step::Done;
        }
        if let Some(claimed_at) = self.claimed_at {
            return if claimed_at.after(lease) > now {
                Step::InFlight
            } else {
                Step::Record(self.moved(ChannelStatus::Failed, ErrorClass::INTERRUPTED))
            };
        }
        if !sendable {
            return Step::Record(self.moved(ChannelStatus::Skipped, ErrorClass::NO_PHONE_NUMBER));
        }
        Step::Claim(ChannelState {
            attempts: self.attempts.saturating_add(1),
            claimed_at: Some(now),
            version: self.version.wrapping_add(1),
            ..self.clone()
        })
    }

    /// The state after a claimed send ended with `outcome`.
    pub fn after_send(&self, outcome: Outcome) -> ChannelState {
        let next = ChannelState {
            claimed_at: None,
            version: self.version.wrapping_add(1),
            ..self.clone()
        };
        match outcome {
            Outcome::Accepted { message_id } => ChannelState {
                status: ChannelStatus::Sent,
                message_id,
                ..next
            },
            Outcome::Transient(class) => ChannelState {
                last_error: Some(class),
                ..next
            },
            Outcome::Permanent(class) => ChannelState {
                status: ChannelStatus::Failed,
                last_error: Some(class),
                ..next
            },
        }
    }

    fn moved(&self, status: ChannelStatus, class: &str) -> ChannelState {
        ChannelState {
            status,
            last_error: Some(ErrorClass::new(class)),
            claimed_at: None,
            version: self.version.wrapping_add(1),
            ..self.clone()
        }
    }
}

/// The state of both channels of an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notifications {
    pub sms: ChannelState,
    pub email: ChannelState,
}

impl Notifications {
    pub fn get(&self, channel: Channel) -> &ChannelState {
        match channel {
            Channel::Sms => &self.sms,
            Channel::Email => &self.email,
        }
    }

    pub fn get_mut(&mut self, channel: Channel) -> &mut ChannelState {
        match channel {
            Channel::Sms => &mut self.sms,
            Channel::Email => &mut self.email,
        }
    }

    /// Both channels are final: the order's notifications are acknowledged.
    pub fn all_final(&self) -> bool {
        Channel::ALL.iter().all(|c| self.get(*c).status.is_final())
    }

    /// Some channel is `failed`: the order is among those whose notification failed
    /// (`GET /orders?notification_status=failed`).
    pub fn any_failed(&self) -> bool {
        Channel::ALL
            .iter()
            .any(|c| self.get(*c).status == ChannelStatus::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(120);

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("timestamp")
    }

    fn now() -> Timestamp {
        at("2026-11-26T10:00:00.000Z")
    }

    #[test]
    fn a_fresh_channel_is_claimed_with_one_more_attempt_and_version() {
        let Step::Claim(claim) = ChannelState::default().next_step(now(), LEASE, true) else {
            panic!("expected a claim");
        };
        assert_eq!(claim.status, ChannelStatus::Pending);
        assert_eq!((claim.attempts, claim.version), (1, 1));
        assert_eq!(claim.claimed_at, Some(now()));
    }

    #[test]
    fn final_channels_are_never_touched_again() {
        for status in [
            ChannelStatus::Sent,
            ChannelStatus::Skipped,
            ChannelStatus::Failed,
        ] {
            let state = ChannelState {
                status,
                version: 3,
                ..ChannelState::default()
            };
            assert_eq!(state.next_step(now(), LEASE, true), Step::Done);
            assert_eq!(state.next_step(now(), LEASE, false), Step::Done);
        }
    }

    #[test]
    fn a_live_claim_is_left_alone_and_an_expired_one_fails_without_a_resend() {
        let claimed = ChannelState {
            attempts: 1,
            claimed_at: Some(at("2026-11-26T09:59:00.000Z")),
            version: 1,
            ..ChannelState::default()
        };
        assert_eq!(claimed.next_step(now(), LEASE, true), Step::InFlight);
        let later = at("2026-11-26T10:01:00.000Z");
        let Step::Record(failed) = claimed.next_step(later, LEASE, true) else {
            panic!("expected a record");
        };
        assert_eq!(failed.status, ChannelStatus::Failed);
        assert_eq!(failed.last_error, Some(ErrorClass::new("interrupted")));
        assert_eq!((failed.attempts, failed.version), (1, 2));
        assert_eq!(failed.claimed_at, None);
    }

    #[test]
    fn nothing_to_send_to_is_skipped_without_an_attempt() {
        let Step::Record(skipped) = ChannelState::default().next_step(now(), LEASE, false) else {
            panic!("expected a record");
        };
        assert_eq!(skipped.status, ChannelStatus::Skipped);
        assert_eq!(skipped.attempts, 0);
        assert_eq!(skipped.last_error, Some(ErrorClass::new("no_phone_number")));
    }

    #[test]
    fn outcomes_release_the_claim() {
        let Step::Claim(claim) = ChannelState::default().next_step(now(), LEASE, true) else {
            panic!("expected a claim");
        };
        let sent = claim.after_send(Outcome::Accepted {
            message_id: Some("ATXid_1".into()),
        });
        assert_eq!(sent.status, ChannelStatus::Sent);
        assert_eq!(sent.message_id.as_deref(), Some("ATXid_1"));
        assert_eq!((sent.claimed_at, sent.version), (None, 2));

        let retry = claim.after_send(Outcome::Transient(ErrorClass::new("http_5xx")));
        assert_eq!(retry.status, ChannelStatus::Pending);
        assert_eq!(retry.last_error, Some(ErrorClass::new("http_5xx")));
        let Step::Claim(again) = retry.next_step(now(), LEASE, true) else {
            panic!("a transient failure is claimed again");
        };
        assert_eq!((again.attempts, again.version), (2, 3));

        let refused = claim.after_send(Outcome::Permanent(ErrorClass::new("InvalidPhoneNumber")));
        assert_eq!(refused.status, ChannelStatus::Failed);
        assert_eq!(refused.next_step(now(), LEASE, true), Step::Done);
    }

    #[test]
    fn error_classes_are_snake_case_and_safe() {
        for (raw, class) in [
            ("InvalidPhoneNumber", "invalid_phone_number"),
            ("DoNotDisturbRejection", "do_not_disturb_rejection"),
            ("http_5xx", "http_5xx"),
            ("Gateway Error", "gateway_error"),
            ("Risk Hold!", "risk_hold"),
            ("<script>", "script"),
            ("", "unknown"),
            ("!!!", "unknown"),
        ] {
            assert_eq!(ErrorClass::new(raw).as_str(), class, "{raw}");
        }
    }

    #[test]
    fn an_order_with_any_failed_channel_counts_as_failed() {
        let mut states = Notifications::default();
        assert!(!states.any_failed());
        states.sms.status = ChannelStatus::Sent;
        states.email.status = ChannelStatus::Skipped;
        assert!(!states.any_failed());
        for channel in Channel::ALL {
            let mut one = states.clone();
            one.get_mut(channel).status = ChannelStatus::Failed;
            assert!(one.any_failed(), "{channel}");
            assert_eq!(channel.other().other(), channel);
            assert_ne!(channel.other(), channel);
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [
            ChannelStatus::Pending,
            ChannelStatus::Sent,
            ChannelStatus::Skipped,
            ChannelStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<ChannelStatus>(), Ok(status));
        }
        assert!("SENT".parse::<ChannelStatus>().is_err());
    }
}
