//! What staff do with payments: the unmatched ones (assign one to an order) and the ones
//! that need their attention.
//!
//! Invariants:
//! - Assigning applies the payment to the order exactly as if it had named it (it counts,
//!   may confirm the order, and on a cancelled order is reversed), and marks it assigned
//!   in the same write: of two assignments of one payment, one applies and the other is
//!   [`PaymentError::AlreadyAssigned`].
//! - The attention list is derived from the open orders' payments ([`attention`]), never
//!   stored apart from them.
//!
//! [`attention`]: crate::order::payments::attention

use crate::audit::Actor;
use crate::id::OrderId;
use crate::order::history;
use crate::order::payments::attention;
use crate::order::{Attention, NotificationQueue, OrderNumber};
use crate::page::{Page, PageRequest};
use crate::payment::{Payment, PaymentId};
use crate::timestamp::Timestamp;

use super::ports::{MpesaGateway, PaymentError, PaymentStore, UnmatchedPayment};
use super::service::{Decision, Handled, PaymentService};

/// A payment staff must act on, with its order and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionItem {
    pub order_id: OrderId,
    pub order_number: OrderNumber,
    pub payment: Payment,
    pub reason: Attention,
}

impl<S: PaymentStore, G: MpesaGateway, Q: NotificationQueue> PaymentService<S, G, Q> {
    /// The payments that named no order and wait for staff, newest first.
    pub async fn unmatched_payments(
        &self,
        page: &PageRequest,
    ) -> Result<Page<UnmatchedPayment>, PaymentError> {
        self.store.unmatched_page(page).await
    }

    /// Every payment staff must act on, newest first (by its last change).
    #[tracing::instrument(name = "payments.attention", skip_all)]
    pub async fn needing_attention(&self) -> Result<Vec<AttentionItem>, PaymentError> {
        let orders = self.store.open_orders().await?;
        let mut items: Vec<AttentionItem> = orders
            .iter()
            .flat_map(|order| {
                attention(order.status, order.totals.total_amount, &order.payments)
                    .into_iter()
                    .filter_map(|(payment_id, reason)| {
                        let payment = order.payments.iter().find(|p| p.id == payment_id)?;
                        Some(AttentionItem {
                            order_id: order.id,
                            order_number: order.order_number.clone(),
                            payment: payment.clone(),
                            reason,
                        })
                    })
            })
            .collect();
        items.sort_by(|a, b| {
            (b.payment.updated_at, b.payment.id.to_string())
                .cmp(&(a.payment.updated_at, a.payment.id.to_string()))
        });
        Ok(items)
    }

    /// Applies the unmatched payment `payment_id` to `order_id`, as if it had named that
    /// order. Returns the payment as the order now holds it.
    #[tracing::instrument(name = "payments.assign", skip_all, fields(
        payment_id = %payment_id, order_id = %order_id,
    ))]
    pub async fn assign(
        &self,
        by: &Actor,
        payment_id: PaymentId,
        order_id: OrderId,
    ) -> Result<Payment, PaymentError> {
        let unmatched = self
            .store
            .unmatched(payment_id)
            .await?
            .ok_or(PaymentError::PaymentNotFound)?;
        if unmatched.assigned_to.is_some() {
            return Err(PaymentError::AlreadyAssigned);
        }
        let mut payment = unmatched.payment;
        payment.order_id = Some(order_id);
        payment.updated_at = Timestamp::now();
        let assigned = payment.clone();
        let handled = self
            .decide(order_id, |order| {
                if order.payments.iter().any(|p| p.id == assigned.id) {
                    return None;
                }
                let mut payments = order.payments.clone();
                payments.push(assigned.clone());
                Some(Decision {
                    payments,
                    history: vec![history::payment_assigned(
                        by,
                        &order.subject(),
                        &assigned,
                        assigned.updated_at,
                    )],
                    actor: Some(by.clone()),
                    assigns: Some(assigned.id),
                    ..Decision::default()
                })
            })
            .await
            .map_err(|err| match err {
                // The order staff named, not one the request's path names.
                PaymentError::OrderNotFound => PaymentError::TargetOrderNotFound,
                err => err,
            })?;
        match handled {
            Handled::Applied => Ok(payment),
            _ => Err(PaymentError::AlreadyAssigned),
        }
    }
}
