//! [`PaymentStore`] on DynamoDB. An order's payments live inside its item, so reading an
//! order with its payments is the one `GetItem` that reads the order, and every payment
//! write is one `TransactWriteItems`: the order's update (its payments, their version,
//! and the confirmation when the order becomes fully paid), the history entries and the
//! uniqueness claims of receipts and checkout ids.
//!
//! Invariants:
//! - A payment write holds only while the order's `payments_version` and `status` are
//!   what the writer read: two writers that read the same state never both apply, and a
//!   payment that races a cancellation is decided again on the cancelled order.
//! - A receipt's claim (`MPESA_RECEIPT#…`) is taken in the same transaction as the money
//!   it records, and never released: one receipt counts once, on one order, whichever
//!   way it arrived (prompt, Paybill, assignment by staff).

use domain::order::{Order, OrderNumber};
use domain::payment::PaymentId;
use domain::payment_use_cases::{
    PaymentError, PaymentStore, PaymentWrite, PromptRef, UnmatchedPayment, WriteFailure,
};
use domain::{CustomerId, OrderId, Page, PageRequest, PhoneNumber};

use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{Fields, key, n, s};
use crate::keys;
use crate::orders::{status_update, with_messages, with_payment_marks};
use crate::query::Listing;
use crate::records::attr;
use crate::records::customer::CustomerRecord;
use crate::records::order::{HandOff, OrderRecord};
use crate::records::payment::{
    decode_prompt_ref, decode_unmatched, encode_claim, encode_payments, encode_unmatched,
};
use crate::retry::execute_retrying_conflicts;
use crate::table::Table;
use crate::txn::{self, Op, Transaction, TxnError};

/// Payment storage on the single table, with the change history its writes record.
#[derive(Debug, Clone)]
pub struct DynamoPayments {
    table: Table,
}

impl DynamoPayments {
    /// Payment storage on `table` (which carries the history's retention).
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    fn name(&self) -> &str {
        self.table.name()
    }

    /// The order item's update for `write`.
    fn order_update(&self, write: &PaymentWrite) -> Result<Expr, WriteFailure> {
        let payments = encode_payments(&write.payments_after)?;
        let expr = match &write.confirmation {
            // The confirmation's update sets the status (conditioned on `PENDING`), the
            // confirmation time, the hand-off mark and `updated_at`.
            Some(change) => status_update(change),
            None => with_payment_marks(
                Expr::new()
                    .set(attr::UPDATED_AT, s(write.at.to_string()))
                    .when_eq(attr::STATUS, s(write.expected_status.as_str())),
                write.order_id,
                write.marks,
            ),
        };
        let mut expr = with_messages(expr, &write.messages)?
            .set(attr::PAYMENTS, payments)
            .set(attr::PAYMENTS_VERSION, n(write.expected_version + 1))
            .when_exists(keys::PK);
        if write.confirmation.is_none() && !write.messages.is_empty() {
            // Something to tell: the notifier's hand-off, as a confirmation's.
            for (name, value) in HandOff::of(write.order_id, write.tell_by).into_attributes() {
                expr = expr.set(name, value);
            }
            expr = expr.set(attr::HAND_OFF_RESENDS, n(0));
        }
        Ok(if write.expected_version == 0 {
            expr.when_absent(attr::PAYMENTS_VERSION)
        } else {
            expr.when_eq(attr::PAYMENTS_VERSION, n(write.expected_version))
        })
    }
}

/// A transaction's failure as a payment write's.
fn write_failure(err: TxnError) -> WriteFailure {
    if err.condition_failed(Op::Order) {
        WriteFailure::ConcurrentChange
    } else if err.condition_failed(Op::ReceiptClaim) {
        WriteFailure::ReceiptTaken
    } else if err.condition_failed(Op::CheckoutClaim) {
        WriteFailure::CheckoutTaken
    } else if err.condition_failed(Op::Payment) {
        WriteFailure::AlreadyAssigned
    } else {
        err.or_cancelled(WriteFailure::ConcurrentChange)
    }
}

impl PaymentStore for DynamoPayments {
    #[tracing::instrument(name = "dynamodb.order_with_payments", skip_all, fields(order_id = %id))]
    async fn order(&self, id: OrderId) -> Result<Option<Order>, PaymentError> {
        let item = self.table.get(&keys::order(id)).await?;
        Ok(item.map(OrderRecord::decode).transpose()?)
    }

    #[tracing::instrument(name = "dynamodb.order_by_number", skip_all)]
    async fn order_by_number(&self, number: &OrderNumber) -> Result<Option<OrderId>, PaymentError> {
        let Some(item) = self.table.get(&keys::order_number_claim(number)).await? else {
            return Ok(None);
        };
        Ok(Some(Fields(&item).parse(attr::ID)?))
    }

    #[tracing::instrument(name = "dynamodb.prompt_by_checkout", skip_all)]
    async fn prompt_by_checkout(
        &self,
        checkout_request_id: &str,
    ) -> Result<Option<PromptRef>, PaymentError> {
        let item = self
            .table
            .get(&keys::checkout_claim(checkout_request_id))
            .await?;
        Ok(item.map(decode_prompt_ref).transpose()?)
    }

    #[tracing::instrument(name = "dynamodb.reversal_by_conversation", skip_all)]
    async fn reversal_by_conversation(
        &self,
        conversation_id: &str,
    ) -> Result<Option<PromptRef>, PaymentError> {
        let item = self
            .table
            .get(&keys::reversal_claim(conversation_id))
            .await?;
        Ok(item.map(decode_prompt_ref).transpose()?)
    }

    #[tracing::instrument(name = "dynamodb.customer_phone", skip_all, fields(customer_id = %customer))]
    async fn customer_phone(
        &self,
        customer: CustomerId,
    ) -> Result<Option<PhoneNumber>, PaymentError> {
        let item = self.table.get(&keys::customer(customer)).await?;
        Ok(item
            .map(CustomerRecord::decode)
            .transpose()?
            .and_then(|c| c.phone_number))
    }

    #[tracing::instrument(name = "dynamodb.unmatched_payment", skip_all, fields(payment_id = %id))]
    async fn unmatched(&self, id: PaymentId) -> Result<Option<UnmatchedPayment>, PaymentError> {
        let item = self.table.get(&keys::unmatched_payment(id)).await?;
        Ok(item.map(decode_unmatched).transpose()?)
    }

    #[tracing::instrument(name = "dynamodb.write_payments", skip_all, fields(
        order_id = %write.order_id,
        version = write.expected_version,
        confirms = write.confirmation.is_some(),
    ))]
    async fn write(&self, write: &PaymentWrite) -> Result<(), WriteFailure> {
        let mut items = Transaction::new().with(
            Op::Order,
            txn::update(
                self.name(),
                key(&keys::order(write.order_id)),
                self.order_update(write)?,
            )?,
        );
        for entry in &write.history {
            items.push(Op::History, self.table.history_put(entry)?);
        }
        if let Some(payment) = write.assigns {
            // Staff's assignment: the unmatched payment leaves the unmatched list (held to
            // its not being assigned yet), and its receipt's claim names the order.
            let assigned = s(write.order_id.to_string());
            items.push(
                Op::Payment,
                txn::update(
                    self.name(),
                    key(&keys::unmatched_payment(payment)),
                    Expr::new()
                        .set(attr::ASSIGNED_ORDER_ID, assigned.clone())
                        .set(attr::UPDATED_AT, s(write.at.to_string()))
                        .remove(keys::GSI2PK)
                        .remove(keys::GSI2SK)
                        .when_exists(keys::PK)
                        .when_absent(attr::ASSIGNED_ORDER_ID),
                )?,
            );
            if let Some(receipt) = write
                .payments_after
                .iter()
                .find(|p| p.id == payment)
                .and_then(|p| p.receipt.as_ref())
            {
                items.push(
                    Op::ReceiptClaim,
                    txn::update(
                        self.name(),
                        key(&keys::receipt_claim(receipt)),
                        Expr::new()
                            .set(attr::ORDER_ID, assigned)
                            .when_exists(keys::PK),
                    )?,
                );
            }
        }
        for claim in &write.claims {
            let op = match claim {
                domain::payment_use_cases::Claim::Receipt { .. } => Op::ReceiptClaim,
                domain::payment_use_cases::Claim::Checkout { .. } => Op::CheckoutClaim,
                domain::payment_use_cases::Claim::Reversal { .. } => Op::ReversalClaim,
            };
            let absent = Expr::new().when_absent(keys::PK);
            items.push(op, txn::put(self.name(), encode_claim(claim)?, absent)?);
        }
        execute_retrying_conflicts(&self.table, items)
            .await
            .map_err(write_failure)
    }

    #[tracing::instrument(name = "dynamodb.open_orders", skip_all)]
    async fn open_orders(&self) -> Result<Vec<Order>, PaymentError> {
        let reads = keys::OrderShard::all().map(|shard| {
            let listing = Listing::gsi6(keys::payments_open(shard)).newest_first();
            async move { self.table.query_all(&listing, None).await }
        });
        let mut orders = futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .map(OrderRecord::decode)
            .collect::<Result<Vec<_>, _>>()?;
        orders.sort_by_key(|o| std::cmp::Reverse(o.id.to_string()));
        Ok(orders)
    }

    #[tracing::instrument(name = "dynamodb.unmatched_payments", skip_all)]
    async fn unmatched_page(
        &self,
        page: &PageRequest,
    ) -> Result<Page<UnmatchedPayment>, PaymentError> {
        let listing = Listing::gsi2(keys::UNMATCHED_PAYMENTS, "").newest_first();
        let page = self.table.query_page(&listing, page).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(decode_unmatched)
                .collect::<Result<Vec<_>, _>>()?,
            next_cursor: page.next_cursor,
        })
    }

    #[tracing::instrument(name = "dynamodb.keep_unmatched", skip_all,
        fields(payment_id = %unmatched.payment.id))]
    async fn keep_unmatched(&self, unmatched: &UnmatchedPayment) -> Result<(), WriteFailure> {
        let payment = &unmatched.payment;
        let receipt = payment.receipt.clone().ok_or_else(|| {
            WriteFailure::Other(Failure::failed("an unmatched payment always has a receipt").into())
        })?;
        let claim = domain::payment_use_cases::Claim::Receipt {
            receipt,
            order_id: None,
            payment_id: payment.id,
        };
        let absent = || Expr::new().when_absent(keys::PK);
        let items = Transaction::new()
            .with(
                Op::Payment,
                txn::put(self.name(), encode_unmatched(unmatched)?, absent())?,
            )
            .with(
                Op::ReceiptClaim,
                txn::put(self.name(), encode_claim(&claim)?, absent())?,
            );
        execute_retrying_conflicts(&self.table, items)
            .await
            .map_err(write_failure)
    }
}
