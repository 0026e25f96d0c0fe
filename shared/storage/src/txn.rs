//! `TransactWriteItems`: building its items and reading why it was cancelled (the request
//! itself is sent by [`crate::table::Table::transact`]).
//!
//! Invariant: every item of a [`Transaction`] carries the [`Op`] it performs, and
//! cancellation reasons are read back by that name ([`TxnError::condition_failed`]), never
//! by position — adding or reordering items cannot change which error a caller reports.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use domain::CatalogError;

use crate::expr::{Expr, conditioned};
use crate::failure::Failure;
use crate::item::Item;

/// A `Put` of `item`, under the conditions of `condition`.
pub(crate) fn put(table: &str, item: Item, condition: Expr) -> Result<TransactWriteItem, Failure> {
    let put = conditioned!(
        Put::builder().table_name(table).set_item(Some(item)),
        condition
    )
    .build()?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// An `Update` of the item at `key` with `expr`'s update and condition.
pub(crate) fn update(table: &str, key: Item, expr: Expr) -> Result<TransactWriteItem, Failure> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_update_expression(expr.update_expression());
    let update = conditioned!(update, expr).build()?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// A `Delete` of the item at `key`, under `condition`.
pub(crate) fn delete(
    table: &str,
    key: Item,
    condition: Expr,
) -> Result<TransactWriteItem, Failure> {
    let delete = conditioned!(
        Delete::builder().table_name(table).set_key(Some(key)),
        condition
    )
    .build()?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// What one item of a transaction does. DynamoDB reports why it cancelled a transaction
/// item by item; callers ask by this name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Writing a category item (create, rename, move, delete).
    Category,
    /// Writing a product item (create, update, move, delete).
    Product,
    /// A category's counters when a child or a product joins or leaves it.
    Membership,
    /// Taking a sibling-name claim.
    NameClaim,
    /// Releasing a sibling-name claim.
    NameRelease,
    /// Taking a SKU claim.
    SkuClaim,
    /// Releasing a SKU claim.
    SkuRelease,
    /// Writing an order item.
    Order,
    /// Claiming an order number.
    OrderNumber,
    /// Recording an idempotency key.
    Idempotency,
    /// Taking (placing) or returning (cancelling) one line's stock.
    Stock,
    /// Writing a customer item.
    Customer,
    /// Mapping the identity provider's subject to a customer.
    Identity,
    /// Recording the change's history entry.
    History,
    /// Keeping a payment that named no order.
    Payment,
    /// Claiming an M-Pesa receipt (it counts once).
    ReceiptClaim,
    /// Claiming a prompt's `CheckoutRequestID`.
    CheckoutClaim,
    /// Claiming a reversal's `ConversationID`.
    ReversalClaim,
}

/// The items of one `TransactWriteItems`, each with the [`Op`] it performs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Transaction(Vec<(Op, TransactWriteItem)>);

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `item`, performing `op`.
    pub fn push(&mut self, op: Op, item: TransactWriteItem) {
        self.0.push((op, item));
    }

    /// `self` with `item` added.
    pub fn with(mut self, op: Op, item: TransactWriteItem) -> Self {
        self.push(op, item);
        self
    }

    /// Adds every item of `other`, after those of `self`.
    pub fn append(&mut self, other: Transaction) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Why a transaction did not commit (nothing changed).
#[derive(Debug)]
pub(crate) enum TxnError {
    /// DynamoDB cancelled it: each item's operation and reason code (`None` = no reason).
    Cancelled(Vec<(Op, Option<String>)>),
    /// The request failed.
    Failed(Failure),
}

impl TxnError {
    /// True when an item performing `op` was cancelled because its condition did not hold.
    pub fn condition_failed(&self, op: Op) -> bool {
        matches!(self, TxnError::Cancelled(reasons)
            if reasons.iter().any(|(o, code)| *o == op
                && code.as_deref() == Some("ConditionalCheckFailed")))
    }

    /// True when DynamoDB cancelled it because another transaction was changing one of
    /// its items at the same time (worth retrying).
    pub fn conflicted(&self) -> bool {
        matches!(self, TxnError::Cancelled(reasons)
            if reasons.iter().any(|(_, code)| code.as_deref() == Some("TransactionConflict")))
    }

    /// The error to report when no item-specific meaning applies: `cancelled` (a
    /// conflicting concurrent change) for a cancellation, else the failure.
    pub fn or_cancelled<E: From<Failure>>(self, cancelled: E) -> E {
        match self {
            TxnError::Cancelled(_) => cancelled,
            TxnError::Failed(failure) => failure.into(),
        }
    }

    /// [`Self::or_cancelled`] for the catalog: a cancellation is a concurrent change.
    pub fn into_catalog_error(self) -> CatalogError {
        self.or_cancelled(CatalogError::ConcurrentChange)
    }

    /// The transaction's failure, a cancellation included (for a caller that expects none
    /// of the conditions it could fail).
    pub fn into_failure(self) -> Failure {
        match self {
            TxnError::Cancelled(reasons) => {
                Failure::failed(format!("transaction cancelled: {reasons:?}"))
            }
            TxnError::Failed(failure) => failure,
        }
    }
}

impl Transaction {
    /// Its operations and its items, in request order.
    pub(crate) fn into_parts(self) -> (Vec<Op>, Vec<TransactWriteItem>) {
        self.0.into_iter().unzip()
    }
}

impl TxnError {
    /// The cancellation of a transaction of `ops`, with DynamoDB's reason for each item
    /// in request order (`"None"`: no reason).
    pub(crate) fn cancelled<'a>(ops: &[Op], codes: impl Iterator<Item = Option<&'a str>>) -> Self {
        let codes = codes.map(|code| code.filter(|c| *c != "None").map(str::to_owned));
        TxnError::Cancelled(name_reasons(ops, codes))
    }
}

/// Pairs the reason DynamoDB gives for each item (in request order) with its operation.
fn name_reasons(
    ops: &[Op],
    codes: impl Iterator<Item = Option<String>>,
) -> Vec<(Op, Option<String>)> {
    ops.iter().copied().zip(codes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(ops: &[Op], codes: &[Option<&str>]) -> TxnError {
        let codes = codes.iter().map(|c| c.map(str::to_owned));
        TxnError::Cancelled(name_reasons(ops, codes))
    }

    #[test]
    fn reasons_are_read_by_operation_whatever_the_order() {
        let failed = Some("ConditionalCheckFailed");
        let order_first = cancelled(
            &[Op::Order, Op::OrderNumber, Op::Stock, Op::Stock],
            &[None, None, None, failed],
        );
        let stock_first = cancelled(
            &[Op::Stock, Op::Stock, Op::Order, Op::OrderNumber],
            &[failed, None, None, None],
        );
        for err in [order_first, stock_first] {
            assert!(err.condition_failed(Op::Stock));
            assert!(!err.condition_failed(Op::Order));
            assert!(!err.condition_failed(Op::OrderNumber));
            assert!(!err.conflicted());
        }
    }

    #[test]
    fn a_conflict_is_not_a_failed_condition() {
        let err = cancelled(
            &[Op::Product, Op::SkuClaim],
            &[Some("TransactionConflict"), None],
        );
        assert!(err.conflicted());
        assert!(!err.condition_failed(Op::Product));
        assert!(!TxnError::Failed(Failure::failed("down")).condition_failed(Op::Product));
    }
}
