//! An order's entries in the change history: its status changes and every move of its
//! M-Pesa payments (a payment is recorded on the order it pays). Each entry is labelled with
//! the order's number, so staff read a number, not an id.
//!
//! Invariant: a payment's entries hold only what the API shows of a payment, never the
//! payer's number or name, nor what they typed as the account number.

use crate::audit::{Action, Actor, AuditEntry, Value};
use crate::id::OrderId;
use crate::money::Money;
use crate::order::{Order, OrderNumber, OrderStatus};
use crate::payment::{Payment, PaymentState, ReversalState};
use crate::timestamp::Timestamp;

/// The order an entry is about: its id, and its number (the entry's label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub id: OrderId,
    pub number: OrderNumber,
}

impl Order {
    /// This order as the subject of a history entry.
    pub fn subject(&self) -> Subject {
        Subject {
            id: self.id,
            number: self.order_number.clone(),
        }
    }
}

/// An order's status going from `from` to `to` at `at`: `order.confirmed` and
/// `order.cancelled` for those two targets, `order.status_changed` otherwise.
pub fn order_status_changed(
    actor: &Actor,
    order: &Subject,
    from: OrderStatus,
    to: OrderStatus,
    at: Timestamp,
) -> AuditEntry {
    let action = match to {
        OrderStatus::Confirmed => Action::OrderConfirmed,
        OrderStatus::Cancelled => Action::OrderCancelled,
        _ => Action::OrderStatusChanged,
    };
    AuditEntry::new(actor, at, action, order.id)
        .labelled(order.number.as_str())
        .field(
            "status",
            Value::text(from.as_str()),
            Value::text(to.as_str()),
        )
}

// --- Payments --------------------------------------------------------------------------
//
// A payment is recorded on the order it pays (entity `order`). Every entry names its payment
// (`payment_id`, from null) and holds only what the API shows of a payment: never the
// payer's number or name, nor what they typed as the account number.

/// An entry about `payment` on `order`, naming the payment.
fn payment_entry(
    actor: &Actor,
    at: Timestamp,
    action: Action,
    order: &Subject,
    payment: &Payment,
) -> AuditEntry {
    AuditEntry::new(actor, at, action, order.id)
        .labelled(order.number.as_str())
        .field("payment_id", Value::Null, Value::text(payment.id))
}

impl AuditEntry {
    /// The money a payment brings to an order: its method, amount and receipt, from null.
    fn payment_money(self, payment: &Payment) -> Self {
        self.field(
            "payment_method",
            Value::Null,
            Value::text(payment.method.as_str()),
        )
        .field("payment_amount", Value::Null, Value::text(payment.amount))
        .field(
            "receipt",
            Value::Null,
            Value::optional(payment.receipt.as_ref()),
        )
    }

    /// The order's `amount_paid` before and after.
    fn amount_paid(self, before: Money, after: Money) -> Self {
        self.field("amount_paid", Value::text(before), Value::text(after))
    }
}

fn reversal_state(payment: &Payment) -> Value {
    Value::optional(payment.reversal.as_ref().map(|r| r.state.as_str()))
}

fn reversal_result_code(payment: &Payment) -> Value {
    Value::optional(
        payment
            .reversal
            .as_ref()
            .and_then(|r| r.result_code.as_deref()),
    )
}

/// `payment.received`: M-Pesa confirmed `payment`'s money for `order` (a confirmed prompt,
/// or a Paybill payment that named the order). The payment (`payment_id`,
/// `payment_method`, `payment_amount`, and `receipt` once it has one, from null) and the
/// order's `amount_paid` before and after. A payment that confirms the order also records
/// [`order_status_changed`].
pub fn payment_received(
    actor: &Actor,
    order: &Subject,
    payment: &Payment,
    amount_paid_before: Money,
    amount_paid_after: Money,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentReceived, order, payment)
        .payment_money(payment)
        .amount_paid(amount_paid_before, amount_paid_after)
}

/// `payment.failed`: a prompt refused, cancelled or unanswered. `payment_state` pending →
/// failed and M-Pesa's `result_code` (from null; a prompt failed by the 10-minute rule has
/// none).
pub fn payment_failed(
    actor: &Actor,
    order: &Subject,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentFailed, order, payment)
        .field(
            "payment_state",
            Value::text(PaymentState::Pending.as_str()),
            Value::text(payment.state.as_str()),
        )
        .field(
            "result_code",
            Value::Null,
            Value::optional(payment.result.as_ref().and_then(|r| r.code.as_deref())),
        )
}

/// `payment.assigned`: staff put an unmatched payment on `order`. The payment
/// (`payment_id`, `payment_method`, `payment_amount`, `receipt`, from null).
pub fn payment_assigned(
    actor: &Actor,
    order: &Subject,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentAssigned, order, payment).payment_money(payment)
}

/// `payment.reversal_requested`: `reversal_state` to `requested`, from null (or from
/// `failed` when a failed reversal is requested again).
pub fn payment_reversal_requested(
    actor: &Actor,
    order: &Subject,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    let retried = payment.reversal.as_ref().is_some_and(|r| r.attempts > 1);
    let before = if retried {
        Value::text(ReversalState::Failed.as_str())
    } else {
        Value::Null
    };
    payment_entry(actor, at, Action::PaymentReversalRequested, order, payment).field(
        "reversal_state",
        before,
        reversal_state(payment),
    )
}

/// `payment.reversed`: M-Pesa gave the money back. `payment_state` succeeded → reversed,
/// `reversal_state` requested → reversed, M-Pesa's `result_code` (from null: `0`, or
/// `R000001` when it was already reversed) and the order's `amount_paid` before and after.
pub fn payment_reversed(
    actor: &Actor,
    order: &Subject,
    payment: &Payment,
    paid_before: Money,
    paid_after: Money,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentReversed, order, payment)
        .field(
            "payment_state",
            Value::text(PaymentState::Succeeded.as_str()),
            Value::text(payment.state.as_str()),
        )
        .field(
            "reversal_state",
            Value::text(ReversalState::Requested.as_str()),
            reversal_state(payment),
        )
        .field("result_code", Value::Null, reversal_result_code(payment))
        .amount_paid(paid_before, paid_after)
}

/// `payment.reversal_failed`: M-Pesa refused the reversal or never answered; the money is
/// still the shop's. `reversal_state` requested → failed and M-Pesa's `result_code` (from
/// null; none on a timeout).
pub fn payment_reversal_failed(
    actor: &Actor,
    order: &Subject,
    payment: &Payment,
    at: Timestamp,
) -> AuditEntry {
    payment_entry(actor, at, Action::PaymentReversalFailed, order, payment)
        .field(
            "reversal_state",
            Value::text(ReversalState::Requested.as_str()),
            reversal_state(payment),
        )
        .field("result_code", Value::Null, reversal_result_code(payment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::EntityType;
    use crate::audit::test_support::{actor, change};
    use crate::payment::{PaymentId, PromptOutcome, Receipt, ReversalOutcome};

    fn subject(id: OrderId) -> Subject {
        Subject {
            id,
            number: OrderNumber::parse("ORD-20261206-7KQ2MZ").expect("number"),
        }
    }

    #[test]
    fn order_actions_follow_the_target_status() {
        let id = OrderId::generate();
        let at = Timestamp::now();
        let entry = |from, to| order_status_changed(&actor(), &subject(id), from, to, at).action;
        use OrderStatus::*;
        assert_eq!(entry(Pending, Confirmed), Action::OrderConfirmed);
        assert_eq!(entry(Confirmed, Cancelled), Action::OrderCancelled);
        assert_eq!(entry(Shipped, Delivered), Action::OrderStatusChanged);
        let labelled = order_status_changed(&actor(), &subject(id), Pending, Confirmed, at);
        assert_eq!(labelled.entity_id, id.to_string());
        assert_eq!(
            labelled.entity_label.as_deref(),
            Some("ORD-20261206-7KQ2MZ")
        );
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).expect("timestamp")
    }

    fn shillings(n: u32) -> Money {
        Money::from_whole_shillings(n)
    }

    fn receipt() -> Receipt {
        Receipt::parse("SLJ7RT61SV").expect("receipt")
    }

    /// A prompt for 1161 to a phone number.
    fn prompt(order: OrderId) -> Payment {
        Payment::prompt(
            PaymentId::generate(),
            order,
            shillings(1161),
            "+254712345678".into(),
            at("2026-12-06T10:00:00Z"),
        )
    }

    /// A Paybill payment of 500 with the payer's (masked) number, name and account text.
    fn paybill(order: OrderId) -> Payment {
        Payment::paybill(
            PaymentId::generate(),
            Some(order),
            shillings(500),
            receipt(),
            Some("2547 ***** 678".into()),
            Some("Wanjiru Kamau".into()),
            "ORD 1042 Wanjiru".into(),
            at("2026-12-06T10:00:00Z"),
        )
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn fields(entry: &AuditEntry) -> Vec<&str> {
        entry.changes.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_received_payment_names_itself_and_moves_amount_paid_on_its_order() {
        let order = OrderId::generate();
        let t = at("2026-12-06T10:00:09Z");
        let mut payment = prompt(order);
        payment.attach_receipt(receipt(), t);
        payment.settle(&PromptOutcome::Confirmed, t);
        let entry = payment_received(
            &Actor::mpesa(),
            &subject(order),
            &payment,
            shillings(0),
            shillings(1161),
            t,
        );
        assert_eq!(entry.action, Action::PaymentReceived);
        assert_eq!(
            (entry.entity_type(), entry.entity_id.clone()),
            (EntityType::Order, order.to_string())
        );
        assert_eq!((entry.actor.clone(), entry.at), (Actor::mpesa(), t));
        assert_eq!(
            fields(&entry),
            [
                "amount_paid",
                "payment_amount",
                "payment_id",
                "payment_method",
                "receipt"
            ]
        );
        assert_eq!(
            change(&entry, "payment_id"),
            (Value::Null, Value::Text(payment.id.to_string()))
        );
        assert_eq!(
            change(&entry, "payment_amount"),
            (Value::Null, text("1161.00"))
        );
        assert_eq!(
            change(&entry, "payment_method"),
            (Value::Null, text("mpesa_prompt"))
        );
        assert_eq!(change(&entry, "receipt"), (Value::Null, text("SLJ7RT61SV")));
        assert_eq!(
            change(&entry, "amount_paid"),
            (text("0.00"), text("1161.00"))
        );

        // A confirmed prompt whose receipt has not come yet records none.
        let mut no_receipt = prompt(order);
        no_receipt.settle(&PromptOutcome::Confirmed, t);
        let entry = payment_received(
            &Actor::mpesa(),
            &subject(order),
            &no_receipt,
            shillings(500),
            shillings(1661),
            t,
        );
        assert!(!entry.changes.contains_key("receipt"));
        assert_eq!(
            change(&entry, "amount_paid"),
            (text("500.00"), text("1661.00"))
        );
    }

    #[test]
    fn a_failed_prompt_records_its_state_and_mpesas_code_if_any() {
        let order = OrderId::generate();
        let t = at("2026-12-06T10:00:30Z");
        let mut refused = prompt(order);
        refused.settle(
            &PromptOutcome::Refused {
                code: "1032".into(),
                description: "Request cancelled by user".into(),
            },
            t,
        );
        let entry = payment_failed(&Actor::mpesa(), &subject(order), &refused, t);
        assert_eq!(entry.action, Action::PaymentFailed);
        assert_eq!(entry.entity_id, order.to_string());
        assert_eq!(
            fields(&entry),
            ["payment_id", "payment_state", "result_code"]
        );
        assert_eq!(
            change(&entry, "payment_state"),
            (text("pending"), text("failed"))
        );
        assert_eq!(change(&entry, "result_code"), (Value::Null, text("1032")));

        // Failed by the 10-minute rule: M-Pesa gave no code.
        let mut silent = prompt(order);
        silent.settle(&PromptOutcome::NoAnswer, t);
        let entry = payment_failed(&Actor::mpesa(), &subject(order), &silent, t);
        assert_eq!(fields(&entry), ["payment_id", "payment_state"]);
    }

    #[test]
    fn an_assigned_payment_records_the_money_it_brings() {
        let order = OrderId::generate();
        let t = at("2026-12-06T12:00:00Z");
        let payment = Payment {
            order_id: None,
            ..paybill(order)
        };
        let entry = payment_assigned(&actor(), &subject(order), &payment, t);
        assert_eq!(entry.action, Action::PaymentAssigned);
        assert_eq!(
            (entry.entity_type(), entry.entity_id.clone()),
            (EntityType::Order, order.to_string())
        );
        assert_eq!(entry.actor, actor());
        assert_eq!(
            fields(&entry),
            ["payment_amount", "payment_id", "payment_method", "receipt"]
        );
        assert_eq!(
            change(&entry, "payment_method"),
            (Value::Null, text("mpesa_paybill"))
        );
        assert_eq!(
            change(&entry, "payment_amount"),
            (Value::Null, text("500.00"))
        );
    }

    #[test]
    fn a_reversal_records_its_state_mpesas_code_and_the_money_that_went_back() {
        let order = OrderId::generate();
        let t = at("2026-12-06T13:00:00Z");
        let mut payment = paybill(order);

        payment.request_reversal(t).expect("requested");
        let requested = payment_reversal_requested(&actor(), &subject(order), &payment, t);
        assert_eq!(requested.action, Action::PaymentReversalRequested);
        assert_eq!(fields(&requested), ["payment_id", "reversal_state"]);
        assert_eq!(
            change(&requested, "reversal_state"),
            (Value::Null, text("requested"))
        );

        let refused = ReversalOutcome::Failed {
            code: Some("R000002".into()),
        };
        payment.settle_reversal(&refused, t);
        let failed = payment_reversal_failed(&Actor::mpesa(), &subject(order), &payment, t);
        assert_eq!(failed.action, Action::PaymentReversalFailed);
        assert_eq!(
            change(&failed, "reversal_state"),
            (text("requested"), text("failed"))
        );
        assert_eq!(
            change(&failed, "result_code"),
            (Value::Null, text("R000002"))
        );

        // Requested again after the failure.
        payment.request_reversal(t).expect("requested again");
        let again = payment_reversal_requested(&actor(), &subject(order), &payment, t);
        assert_eq!(
            change(&again, "reversal_state"),
            (text("failed"), text("requested"))
        );

        payment.settle_reversal(&ReversalOutcome::AlreadyReversed, t);
        let reversed = payment_reversed(
            &Actor::mpesa(),
            &subject(order),
            &payment,
            shillings(500),
            shillings(0),
            t,
        );
        assert_eq!(reversed.action, Action::PaymentReversed);
        assert_eq!(
            fields(&reversed),
            [
                "amount_paid",
                "payment_id",
                "payment_state",
                "result_code",
                "reversal_state"
            ]
        );
        assert_eq!(
            change(&reversed, "payment_state"),
            (text("succeeded"), text("reversed"))
        );
        assert_eq!(
            change(&reversed, "reversal_state"),
            (text("requested"), text("reversed"))
        );
        assert_eq!(
            change(&reversed, "result_code"),
            (Value::Null, text("R000001"))
        );
        assert_eq!(
            change(&reversed, "amount_paid"),
            (text("500.00"), text("0.00"))
        );

        // A reversal that timed out has no code.
        let mut timed_out = paybill(order);
        timed_out.request_reversal(t).expect("requested");
        timed_out.settle_reversal(&ReversalOutcome::Failed { code: None }, t);
        let failed = payment_reversal_failed(&Actor::mpesa(), &subject(order), &timed_out, t);
        assert_eq!(fields(&failed), ["payment_id", "reversal_state"]);
    }

    #[test]
    fn no_payment_entry_holds_the_payers_number_name_or_account_text() {
        let order = OrderId::generate();
        let t = at("2026-12-06T13:00:00Z");
        let mut payment = paybill(order);
        payment.phone_number = Some("+254712345678".into());
        let mut reversing = payment.clone();
        reversing.request_reversal(t).expect("requested");
        let entries = [
            payment_received(
                &actor(),
                &subject(order),
                &payment,
                shillings(0),
                shillings(500),
                t,
            ),
            payment_failed(&actor(), &subject(order), &payment, t),
            payment_assigned(&actor(), &subject(order), &payment, t),
            payment_reversal_requested(&actor(), &subject(order), &reversing, t),
            payment_reversed(
                &actor(),
                &subject(order),
                &reversing,
                shillings(500),
                shillings(0),
                t,
            ),
            payment_reversal_failed(&actor(), &subject(order), &reversing, t),
        ];
        for entry in &entries {
            for (field, c) in &entry.changes {
                for value in [&c.from, &c.to] {
                    let Value::Text(shown) = value else { continue };
                    for personal in ["712345678", "Wanjiru", "ORD 1042"] {
                        assert!(
                            !shown.contains(personal),
                            "{} {field}: {shown}",
                            entry.action.as_str()
                        );
                    }
                }
            }
        }
    }
}
