//! The reconciler's sweep of the open payments: what no callback settled.
//!
//! Invariants:
//! - A pending prompt is decided by M-Pesa's status query, as a callback's would be; one
//!   with no definite answer [`NO_ANSWER_AFTER`] after it was sent becomes `failed`
//!   ("no answer"). A success the query proves later still counts (a late callback, or a
//!   later sweep of the same prompt while its order is open).
//! - A reversal requested and not yet taken by M-Pesa is asked for again; one M-Pesa took
//!   but never answered within [`REVERSAL_RESULT_WAIT`] fails (timed out). A failed
//!   reversal is requested again until it has been tried [`REVERSAL_ATTEMPTS`] times; then
//!   it is left for staff (the attention list), never retried for ever.
//! - One order's failure is logged and the sweep goes on with the next: a run never stops
//!   at the first broken order.

use std::time::Duration;

use crate::audit::Actor;
use crate::order::history;
use crate::order::{NotificationQueue, Order};
use crate::payment::{Payment, PaymentState, PromptOutcome, ReversalOutcome, ReversalState};
use crate::timestamp::Timestamp;

use super::ports::{MpesaGateway, PaymentError, PaymentStore};
use super::service::{Decision, Handled, PaymentService, StkNotice};

/// How long a prompt may stay without a definite answer before it fails ("no answer").
pub const NO_ANSWER_AFTER: Duration = Duration::from_secs(10 * 60);

/// How long M-Pesa may take to post a reversal's result before it counts as failed.
pub const REVERSAL_RESULT_WAIT: Duration = Duration::from_secs(30 * 60);

/// How often a reversal is requested in all before it is left for staff.
pub const REVERSAL_ATTEMPTS: u32 = 3;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// Open orders looked at.
    pub orders: usize,
    /// Prompts the status query decided (succeeded or failed).
    pub prompts_settled: usize,
    /// Prompts failed by the 10-minute rule.
    pub prompts_expired: usize,
    /// Reversals that timed out waiting for their result.
    pub reversals_timed_out: usize,
    /// Failed reversals requested again.
    pub reversals_retried: usize,
    /// Reversals M-Pesa took in this sweep.
    pub reversals_requested: usize,
    /// Orders the sweep could not finish (logged; the next sweep tries again).
    pub errors: usize,
}

impl<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue> PaymentService<S, G, Q> {
    /// Settles what callbacks left open on every open order, as of `now`.
    #[tracing::instrument(name = "payments.sweep", skip_all)]
    pub async fn sweep(&self, now: Timestamp) -> Result<SweepReport, PaymentError> {
        let orders = self.store.open_orders().await?;
        let mut report = SweepReport {
            orders: orders.len(),
            ..SweepReport::default()
        };
        for order in &orders {
            if let Err(err) = self.sweep_order(order, now, &mut report).await {
                report.errors += 1;
                tracing::warn!(order_id = %order.id, error = %err,
                    "open payments of the order not settled; the next sweep tries again");
            }
        }
        tracing::info!(
            orders = report.orders,
            prompts_settled = report.prompts_settled,
            prompts_expired = report.prompts_expired,
            reversals_timed_out = report.reversals_timed_out,
            reversals_retried = report.reversals_retried,
            reversals_requested = report.reversals_requested,
            errors = report.errors,
            "payments sweep"
        );
        Ok(report)
    }

    #[tracing::instrument(name = "payments.sweep_order", skip_all, fields(order_id = %order.id))]
    async fn sweep_order(
        &self,
        order: &Order,
        now: Timestamp,
        report: &mut SweepReport,
    ) -> Result<(), PaymentError> {
        for payment in order
            .payments
            .iter()
            .filter(|p| p.state == PaymentState::Pending)
        {
            let answered = match &payment.checkout_request_id {
                Some(checkout_request_id) => {
                    let notice = StkNotice {
                        checkout_request_id: checkout_request_id.clone(),
                        receipt: None,
                        amount: None,
                    };
                    self.settle_prompt(order.id, payment.id, &notice).await?
                }
                // M-Pesa never answered the prompt's request: nothing to ask about.
                None => Handled::Unchanged,
            };
            if answered == Handled::Applied {
                report.prompts_settled += 1;
            } else if now >= payment.created_at.after(NO_ANSWER_AFTER)
                && self.expire_prompt(order, payment.id).await? == Handled::Applied
            {
                report.prompts_expired += 1;
            }
        }
        let reversals: Vec<_> = order
            .payments
            .iter()
            .filter_map(|p| p.reversal.as_ref().map(|r| (p.id, r)))
            .collect();
        let mut expired_reversals = 0;
        for (payment_id, reversal) in &reversals {
            let unanswered = reversal.state == ReversalState::Requested
                && reversal.conversation_id.is_some()
                && now >= reversal.at.after(REVERSAL_RESULT_WAIT);
            if unanswered {
                let timed_out = ReversalOutcome::Failed { code: None };
                if self
                    .settle_reversal(order.id, *payment_id, &timed_out)
                    .await?
                    == Handled::Applied
                {
                    // The alarm on reversals that keep failing counts these lines.
                    tracing::warn!(event = "mpesa.reversal_failed", payment_id = %payment_id,
                        code = "no_result", "M-Pesa never answered the reversal; it is asked again");
                    expired_reversals += 1;
                }
            }
        }
        report.reversals_timed_out += expired_reversals;
        // Each step reads the order again: only when the order as read (or a timeout just
        // written) gives it something to do.
        let retried = if expired_reversals > 0 || order.payments.iter().any(retriable) {
            self.retry_failed_reversals(order.id).await?
        } else {
            0
        };
        report.reversals_retried += retried;
        if retried > 0 || order.payments.iter().any(Payment::awaits_reversal_call) {
            let requested = self.request_reversals(order.id).await?;
            report.reversals_requested += requested.requested;
        }
        Ok(())
    }

    /// Fails a prompt still pending by the 10-minute rule.
    async fn expire_prompt(
        &self,
        order: &Order,
        payment_id: crate::payment::PaymentId,
    ) -> Result<Handled, PaymentError> {
        self.decide(order.id, |order| {
            let mut payments = order.payments.clone();
            let stored = payments.iter_mut().find(|p| p.id == payment_id)?;
            let at = Timestamp::now();
            if !stored.settle(&PromptOutcome::NoAnswer, at) {
                return None;
            }
            let entry = history::payment_failed(&Actor::mpesa(), &order.subject(), stored, at);
            Some(Decision {
                payments,
                history: vec![entry],
                ..Decision::default()
            })
        })
        .await
    }

    /// Requests again every failed reversal of the order tried fewer than
    /// [`REVERSAL_ATTEMPTS`] times (M-Pesa is called next, by `request_reversals`).
    /// Returns how many.
    async fn retry_failed_reversals(
        &self,
        order_id: crate::id::OrderId,
    ) -> Result<usize, PaymentError> {
        let mut retried = 0;
        self.decide(order_id, |order| {
            let at = Timestamp::now();
            let mut payments = order.payments.clone();
            let mut history = Vec::new();
            for payment in payments.iter_mut() {
                if retriable(payment) && payment.request_reversal(at).is_ok() {
                    history.push(history::payment_reversal_requested(
                        &Actor::mpesa(),
                        &order.subject(),
                        payment,
                        at,
                    ));
                }
            }
            retried = history.len();
            (!history.is_empty()).then(|| Decision {
                payments,
                history,
                ..Decision::default()
            })
        })
        .await?;
        Ok(retried)
    }
}

/// Whether `payment`'s reversal failed and may be requested again.
fn retriable(payment: &Payment) -> bool {
    payment
        .reversal
        .as_ref()
        .is_some_and(|r| r.state == ReversalState::Failed && r.attempts < REVERSAL_ATTEMPTS)
}
