//! The payments use cases, on top of the ports.
//!
//! Invariants:
//! - A prompt counts as paid only when M-Pesa's status query says `"0"`: a callback
//!   triggers the query and contributes only the receipt, so a forged success callback
//!   changes nothing the query does not confirm.
//! - Every change is a [`PaymentWrite`] decided on the order as just read and applied only
//!   while that read is current; a lost race is decided again on a fresh read (at most
//!   [`WRITE_TRIES`] times), never by sending the same write again.
//! - A receipt counts once: its claim is taken in the write that counts its money, and a
//!   receipt already claimed (the same message twice, in parallel or not) changes nothing.
//! - The order's confirmation by payment is the one `POST /orders/{id}/confirm` makes
//!   (`confirmed_at`, its history entry, the hand-off mark), in the same write, and the
//!   `order.confirmed` hand-off follows the commit as it does there.
//! - Spans carry order and payment ids, never a phone number, a name or a receipt.

use std::time::Duration;

use crate::audit::{Actor, AuditEntry};
use crate::customer::PhoneNumber;
use crate::id::OrderId;
use crate::money::Money;
use crate::notification::CustomerMessage;
use crate::order::history;
use crate::order::payments::{PaymentMarks, PaymentStanding, confirms};
use crate::order::reference::PaymentReference;
use crate::order::{HandOffChange, NotificationQueue, Order, OrderStatus, StatusChange, Viewer};
use crate::payment::{Payment, PaymentId, PaymentState, PromptOutcome, Receipt};
use crate::timestamp::Timestamp;

use super::ports::{
    Claim, GatewayError, MpesaGateway, PaymentError, PaymentStore, PaymentWrite, PromptRef,
    PromptRequest, QueryAnswer, UnmatchedPayment, WriteFailure,
};

/// How often one use case decides again after losing a race to another writer.
pub const WRITE_TRIES: u32 = 5;

/// What a prompt's callback told us (already parsed and checked for shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkNotice {
    pub checkout_request_id: String,
    /// M-Pesa's receipt, on a success callback.
    pub receipt: Option<Receipt>,
    /// The amount a success callback names.
    pub amount: Option<Money>,
}

/// A Paybill payment M-Pesa confirmed (the C2B confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaybillNotice {
    pub receipt: Receipt,
    pub amount: Money,
    /// What the payer typed as the account number.
    pub bill_ref_number: String,
    /// As M-Pesa gives it (masked).
    pub phone_number: Option<String>,
    pub payer_name: Option<String>,
    pub paid_at: Option<Timestamp>,
}

/// A reversal's result (or its queue timeout), as M-Pesa posts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalNotice {
    pub conversation_id: String,
    /// M-Pesa's `ResultCode` (`"0"`, `"R000001"`, …); `None` for a queue timeout.
    pub result_code: Option<String>,
}

/// What one round of reversal requests did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReversalReport {
    /// M-Pesa took the request; its result will come.
    pub requested: usize,
    /// M-Pesa refused it: the reversal failed (staff see it; it may be requested again).
    pub refused: usize,
    /// No answer: it stays requested and is asked again later.
    pub unanswered: usize,
}

/// What became of a message from M-Pesa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// It changed the order's payments.
    Applied,
    /// It was already applied, or says nothing new (a duplicate, a pending query).
    Unchanged,
    /// It named no order we know: kept as an unmatched payment for staff.
    KeptUnmatched,
    /// It named nothing we know and carried no money: nothing to keep.
    Ignored,
}

/// One decided change: the payments after it, its history and claims, who made it and
/// the unmatched payment it assigns (staff's assignment).
#[derive(Default)]
pub(super) struct Decision {
    pub payments: Vec<Payment>,
    pub history: Vec<AuditEntry>,
    pub claims: Vec<Claim>,
    /// Who confirms the order if the change does (`None`: M-Pesa).
    pub actor: Option<Actor>,
    pub assigns: Option<PaymentId>,
}

/// The payments service.
#[derive(Debug, Clone)]
pub struct PaymentService<S, G, Q> {
    pub(super) store: S,
    pub(super) gateway: G,
    queue: Q,
    /// How long after a confirmation the reconciler re-sends an unacknowledged hand-off
    /// (the orders service's grace).
    hand_off_grace: Duration,
}

impl<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue> PaymentService<S, G, Q> {
    pub fn new(store: S, gateway: G, queue: Q, hand_off_grace: Duration) -> Self {
        Self {
            store,
            gateway,
            queue,
            hand_off_grace,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    async fn order(&self, id: OrderId) -> Result<Order, PaymentError> {
        self.store
            .order(id)
            .await?
            .ok_or(PaymentError::OrderNotFound)
    }

    /// Sends a prompt for what is due on the order to `phone` (default: the customer's
    /// own). The pending payment is written before M-Pesa is called, so of concurrent
    /// calls one prompts and the others get [`NotPayable::PromptPending`].
    ///
    /// [`NotPayable::PromptPending`]: crate::order::NotPayable::PromptPending
    #[tracing::instrument(name = "payments.pay", skip_all, fields(
        order_id = %id, customer_id = %viewer.customer_id, admin = viewer.admin,
        payment_id = tracing::field::Empty,
    ))]
    pub async fn pay(
        &self,
        viewer: Viewer,
        id: OrderId,
        phone: Option<PhoneNumber>,
    ) -> Result<Payment, PaymentError> {
        let order = self.order(id).await?;
        if !(viewer.admin || order.customer_id == viewer.customer_id) {
            return Err(PaymentError::OrderNotFound);
        }
        let amount = order
            .payment_standing()
            .prompt(order.status, &order.payments)?;
        let phone = match phone {
            Some(phone) => phone,
            None => self
                .store
                .customer_phone(order.customer_id)
                .await?
                .ok_or(PaymentError::NoPhoneNumber)?,
        };
        let mut payment = Payment::prompt(
            PaymentId::generate(),
            order.id,
            amount,
            phone.as_str().to_owned(),
            Timestamp::now(),
        );
        tracing::Span::current().record("payment_id", tracing::field::display(payment.id));
        let mut payments = order.payments.clone();
        payments.push(payment.clone());
        let slot = PaymentWrite {
            order_id: order.id,
            expected_version: order.payments_version,
            expected_status: order.status,
            marks: PaymentMarks::of(order.status, order.totals.total_amount, &payments),
            payments_after: payments,
            confirmation: None,
            history: Vec::new(),
            claims: Vec::new(),
            assigns: None,
            messages: Vec::new(),
            tell_by: payment.created_at,
            at: payment.created_at,
        };
        match self.store.write(&slot).await {
            Ok(()) => {}
            Err(WriteFailure::ConcurrentChange) => {
                // Another write came first (most likely another prompt): explain against
                // the order as it is now.
                let now = self.order(id).await?;
                now.payment_standing().prompt(now.status, &now.payments)?;
                return Err(PaymentError::ConcurrentChange);
            }
            Err(err) => return Err(into_error(err)),
        }
        let request = PromptRequest {
            phone,
            amount,
            account_reference: order.payment_reference().to_string(),
        };
        match self.gateway.prompt(&request).await {
            Ok(checkout_request_id) => {
                payment.accepted(checkout_request_id.clone(), Timestamp::now());
                let accepted = payment.clone();
                // Most often nothing happened to the order since the slot was taken: record
                // M-Pesa's acceptance on the state just written, without reading it again.
                let mut recorded = slot;
                if let Some(stored) = recorded
                    .payments_after
                    .iter_mut()
                    .find(|p| p.id == accepted.id)
                {
                    *stored = accepted.clone();
                }
                recorded.expected_version += 1;
                recorded.at = accepted.updated_at;
                recorded.claims = vec![Claim::Checkout {
                    checkout_request_id: checkout_request_id.clone(),
                    order_id: order.id,
                    payment_id: accepted.id,
                }];
                match self.store.write(&recorded).await {
                    Ok(()) => return Ok(payment),
                    // Something came between (a callback, a cancellation): decide again
                    // on the order as it is now.
                    Err(WriteFailure::ConcurrentChange) => {}
                    Err(err) => return Err(into_error(err)),
                }
                self.decide(id, |order| {
                    let mut payments = order.payments.clone();
                    let stored = payments.iter_mut().find(|p| p.id == accepted.id)?;
                    if stored.checkout_request_id.is_some() {
                        return None;
                    }
                    *stored = accepted.clone();
                    Some(Decision {
                        payments,
                        history: Vec::new(),
                        claims: vec![Claim::Checkout {
                            checkout_request_id: checkout_request_id.clone(),
                            order_id: order.id,
                            payment_id: accepted.id,
                        }],
                        ..Default::default()
                    })
                })
                .await?;
                Ok(payment)
            }
            Err(GatewayError::Refused { code, description }) => {
                let outcome = PromptOutcome::Refused {
                    code,
                    description: description.clone(),
                };
                let failed = payment.id;
                self.decide(id, |order| {
                    let mut payments = order.payments.clone();
                    let stored = payments.iter_mut().find(|p| p.id == failed)?;
                    let at = Timestamp::now();
                    if !stored.settle(&outcome, at) {
                        return None;
                    }
                    let entry =
                        history::payment_failed(&Actor::mpesa(), &order.subject(), stored, at);
                    Some(Decision {
                        history: vec![entry],
                        payments,
                        claims: Vec::new(),
                        ..Default::default()
                    })
                })
                .await?;
                Err(PaymentError::PromptRefused(description))
            }
            Err(GatewayError::NoAnswer(why)) => {
                tracing::warn!(reason = %why, "M-Pesa did not answer the prompt; it stays pending");
                Err(PaymentError::MpesaNoAnswer)
            }
        }
    }

    /// Takes a prompt's callback: the STK query decides, the callback brings the receipt.
    #[tracing::instrument(name = "payments.stk_callback", skip_all, fields(
        order_id = tracing::field::Empty, payment_id = tracing::field::Empty,
    ))]
    pub async fn stk_callback(&self, notice: &StkNotice) -> Result<Handled, PaymentError> {
        let Some(prompt) = self
            .store
            .prompt_by_checkout(&notice.checkout_request_id)
            .await?
        else {
            // Not a prompt of ours: only a success the query confirms is worth keeping.
            return self.unknown_prompt(notice).await;
        };
        record_ids(&prompt);
        self.settle_prompt(prompt.order_id, prompt.payment_id, notice)
            .await
    }

    /// Asks M-Pesa how the prompt ended and applies the answer (with the receipt the
    /// callback brought, if any): the one path by which a prompt succeeds or fails.
    pub async fn settle_prompt(
        &self,
        order_id: OrderId,
        payment_id: PaymentId,
        notice: &StkNotice,
    ) -> Result<Handled, PaymentError> {
        let answer = match self.gateway.query(&notice.checkout_request_id).await {
            Ok(answer) => answer,
            Err(err) => {
                // A quota error, a timeout, a refusal to say: the prompt stays pending
                // and the reconciler asks again.
                tracing::warn!(error = %err, "the status query gave no answer; the prompt stays pending");
                QueryAnswer::Pending
            }
        };
        let outcome = match answer {
            QueryAnswer::Pending => return Ok(Handled::Unchanged),
            QueryAnswer::Completed { code, .. } if code == "0" => PromptOutcome::Confirmed,
            QueryAnswer::Completed { code, description } => {
                PromptOutcome::Refused { code, description }
            }
        };
        let applied = self
            .decide(order_id, |order| {
                let before = order.payment_standing();
                let mut payments = order.payments.clone();
                // The same money already recorded by its Paybill confirmation (M-Pesa may
                // confirm a prompt's payment to the Paybill as a C2B payment too): that
                // record gives way to the prompt, so the receipt counts once.
                let twin = paybill_twin(&order.payments, payment_id, notice);
                let stored = payments.iter_mut().find(|p| p.id == payment_id)?;
                let at = Timestamp::now();
                let settled = stored.settle(&outcome, at);
                let mut changed = settled;
                let mut claims = Vec::new();
                // The amount check: a callback naming another amount than the prompt asked
                // brings no receipt we trust (the money counted is what the query
                // confirmed for this prompt).
                let amount_agrees = notice.amount.is_none_or(|amount| amount == stored.amount);
                if !amount_agrees {
                    tracing::warn!(
                        "the callback names another amount than the prompt; its receipt is not kept"
                    );
                }
                if outcome == PromptOutcome::Confirmed
                    && amount_agrees
                    && let Some(receipt) = &notice.receipt
                    && stored.attach_receipt(receipt.clone(), at)
                {
                    changed = true;
                    // A receipt already claimed (by its Paybill twin) is not claimed again.
                    if twin.is_none() {
                        claims.push(Claim::Receipt {
                            receipt: receipt.clone(),
                            order_id: Some(order.id),
                            payment_id,
                        });
                    }
                }
                if !changed {
                    return None;
                }
                let stored = stored.clone();
                if let Some(twin) = twin
                    && stored.state == PaymentState::Succeeded
                    && stored.receipt.is_some()
                {
                    payments.retain(|p| p.id != twin);
                }
                let mut history = Vec::new();
                // A receipt arriving for a payment already settled is no new event.
                match stored.state {
                    _ if !settled => {}
                    PaymentState::Succeeded => {
                        let after =
                            PaymentStanding::of(order.status, order.totals.total_amount, &payments);
                        history.push(history::payment_received(
                            &Actor::mpesa(),
                            &order.subject(),
                            &stored,
                            before.amount_paid,
                            after.amount_paid,
                            at,
                        ));
                    }
                    PaymentState::Failed => {
                        history.push(history::payment_failed(
                            &Actor::mpesa(),
                            &order.subject(),
                            &stored,
                            at,
                        ));
                    }
                    _ => {}
                }
                Some(Decision {
                    payments,
                    history,
                    claims,
                    ..Default::default()
                })
            })
            .await?;
        Ok(applied)
    }

    /// A success callback for a `CheckoutRequestID` no prompt of ours claimed: kept as an
    /// unmatched payment only when the query confirms it and it brings a receipt.
    async fn unknown_prompt(&self, notice: &StkNotice) -> Result<Handled, PaymentError> {
        let (Some(receipt), Some(amount)) = (&notice.receipt, notice.amount) else {
            return Ok(Handled::Ignored);
        };
        match self.gateway.query(&notice.checkout_request_id).await {
            Ok(QueryAnswer::Completed { code, .. }) if code == "0" => {}
            _ => return Ok(Handled::Ignored),
        }
        let now = Timestamp::now();
        let payment = Payment::unmatched_prompt(
            PaymentId::generate(),
            amount,
            receipt.clone(),
            notice.checkout_request_id.clone(),
            now,
        );
        self.keep_unmatched(payment, now).await
    }

    async fn keep_unmatched(
        &self,
        payment: Payment,
        paid_at: Timestamp,
    ) -> Result<Handled, PaymentError> {
        let unmatched = UnmatchedPayment {
            payment,
            paid_at,
            assigned_to: None,
        };
        match self.store.keep_unmatched(&unmatched).await {
            Ok(()) => Ok(Handled::KeptUnmatched),
            Err(WriteFailure::ReceiptTaken) => Ok(Handled::Unchanged),
            Err(err) => Err(into_error(err)),
        }
    }

    /// Whether a Paybill payment naming `bill_ref_number` should be accepted (C2B
    /// validation): it names an order that is not cancelled.
    #[tracing::instrument(name = "payments.validate_paybill", skip_all)]
    pub async fn accepts_paybill(&self, bill_ref_number: &str) -> Result<bool, PaymentError> {
        Ok(match self.order_of_reference(bill_ref_number).await? {
            Some(order) => order.status != OrderStatus::Cancelled,
            None => false,
        })
    }

    async fn order_of_reference(&self, typed: &str) -> Result<Option<Order>, PaymentError> {
        let Ok(reference) = PaymentReference::parse(typed) else {
            return Ok(None);
        };
        let Some(id) = self.store.order_by_number(reference.order_number()).await? else {
            return Ok(None);
        };
        self.store.order(id).await
    }

    /// Takes a Paybill confirmation: applied to the order its account number names, or
    /// kept unmatched; the same receipt twice is applied once.
    #[tracing::instrument(name = "payments.paybill", skip_all, fields(order_id = tracing::field::Empty))]
    pub async fn paybill(&self, notice: &PaybillNotice) -> Result<Handled, PaymentError> {
        let now = Timestamp::now();
        let paid_at = notice.paid_at.unwrap_or(now);
        let payment = |order: Option<OrderId>| {
            Payment::paybill(
                PaymentId::generate(),
                order,
                notice.amount,
                notice.receipt.clone(),
                notice.phone_number.clone(),
                notice.payer_name.clone(),
                notice.bill_ref_number.clone(),
                now,
            )
        };
        let Some(order) = self.order_of_reference(&notice.bill_ref_number).await? else {
            return self.keep_unmatched(payment(None), paid_at).await;
        };
        tracing::Span::current().record("order_id", tracing::field::display(order.id));
        let new = payment(Some(order.id));
        self.decide(order.id, |order| {
            if order
                .payments
                .iter()
                .any(|p| p.receipt.as_ref() == Some(&notice.receipt))
            {
                return None;
            }
            let before = order.payment_standing();
            let mut payments = order.payments.clone();
            payments.push(new.clone());
            let after = PaymentStanding::of(order.status, order.totals.total_amount, &payments);
            Some(Decision {
                history: vec![history::payment_received(
                    &Actor::mpesa(),
                    &order.subject(),
                    &new,
                    before.amount_paid,
                    after.amount_paid,
                    now,
                )],
                claims: vec![Claim::Receipt {
                    receipt: notice.receipt.clone(),
                    order_id: Some(order.id),
                    payment_id: new.id,
                }],
                payments,
                ..Default::default()
            })
        })
        .await
    }

    /// Calls M-Pesa's Reversal API for every reversal of the order that is requested and
    /// not yet taken by M-Pesa (no `ConversationID`): after the transaction that requested
    /// it, never inside it. Idempotent per payment: a reversal M-Pesa took is not asked
    /// again, and its `ConversationID` is claimed to lead the result back.
    #[tracing::instrument(name = "payments.request_reversals", skip_all, fields(order_id = %order_id))]
    pub async fn request_reversals(
        &self,
        order_id: OrderId,
    ) -> Result<ReversalReport, PaymentError> {
        let order = self.order(order_id).await?;
        let mut report = ReversalReport::default();
        let waiting = order.payments.iter().filter(|p| p.awaits_reversal_call());
        for payment in waiting {
            let Some(receipt) = &payment.receipt else {
                continue; // awaits_reversal_call holds only with a receipt
            };
            let payment_id = payment.id;
            match self.gateway.reverse(receipt, payment.amount).await {
                Ok(conversation_id) => {
                    self.decide(order_id, |order| {
                        let mut payments = order.payments.clone();
                        let stored = payments.iter_mut().find(|p| p.id == payment_id)?;
                        let before = stored.reversal.clone();
                        stored.reversal_accepted(conversation_id.clone(), Timestamp::now());
                        (stored.reversal != before).then(|| Decision {
                            payments: payments.clone(),
                            history: Vec::new(),
                            claims: vec![Claim::Reversal {
                                conversation_id: conversation_id.clone(),
                                order_id: order.id,
                                payment_id,
                            }],
                            ..Default::default()
                        })
                    })
                    .await?;
                    report.requested += 1;
                }
                Err(GatewayError::Refused { code, .. }) => {
                    // The alarm on reversals that keep failing counts these lines.
                    tracing::warn!(event = "mpesa.reversal_failed", payment_id = %payment_id,
                        code = %code, "M-Pesa refused the reversal request; the money is still the shop's");
                    let outcome = crate::payment::ReversalOutcome::Failed { code: Some(code) };
                    self.settle_reversal(order_id, payment_id, &outcome).await?;
                    report.refused += 1;
                }
                Err(GatewayError::NoAnswer(why)) => {
                    tracing::warn!(payment_id = %payment_id, reason = %why,
                        "M-Pesa did not answer the reversal request; it is asked again later");
                    report.unanswered += 1;
                }
            }
        }
        Ok(report)
    }

    /// Takes a reversal's result (or its queue timeout): `0` or `R000001` (already
    /// reversed) give the money back to the payer (`reversed`; all reversed: `refunded`);
    /// anything else, or a timeout, fails the reversal, which staff see and which may be
    /// requested again. A result for no reversal of ours, or a repeated one, changes
    /// nothing.
    #[tracing::instrument(name = "payments.reversal_result", skip_all, fields(
        order_id = tracing::field::Empty, payment_id = tracing::field::Empty,
    ))]
    pub async fn reversal_result(&self, notice: &ReversalNotice) -> Result<Handled, PaymentError> {
        let Some(reversal) = self
            .store
            .reversal_by_conversation(&notice.conversation_id)
            .await?
        else {
            return Ok(Handled::Ignored);
        };
        record_ids(&reversal);
        let outcome = match notice.result_code.as_deref() {
            Some("0") => crate::payment::ReversalOutcome::Reversed,
            Some("R000001") => crate::payment::ReversalOutcome::AlreadyReversed,
            code => crate::payment::ReversalOutcome::Failed {
                code: code.map(str::to_owned),
            },
        };
        self.settle_reversal(reversal.order_id, reversal.payment_id, &outcome)
            .await
    }

    pub(super) async fn settle_reversal(
        &self,
        order_id: OrderId,
        payment_id: PaymentId,
        outcome: &crate::payment::ReversalOutcome,
    ) -> Result<Handled, PaymentError> {
        self.decide(order_id, |order| {
            let before = order.payment_standing();
            let mut payments = order.payments.clone();
            let stored = payments.iter_mut().find(|p| p.id == payment_id)?;
            let at = Timestamp::now();
            if !stored.settle_reversal(outcome, at) {
                return None;
            }
            let stored = stored.clone();
            let entry = if stored.state == PaymentState::Reversed {
                let after = PaymentStanding::of(order.status, order.totals.total_amount, &payments);
                history::payment_reversed(
                    &Actor::mpesa(),
                    &order.subject(),
                    &stored,
                    before.amount_paid,
                    after.amount_paid,
                    at,
                )
            } else {
                history::payment_reversal_failed(&Actor::mpesa(), &order.subject(), &stored, at)
            };
            Some(Decision {
                payments,
                history: vec![entry],
                claims: Vec::new(),
                ..Default::default()
            })
        })
        .await
    }

    /// Reads the order, lets `decide` compute the change (or `None`: nothing to do),
    /// confirms a `PENDING` order it makes fully paid, and writes it; on a lost race, reads
    /// and decides again. A receipt already claimed makes the change a no-op.
    pub(super) async fn decide(
        &self,
        order_id: OrderId,
        mut decide: impl FnMut(&Order) -> Option<Decision>,
    ) -> Result<Handled, PaymentError> {
        for _ in 0..WRITE_TRIES {
            let order = self.order(order_id).await?;
            let Some(mut decision) = decide(&order) else {
                return Ok(Handled::Unchanged);
            };
            let at = Timestamp::now();
            let mut refunds = false;
            if order.status == OrderStatus::Cancelled {
                // Money on a cancelled order goes back: its reversal is requested in the
                // same write (the call to M-Pesa follows, never inside it).
                for payment in decision.payments.iter_mut() {
                    if payment.reversal.is_none() && payment.request_reversal(at).is_ok() {
                        refunds = true;
                        decision.history.push(history::payment_reversal_requested(
                            &Actor::mpesa(),
                            &order.subject(),
                            payment,
                            at,
                        ));
                    }
                }
            }
            let before = order.payment_standing();
            let after =
                PaymentStanding::of(order.status, order.totals.total_amount, &decision.payments);
            let mut history = decision.history;
            let by = decision.actor.unwrap_or_else(Actor::mpesa);
            let confirms = confirms(order.status, &before, &after);
            let status_after = if confirms {
                OrderStatus::Confirmed
            } else {
                order.status
            };
            let marks =
                PaymentMarks::of(status_after, order.totals.total_amount, &decision.payments);
            let confirmation = confirms.then(|| {
                let entry = history::order_status_changed(
                    &by,
                    &order.subject(),
                    OrderStatus::Pending,
                    OrderStatus::Confirmed,
                    at,
                );
                history.push(entry.clone());
                StatusChange {
                    order_id: order.id,
                    from: OrderStatus::Pending,
                    to: OrderStatus::Confirmed,
                    at,
                    history: entry,
                    restock: Vec::new(),
                    hand_off: HandOffChange::Mark(at.after(self.hand_off_grace)),
                    // The payment write carries the payments and their version.
                    payments_version: order.payments_version,
                    payments: None,
                    marks,
                    message: None,
                }
            });
            let messages = CustomerMessage::for_payments(&order, &decision.payments, at);
            let write = PaymentWrite {
                order_id,
                expected_version: order.payments_version,
                expected_status: order.status,
                marks,
                payments_after: decision.payments,
                confirmation,
                history,
                claims: decision.claims,
                assigns: decision.assigns,
                messages,
                tell_by: at.after(self.hand_off_grace),
                at,
            };
            match self.store.write(&write).await {
                Ok(()) => {
                    if write.confirmation.is_some() {
                        self.hand_off(order_id).await;
                    } else if let Some(message) = write.messages.first() {
                        self.tell(order_id, message.event.name()).await;
                    }
                    if refunds {
                        self.refund(order_id).await;
                    }
                    return Ok(Handled::Applied);
                }
                Err(WriteFailure::ConcurrentChange) => continue,
                Err(WriteFailure::ReceiptTaken) => return Ok(Handled::Unchanged),
                Err(WriteFailure::AlreadyAssigned) => return Err(PaymentError::AlreadyAssigned),
                Err(err) => return Err(into_error(err)),
            }
        }
        Err(PaymentError::ConcurrentChange)
    }

    /// Asks M-Pesa for the reversals just requested on `order`, after their commit. A
    /// failure is logged: the reversal stays requested and is asked for again.
    pub async fn refund(&self, order: OrderId) {
        match Box::pin(self.request_reversals(order)).await {
            Ok(report) => {
                tracing::info!(order_id = %order, requested = report.requested,
                    refused = report.refused, unanswered = report.unanswered, "reversals requested");
            }
            Err(err) => {
                tracing::warn!(order_id = %order, error = %err,
                    "reversals not requested now; they stay requested");
            }
        }
    }

    /// Tells the notifier that `event` was recorded on `order`; a failure is logged and
    /// the reconciler re-sends it (the order carries the hand-off mark).
    async fn tell(&self, order: OrderId, event: &'static str) {
        if let Err(err) = self.queue.order_event(order, event).await {
            tracing::warn!(order_id = %order, event, error = %err,
                "event not handed to the notifier; the reconciler will re-send it");
        }
    }

    /// Sends the confirmation of `order` to the notifier; a failure is logged and the
    /// reconciler re-sends it (the order carries the hand-off mark).
    async fn hand_off(&self, order: OrderId) {
        if let Err(err) = self.queue.order_confirmed(order).await {
            tracing::warn!(order_id = %order, error = %err,
                "confirmation not handed to the notifier; the reconciler will re-send it");
        }
    }
}

/// The Paybill payment of `payments` that recorded the money a prompt's success callback
/// brings (the same receipt and amount, nothing reversed yet), if any.
fn paybill_twin(payments: &[Payment], prompt: PaymentId, notice: &StkNotice) -> Option<PaymentId> {
    let receipt = notice.receipt.as_ref()?;
    let prompt = payments.iter().find(|p| p.id == prompt)?;
    payments
        .iter()
        .find(|p| {
            p.id != prompt.id
                && p.method == crate::payment::PaymentMethod::MpesaPaybill
                && p.receipt.as_ref() == Some(receipt)
                && p.amount == prompt.amount
                && p.state == PaymentState::Succeeded
                && p.reversal.is_none()
        })
        .map(|p| p.id)
}

/// Puts the order and payment a message leads to on the current span.
fn record_ids(found: &PromptRef) {
    let span = tracing::Span::current();
    span.record("order_id", tracing::field::display(found.order_id));
    span.record("payment_id", tracing::field::display(found.payment_id));
}

pub(super) fn into_error(failure: WriteFailure) -> PaymentError {
    match failure {
        WriteFailure::ConcurrentChange
        | WriteFailure::CheckoutTaken
        | WriteFailure::ReceiptTaken => PaymentError::ConcurrentChange,
        WriteFailure::AlreadyAssigned => PaymentError::AlreadyAssigned,
        WriteFailure::Other(err) => err,
    }
}
