//! The order workflow: statuses, the one state machine of docs/api.md, and who may
//! move an order along it.

use std::fmt;
use std::str::FromStr;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    /// Every status, in workflow order.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Processing,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    /// The wire and storage form (`"CONFIRMED"`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Processing => "PROCESSING",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "must be one of PENDING, CONFIRMED, PROCESSING, SHIPPED, DELIVERED, CANCELLED (upper case)"
)]
pub struct InvalidStatus;

impl FromStr for OrderStatus {
    type Err = InvalidStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(InvalidStatus)
    }
}

/// A status change the workflow does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

/// The state machine: `PENDING → CONFIRMED → PROCESSING → SHIPPED → DELIVERED`, and
/// `PENDING | CONFIRMED | PROCESSING → CANCELLED`. Nothing else, not even staying put.
pub fn transition(from: OrderStatus, to: OrderStatus) -> Result<(), IllegalTransition> {
    use OrderStatus::*;
    match (from, to) {
        (Pending, Confirmed)
        | (Confirmed, Processing)
        | (Processing, Shipped)
        | (Shipped, Delivered)
        | (Pending | Confirmed | Processing, Cancelled) => Ok(()),
        _ => Err(IllegalTransition { from, to }),
    }
}

/// The part the caller plays toward the order when asking for a status change (who they
/// are is [`crate::audit::Actor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The customer who placed the order.
    Owner,
    Admin,
}

/// Why the caller may not make a change the workflow allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeError {
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// The change is legal but only an admin may make it.
    #[error("only an admin can move an order from {from} to {to}")]
    AdminOnly { from: OrderStatus, to: OrderStatus },
}

/// Checks that the caller in `role` may move an order from `from` to `to`: the owner may confirm a
/// pending order and cancel a pending or confirmed one; an admin may make any legal change.
pub fn authorize(role: Role, from: OrderStatus, to: OrderStatus) -> Result<(), StatusChangeError> {
    use OrderStatus::*;
    transition(from, to)?;
    match (role, from, to) {
        (Role::Admin, _, _)
        | (Role::Owner, Pending, Confirmed)
        | (Role::Owner, Pending | Confirmed, Cancelled) => Ok(()),
        (Role::Owner, _, _) => Err(StatusChangeError::AdminOnly { from, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    /// Every pair of statuses and whether the workflow allows it.
    #[test]
    fn the_state_machine_allows_exactly_the_documented_transitions() {
        let table: [(OrderStatus, [bool; 6]); 6] = [
            //            to: PEND   CONF   PROC   SHIP   DELI   CANC
            (Pending, [false, true, false, false, false, true]),
            (Confirmed, [false, false, true, false, false, true]),
            (Processing, [false, false, false, true, false, true]),
            (Shipped, [false, false, false, false, true, false]),
            (Delivered, [false, false, false, false, false, false]),
            (Cancelled, [false, false, false, false, false, false]),
        ];
        for (from, row) in table {
            for (to, allowed) in OrderStatus::ALL.into_iter().zip(row) {
                assert_eq!(
                    transition(from, to).is_ok(),
                    allowed,
                    "{from} -> {to} should be {}",
                    if allowed { "allowed" } else { "refused" }
                );
            }
        }
    }

    #[test]
    fn owners_confirm_and_cancel_early_admins_do_every_legal_change() {
        assert_eq!(authorize(Role::Owner, Pending, Confirmed), Ok(()));
        assert_eq!(authorize(Role::Owner, Pending, Cancelled), Ok(()));
        assert_eq!(authorize(Role::Owner, Confirmed, Cancelled), Ok(()));
        assert_eq!(
            authorize(Role::Owner, Processing, Cancelled),
            Err(StatusChangeError::AdminOnly {
                from: Processing,
                to: Cancelled
            })
        );
        assert!(matches!(
            authorize(Role::Owner, Confirmed, Processing),
            Err(StatusChangeError::AdminOnly { .. })
        ));
        assert_eq!(authorize(Role::Admin, Processing, Cancelled), Ok(()));
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                assert_eq!(
                    authorize(Role::Admin, from, to).is_ok(),
                    transition(from, to).is_ok(),
                    "admin {from} -> {to}"
                );
                if transition(from, to).is_err() {
                    assert!(matches!(
                        authorize(Role::Owner, from, to),
                        Err(StatusChangeError::Illegal(_))
                    ));
                }
            }
        }
    }

    #[test]
    fn statuses_round_trip_through_their_wire_form() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert_eq!("confirmed".parse::<OrderStatus>(), Err(InvalidStatus));
        assert_eq!("".parse::<OrderStatus>(), Err(InvalidStatus));
    }
}
