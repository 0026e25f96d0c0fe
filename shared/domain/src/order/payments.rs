//! What an order's payments add up to: `payment_status`, `amount_paid`, `amount_due`;
//! whether a prompt may be sent; when paying confirms the order; and which payments staff
//! must act on.
//!
//! Invariants:
//! - `amount_paid` is the sum of the succeeded payments (reversed money is back with the
//!   payer, failed and pending prompts never held any).
//! - `payment_status` is derived, never stored apart from the payments it sums: the first
//!   that holds of `refunded` / `refund_pending` (a cancelled order that held money: all
//!   of it reversed / not yet), `paid`, `partially_paid`, `pending` (a prompt is
//!   waiting), `unpaid`.
//! - An order is overpaid when `amount_paid` exceeds its total rounded up to a whole
//!   shilling: paying `amount_due` (rounded up) is never "over".

use crate::money::Money;
use crate::order::OrderStatus;
use crate::payment::amounts::{amount_due, prompt_amount};
use crate::payment::record::{Payment, PaymentId, PaymentState, ReversalState};

/// An order's `payment_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    Refunded,
    RefundPending,
    Paid,
    PartiallyPaid,
    Pending,
    Unpaid,
}

impl PaymentStatus {
    /// Every status, in the order they are derived.
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Refunded,
        PaymentStatus::RefundPending,
        PaymentStatus::Paid,
        PaymentStatus::PartiallyPaid,
        PaymentStatus::Pending,
        PaymentStatus::Unpaid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::RefundPending => "refund_pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::PartiallyPaid => "partially_paid",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Unpaid => "unpaid",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// Why no prompt can be sent for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotPayable {
    #[error("the order is cancelled")]
    Cancelled,
    #[error("nothing is due on the order")]
    NothingDue,
    #[error("a payment prompt is already waiting on the customer's phone")]
    PromptPending,
}

/// Why staff must look at a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attention {
    /// M-Pesa refused or never answered its reversal.
    ReversalFailed,
    /// Money on a cancelled order that is not being reversed (it waits for a receipt).
    HeldOnCancelledOrder,
    /// A prompt M-Pesa confirmed, but no receipt reached us (staff find it in the
    /// M-Pesa statement by its checkout id).
    MissingReceipt,
    /// The order holds more than its total: this payment brought the excess.
    Overpaid,
}

impl Attention {
    pub fn as_str(self) -> &'static str {
        match self {
            Attention::ReversalFailed => "reversal_failed",
            Attention::HeldOnCancelledOrder => "held_on_cancelled_order",
            Attention::MissingReceipt => "missing_receipt",
            Attention::Overpaid => "overpaid",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Attention::ReversalFailed,
            Attention::HeldOnCancelledOrder,
            Attention::MissingReceipt,
            Attention::Overpaid,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// What an order's payments add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentStanding {
    pub status: PaymentStatus,
    pub amount_paid: Money,
    pub amount_due: Money,
}

impl PaymentStanding {
    /// The standing of an order in `status` with `total`, given its payments.
    pub fn of(status: OrderStatus, total: Money, payments: &[Payment]) -> Self {
        let amount_paid: Money = payments
            .iter()
            .filter(|p| p.counts())
            .map(|p| p.amount)
            .sum();
        let payment_status =
            if status == OrderStatus::Cancelled && payments.iter().any(Payment::held_money) {
                if payments.iter().any(Payment::counts) {
                    PaymentStatus::RefundPending
                } else {
                    PaymentStatus::Refunded
                }
            } else if amount_paid >= total {
                PaymentStatus::Paid
            } else if amount_paid > Money::ZERO {
                PaymentStatus::PartiallyPaid
            } else if payments.iter().any(|p| p.state == PaymentState::Pending) {
                PaymentStatus::Pending
            } else {
                PaymentStatus::Unpaid
            };
        Self {
            status: payment_status,
            amount_paid,
            amount_due: amount_due(total, amount_paid),
        }
    }

    /// Whether everything is paid (`amount_paid` ≥ total).
    pub fn fully_paid(&self) -> bool {
        self.amount_due == Money::ZERO
    }

    /// What the next prompt asks for, or why none may be sent.
    pub fn prompt(&self, status: OrderStatus, payments: &[Payment]) -> Result<Money, NotPayable> {
        if status == OrderStatus::Cancelled {
            return Err(NotPayable::Cancelled);
        }
        if payments.iter().any(|p| p.state == PaymentState::Pending) {
            return Err(NotPayable::PromptPending);
        }
        prompt_amount(self.amount_due).ok_or(NotPayable::NothingDue)
    }
}

/// What an order's item carries about its payments for the lists, written by every write
/// that changes them: its `payment_status` (for `?payment_status=`) and whether the order
/// is **open** — a prompt still pending, a reversal requested and not yet answered, or a
/// payment staff must act on ([`attention`]). Open orders are the ones the reconciler
/// settles and the ones staff's attention list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentMarks {
    pub status: PaymentStatus,
    pub open: bool,
}

impl PaymentMarks {
    /// The marks of an order in `status` with `total`, given its payments.
    pub fn of(status: OrderStatus, total: Money, payments: &[Payment]) -> Self {
        let waiting = payments.iter().any(|p| {
            p.state == PaymentState::Pending
                || p.reversal
                    .as_ref()
                    .is_some_and(|r| r.state == ReversalState::Requested)
        });
        Self {
            status: PaymentStanding::of(status, total, payments).status,
            open: waiting || !attention(status, total, payments).is_empty(),
        }
    }
}

/// Whether applying payments moved the order from `before` to fully paid while it was
/// `PENDING`: then it is confirmed in the same transaction.
pub fn confirms(status: OrderStatus, before: &PaymentStanding, after: &PaymentStanding) -> bool {
    status == OrderStatus::Pending && !before.fully_paid() && after.fully_paid()
}

/// The payments of one order that staff must act on, each with its reason (at most one
/// reason a payment: the most pressing).
pub fn attention(
    status: OrderStatus,
    total: Money,
    payments: &[Payment],
) -> Vec<(PaymentId, Attention)> {
    let mut found = Vec::new();
    for payment in payments {
        let reversal = payment.reversal.as_ref().map(|r| r.state);
        let reason = if reversal == Some(ReversalState::Failed) && payment.counts() {
            Some(Attention::ReversalFailed)
        } else if status == OrderStatus::Cancelled && payment.counts() && reversal.is_none() {
            Some(Attention::HeldOnCancelledOrder)
        } else if payment.counts() && payment.receipt.is_none() {
            Some(Attention::MissingReceipt)
        } else {
            None
        };
        if let Some(reason) = reason {
            found.push((payment.id, reason));
        }
    }
    let paid: Money = payments
        .iter()
        .filter(|p| p.counts())
        .map(|p| p.amount)
        .sum();
    let ceiling = amount_due(total, Money::ZERO);
    if status != OrderStatus::Cancelled && paid > ceiling {
        // The latest succeeded payment brought the excess.
        if let Some(last) = payments
            .iter()
            .filter(|p| p.counts())
            .max_by_key(|p| p.updated_at)
            && !found.iter().any(|(id, _)| *id == last.id)
        {
            found.push((last.id, Attention::Overpaid));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::id::OrderId;
    use crate::payment::record::{PromptOutcome, Receipt, ReversalOutcome};
    use crate::timestamp::Timestamp;

    fn at(minute: u32) -> Timestamp {
        Timestamp::parse(&format!("2026-12-06T10:{minute:02}:00Z")).expect("timestamp")
    }

    fn shillings(n: u32) -> Money {
        Money::from_whole_shillings(n)
    }

    fn succeeded(amount: u32, receipt: &str) -> Payment {
        Payment::paybill(
            PaymentId::generate(),
            Some(OrderId::generate()),
            shillings(amount),
            Receipt::parse(receipt).expect("receipt"),
            None,
            None,
            "2611257KQ2MZ".into(),
            at(1),
        )
    }

    fn pending(amount: u32) -> Payment {
        Payment::prompt(
            PaymentId::generate(),
            OrderId::generate(),
            shillings(amount),
            "+254712345678".into(),
            at(0),
        )
    }

    #[test]
    fn payments_add_up() {
        let total = Money::from_minor_units(116_050);
        let none = PaymentStanding::of(OrderStatus::Pending, total, &[]);
        assert_eq!(
            (none.status, none.amount_due),
            (PaymentStatus::Unpaid, shillings(1161))
        );

        let waiting = PaymentStanding::of(OrderStatus::Pending, total, &[pending(1161)]);
        assert_eq!(waiting.status, PaymentStatus::Pending);

        let half = [succeeded(580, "SLJ7RT61SA")];
        let standing = PaymentStanding::of(OrderStatus::Pending, total, &half);
        assert_eq!(standing.status, PaymentStatus::PartiallyPaid);
        assert_eq!(standing.amount_due, shillings(581));

        let both = [succeeded(580, "SLJ7RT61SA"), succeeded(581, "SLJ7RT61SB")];
        let paid = PaymentStanding::of(OrderStatus::Pending, total, &both);
        assert_eq!(
            (paid.status, paid.amount_paid, paid.amount_due),
            (PaymentStatus::Paid, shillings(1161), Money::ZERO)
        );
        assert!(confirms(OrderStatus::Pending, &standing, &paid));
        assert!(
            !confirms(OrderStatus::Confirmed, &standing, &paid),
            "a confirmed order just becomes paid"
        );
        assert!(!confirms(OrderStatus::Pending, &paid, &paid));
        assert!(
            attention(OrderStatus::Pending, total, &both).is_empty(),
            "rounding up is not overpaying"
        );
    }

    #[test]
    fn an_order_is_open_while_a_prompt_or_reversal_waits_or_staff_must_act() {
        let total = shillings(1000);
        let open = |status, payments: &[Payment]| PaymentMarks::of(status, total, payments).open;
        assert!(!open(OrderStatus::Pending, &[]));
        assert!(
            open(OrderStatus::Pending, &[pending(1000)]),
            "a prompt waits"
        );
        let paid = succeeded(1000, "SLJ7RT61SA");
        assert!(!open(OrderStatus::Confirmed, std::slice::from_ref(&paid)));
        assert!(
            open(OrderStatus::Cancelled, std::slice::from_ref(&paid)),
            "money held on a cancelled order"
        );
        let mut reversing = paid.clone();
        reversing.request_reversal(at(2)).expect("reversible");
        assert!(open(
            OrderStatus::Cancelled,
            std::slice::from_ref(&reversing)
        ));
        let mut reversed = reversing.clone();
        reversed.settle_reversal(&ReversalOutcome::Reversed, at(3));
        assert!(
            !open(OrderStatus::Cancelled, &[reversed]),
            "refunded: closed"
        );
        let mut failed = reversing;
        failed.settle_reversal(&ReversalOutcome::Failed { code: None }, at(3));
        assert!(open(OrderStatus::Cancelled, &[failed]), "for staff");
        assert!(
            open(OrderStatus::Confirmed, &[paid, succeeded(10, "SLJ7RT61SB")]),
            "overpaid"
        );
        let marks = PaymentMarks::of(OrderStatus::Pending, total, &[pending(1000)]);
        assert_eq!(marks.status, PaymentStatus::Pending);
    }

    #[test]
    fn cancelled_orders_with_money_are_refunded_or_waiting_for_it() {
        let total = shillings(1000);
        let mut payment = succeeded(1000, "SLJ7RT61SA");
        let standing = |p: &[Payment]| PaymentStanding::of(OrderStatus::Cancelled, total, p).status;
        assert_eq!(
            standing(std::slice::from_ref(&payment)),
            PaymentStatus::RefundPending
        );
        assert_eq!(
            attention(
                OrderStatus::Cancelled,
                total,
                std::slice::from_ref(&payment)
            ),
            vec![(payment.id, Attention::HeldOnCancelledOrder)]
        );
        payment.request_reversal(at(2)).expect("reversible");
        assert!(
            attention(
                OrderStatus::Cancelled,
                total,
                std::slice::from_ref(&payment)
            )
            .is_empty()
        );
        payment.settle_reversal(&ReversalOutcome::Failed { code: None }, at(3));
        assert_eq!(
            attention(
                OrderStatus::Cancelled,
                total,
                std::slice::from_ref(&payment)
            ),
            vec![(payment.id, Attention::ReversalFailed)]
        );
        payment.request_reversal(at(4)).expect("retry");
        payment.settle_reversal(&ReversalOutcome::Reversed, at(5));
        assert_eq!(
            standing(std::slice::from_ref(&payment)),
            PaymentStatus::Refunded
        );
        assert_eq!(
            standing(&[]),
            PaymentStatus::Unpaid,
            "no money, nothing to refund"
        );
    }

    #[test]
    fn prompts_need_an_open_order_something_due_and_no_prompt_waiting() {
        let total = shillings(300_000);
        let standing = PaymentStanding::of(OrderStatus::Confirmed, total, &[]);
        assert_eq!(
            standing.prompt(OrderStatus::Confirmed, &[]),
            Ok(shillings(250_000))
        );
        assert_eq!(
            standing.prompt(OrderStatus::Cancelled, &[]),
            Err(NotPayable::Cancelled)
        );
        let waiting = [pending(250_000)];
        let standing = PaymentStanding::of(OrderStatus::Confirmed, total, &waiting);
        assert_eq!(
            standing.prompt(OrderStatus::Confirmed, &waiting),
            Err(NotPayable::PromptPending)
        );
        let paid = [succeeded(300_000, "SLJ7RT61SA")];
        let standing = PaymentStanding::of(OrderStatus::Delivered, total, &paid);
        assert_eq!(
            standing.prompt(OrderStatus::Delivered, &paid),
            Err(NotPayable::NothingDue)
        );
    }

    #[test]
    fn overpaid_orders_and_receiptless_successes_need_staff() {
        let total = shillings(1000);
        let first = succeeded(1000, "SLJ7RT61SA");
        let mut second = succeeded(200, "SLJ7RT61SB");
        second.updated_at = at(9);
        let found = attention(OrderStatus::Confirmed, total, &[first, second.clone()]);
        assert_eq!(found, vec![(second.id, Attention::Overpaid)]);

        let mut no_receipt = pending(1000);
        no_receipt.settle(&PromptOutcome::Confirmed, at(2));
        assert_eq!(
            attention(
                OrderStatus::Confirmed,
                total,
                std::slice::from_ref(&no_receipt)
            ),
            vec![(no_receipt.id, Attention::MissingReceipt)]
        );
        for reason in [
            Attention::ReversalFailed,
            Attention::HeldOnCancelledOrder,
            Attention::MissingReceipt,
            Attention::Overpaid,
        ] {
            assert_eq!(Attention::parse(reason.as_str()), Some(reason));
        }
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
    }

    /// One thing that can happen to an order's payments.
    #[derive(Debug, Clone)]
    enum Event {
        Prompt(u32),
        Outcome(usize, u8),
        Receipt(usize),
        Paybill(u32),
        Cancel,
        RequestReversal(usize),
        ReversalAnswer(usize, u8),
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            (1u32..3000).prop_map(Event::Prompt),
            (0usize..8, 0u8..3).prop_map(|(i, o)| Event::Outcome(i, o)),
            (0usize..8).prop_map(Event::Receipt),
            (1u32..3000).prop_map(Event::Paybill),
            Just(Event::Cancel),
            (0usize..8).prop_map(Event::RequestReversal),
            (0usize..8, 0u8..3).prop_map(|(i, o)| Event::ReversalAnswer(i, o)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// No sequence of events reaches an illegal state: money counts once, `reversed`
        /// and `succeeded` are never left for a worse state, the derived status agrees
        /// with the sums, and a cancelled order with money always shows the refund.
        #[test]
        fn the_payment_state_machine_stays_legal(events in proptest::collection::vec(event(), 0..40)) {
            let total = shillings(2000);
            let mut status = OrderStatus::Pending;
            let mut payments: Vec<Payment> = Vec::new();
            let mut receipts = 0u32;
            for (step, event) in events.into_iter().enumerate() {
                let now = at(u32::try_from(step % 60).expect("small"));
                let before: Vec<PaymentState> = payments.iter().map(|p| p.state).collect();
                match event {
                    Event::Prompt(amount) => {
                        let standing = PaymentStanding::of(status, total, &payments);
                        if let Ok(ask) = standing.prompt(status, &payments) {
                            prop_assert!(ask <= standing.amount_due);
                            payments.push(pending(amount.min(u32::try_from(ask.minor_units() / 100).expect("fits"))));
                        }
                    }
                    Event::Outcome(i, o) => {
                        if let Some(p) = payments.get_mut(i) {
                            let outcome = match o {
                                0 => PromptOutcome::Confirmed,
                                1 => PromptOutcome::Refused { code: "1032".into(), description: "cancelled".into() },
                                _ => PromptOutcome::NoAnswer,
                            };
                            p.settle(&outcome, now);
                        }
                    }
                    Event::Receipt(i) => {
                        receipts += 1;
                        if let Some(p) = payments.get_mut(i) {
                            p.attach_receipt(Receipt::parse(&format!("SLJ{receipts:07}")).expect("receipt"), now);
                        }
                    }
                    Event::Paybill(amount) => {
                        receipts += 1;
                        payments.push(succeeded(amount, &format!("SLK{receipts:07}")));
                    }
                    Event::Cancel => {
                        if status != OrderStatus::Cancelled {
                            status = OrderStatus::Cancelled;
                        }
                    }
                    Event::RequestReversal(i) => {
                        if let Some(p) = payments.get_mut(i) {
                            let _ = p.request_reversal(now);
                        }
                    }
                    Event::ReversalAnswer(i, o) => {
                        if let Some(p) = payments.get_mut(i) {
                            let outcome = match o {
                                0 => ReversalOutcome::Reversed,
                                1 => ReversalOutcome::AlreadyReversed,
                                _ => ReversalOutcome::Failed { code: Some("R000002".into()) },
                            };
                            p.settle_reversal(&outcome, now);
                        }
                    }
                }
                for (p, was) in payments.iter().zip(before) {
                    // Reversed is final; succeeded only ever becomes reversed.
                    match was {
                        PaymentState::Reversed => prop_assert_eq!(p.state, PaymentState::Reversed),
                        PaymentState::Succeeded => prop_assert!(matches!(p.state, PaymentState::Succeeded | PaymentState::Reversed)),
                        _ => {}
                    }
                    if p.state == PaymentState::Reversed {
                        prop_assert!(p.receipt.is_some());
                        prop_assert_eq!(p.reversal.as_ref().map(|r| r.state), Some(ReversalState::Reversed));
                    }
                    if let Some(r) = &p.reversal {
                        prop_assert!(r.attempts >= 1);
                    }
                }
                let standing = PaymentStanding::of(status, total, &payments);
                let sum: Money = payments.iter().filter(|p| p.state == PaymentState::Succeeded).map(|p| p.amount).sum();
                prop_assert_eq!(standing.amount_paid, sum);
                prop_assert!(standing.amount_due >= Money::ZERO);
                prop_assert_eq!(standing.amount_due == Money::ZERO, sum >= total);
                let held = payments.iter().any(Payment::held_money);
                match standing.status {
                    PaymentStatus::Refunded => prop_assert!(status == OrderStatus::Cancelled && held && sum == Money::ZERO),
                    PaymentStatus::RefundPending => prop_assert!(status == OrderStatus::Cancelled && sum > Money::ZERO),
                    PaymentStatus::Paid => prop_assert!(sum >= total),
                    PaymentStatus::PartiallyPaid => prop_assert!(sum > Money::ZERO && sum < total),
                    PaymentStatus::Pending => prop_assert!(sum == Money::ZERO && payments.iter().any(|p| p.state == PaymentState::Pending)),
                    PaymentStatus::Unpaid => prop_assert!(sum == Money::ZERO && !payments.iter().any(|p| p.state == PaymentState::Pending)),
                }
                // At most one prompt waits at a time.
                prop_assert!(payments.iter().filter(|p| p.state == PaymentState::Pending).count() <= 1);
            }
        }
    }
}
