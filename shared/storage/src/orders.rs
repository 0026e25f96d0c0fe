//! [`OrderStore`] on DynamoDB: one `BatchGetItem` to read what an order needs, one
//! `TransactWriteItems` to place it (order + number claim + idempotency record + every
//! stock decrement), conditional writes for every status change.

use std::time::Duration;

use rand_core::RngCore;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::notification::{Channel, ChannelState, NotificationStore};
use domain::order::{
    IdempotencyKey, IdempotencyRecord, Order, OrderError, OrderListing, OrderStatus, OrderStore,
    PendingHandOff, PlaceFailure, StatusChange,
};
use domain::product::Product;
use domain::{CatalogError, CustomerId, OrderId, Page, PageRequest, ProductId, Timestamp};

use crate::expr::Expr;
use crate::item::{Fields, Item, key, n, s};
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::ProductRecord;
use crate::records::order::{
    ChannelRecord, HandOff, IdempotencyItem, OrderRecord, channel_attr, encode_number_claim,
};
use crate::table::{Table, TableError};
use crate::txn::{self, Op, Transaction, TxnError};
use crate::{DynamoCatalog, keys};

/// Tries of a transaction that DynamoDB cancels for a conflicting concurrent
/// transaction on the same items.
const CONFLICT_TRIES: u32 = 4;

/// The first retry's pause ceiling; it doubles with each further retry (full jitter:
/// the pause is drawn evenly below the ceiling, so racing buyers spread out instead of
/// colliding again in step).
const CONFLICT_BACKOFF: Duration = Duration::from_millis(25);

/// Order storage on the single table.
#[derive(Debug, Clone)]
pub struct DynamoOrders {
    /// The catalog's table (listings go through the catalog's query code).
    catalog: DynamoCatalog,
}

impl DynamoOrders {
    /// Order storage on the catalog's table.
    pub fn new(catalog: DynamoCatalog) -> Self {
        Self { catalog }
    }

    fn table(&self) -> &Table {
        &self.catalog.table
    }
}

fn from_catalog(err: CatalogError) -> OrderError {
    match err {
        CatalogError::InvalidCursor => OrderError::InvalidCursor,
        CatalogError::ConcurrentChange => OrderError::ConcurrentChange,
        CatalogError::StorageUnavailable(err) => OrderError::StorageUnavailable(err),
        other => OrderError::storage(other),
    }
}

/// `expr` that also takes the order out of the reconciler's index (GSI4).
fn without_hand_off(expr: Expr) -> Expr {
    expr.remove(keys::GSI4PK)
        .remove(keys::GSI4SK)
        .remove(attr::HAND_OFF_DUE)
}

/// Runs a transaction, retrying after a jittered, growing pause while DynamoDB cancels
/// it for conflicting with a concurrent transaction.
async fn execute_retrying_conflicts(table: &Table, items: Transaction) -> Result<(), TxnError> {
    let mut attempt = 0;
    loop {
        match table.transact(items.clone()).await {
            Err(err) if err.conflicted() && attempt + 1 < CONFLICT_TRIES => {
                attempt += 1;
                tokio::time::sleep(conflict_pause(attempt, rand_core::OsRng.next_u32())).await;
            }
            other => return other,
        }
    }
}

/// The pause before retry `attempt` (1, 2, …), from a random draw `roll`: evenly below
/// `CONFLICT_BACKOFF · 2^(attempt-1)`.
fn conflict_pause(attempt: u32, roll: u32) -> Duration {
    let ceiling = CONFLICT_BACKOFF * 2_u32.saturating_pow(attempt.saturating_sub(1));
    let nanos = ceiling.as_nanos().saturating_mul(u128::from(roll)) >> 32;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

impl DynamoOrders {
    fn name(&self) -> &str {
        self.table().name()
    }

    /// The decrement of one line's stock, conditioned on the product being as priced.
    fn reserve(&self, line: &domain::order::OrderLine) -> Result<TransactWriteItem, OrderError> {
        let quantity = line.quantity.get();
        let expr = Expr::new()
            .add(attr::STOCK, n(-i64::from(quantity)))
            .set(attr::EVER_ORDERED, AttributeValue::Bool(true))
            .when_exists(keys::PK)
            .when_eq(attr::IS_ACTIVE, AttributeValue::Bool(true))
            .when_eq(attr::PRICE, n(line.unit_price.minor_units()))
            .when_at_least(attr::STOCK, n(quantity));
        txn::update(self.name(), key(&keys::product(line.product_id)), expr).map_err(Into::into)
    }

    /// The update of the order item for `change`, conditioned on its current status.
    fn status_update(&self, change: &StatusChange) -> Expr {
        let mut expr = Expr::new()
            .set(attr::STATUS, s(change.to.as_str()))
            .set(
                keys::GSI3PK,
                s(keys::orders_in_status(
                    change.to,
                    keys::OrderShard::of(change.order_id),
                )),
            )
            .set(attr::UPDATED_AT, s(change.at.to_string()))
            .when_eq(attr::STATUS, s(change.from.as_str()));
        match change.to {
            OrderStatus::Confirmed => expr = expr.set(attr::CONFIRMED_AT, s(change.at.to_string())),
            OrderStatus::Cancelled => expr = expr.set(attr::CANCELLED_AT, s(change.at.to_string())),
            _ => {}
        }
        match change.hand_off_due {
            Some(Some(due)) => {
                for (attr, value) in HandOff::of(change.order_id, due).into_attributes() {
                    expr = expr.set(attr, value);
                }
                expr = expr.set(attr::HAND_OFF_RESENDS, n(0));
            }
            Some(None) => expr = without_hand_off(expr),
            None => {}
        }
        expr
    }

    async fn get(&self, key_of: &keys::PrimaryKey) -> Result<Option<Item>, OrderError> {
        Ok(self.table().get(key_of).await?)
    }
}

impl OrderStore for DynamoOrders {
    async fn load_for_order(
        &self,
        products: &[ProductId],
        idempotency: Option<(CustomerId, &IdempotencyKey)>,
        now: Timestamp,
    ) -> Result<(Vec<Product>, Option<IdempotencyRecord>), OrderError> {
        let mut wanted: Vec<Item> = products.iter().map(|id| key(&keys::product(*id))).collect();
        let record_key = idempotency.map(|(customer, k)| keys::idempotency(customer, k));
        if let Some(record_key) = &record_key {
            wanted.push(key(record_key));
        }
        let found = self.table().batch_get(wanted, true).await?;
        let mut products = Vec::with_capacity(found.len());
        let mut record = None;
        for item in found {
            let is_record = record_key
                .as_ref()
                .is_some_and(|k| Fields(&item).str(keys::PK).ok() == Some(k.pk.as_str()));
            if is_record {
                record = IdempotencyItem::decode(item, now)?;
            } else {
                products.push(ProductRecord::decode(item)?.product);
            }
        }
        Ok((products, record))
    }

    async fn idempotency_record(
        &self,
        customer: CustomerId,
        idempotency_key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, OrderError> {
        let item = self
            .get(&keys::idempotency(customer, idempotency_key))
            .await?;
        Ok(item
            .map(|i| IdempotencyItem::decode(i, now))
            .transpose()?
            .flatten())
    }

    async fn place(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> Result<(), PlaceFailure> {
        let new = || Expr::new().when_absent(keys::PK);
        let mut items = Transaction::new()
            .with(
                Op::Order,
                txn::put(self.name(), OrderRecord::encode_new(order)?, new())?,
            )
            .with(
                Op::OrderNumber,
                txn::put(self.name(), encode_number_claim(order)?, new())?,
            );
        if let Some(record) = idempotency {
            let free =
                Expr::new().when_absent_or_expired(keys::PK, attr::EXPIRES_AT, now.unix_seconds());
            items.push(
                Op::Idempotency,
                txn::put(self.name(), IdempotencyItem::encode(record)?, free)?,
            );
        }
        for line in &order.lines {
            items.push(Op::Stock, self.reserve(line)?);
        }
        match execute_retrying_conflicts(self.table(), items).await {
            Ok(()) => Ok(()),
            Err(err) if err.condition_failed(Op::Idempotency) => {
                Err(PlaceFailure::IdempotencyKeyTaken)
            }
            Err(err) if err.condition_failed(Op::OrderNumber) => {
                Err(PlaceFailure::OrderNumberTaken)
            }
            Err(err) if err.condition_failed(Op::Stock) => Err(PlaceFailure::ProductsChanged),
            Err(TxnError::Cancelled(codes)) => {
                tracing::warn!(?codes, "order transaction cancelled");
                Err(PlaceFailure::Other(OrderError::ConcurrentChange))
            }
            Err(TxnError::Unavailable(err)) => {
                Err(PlaceFailure::Other(OrderError::StorageUnavailable(err)))
            }
            Err(TxnError::Failed(err)) => Err(PlaceFailure::Other(OrderError::Storage(err))),
        }
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, OrderError> {
        let item = self.get(&keys::order(id)).await?;
        Ok(item.map(OrderRecord::decode).transpose()?)
    }

    async fn change_status(&self, change: &StatusChange) -> Result<(), OrderError> {
        let order_key = keys::order(change.order_id);
        let update = self.status_update(change);
        if change.restock.is_empty() {
            return match self.table().update(&order_key, &update).await {
                Ok(_) => Ok(()),
                Err(TableError::ConditionFailed) => Err(OrderError::ConcurrentChange),
                Err(other) => Err(other.into()),
            };
        }
        let mut items = Transaction::new().with(
            Op::Order,
            txn::update(self.name(), key(&order_key), update)?,
        );
        for (product, quantity) in &change.restock {
            let restore = Expr::new()
                .add(attr::STOCK, n(quantity.get()))
                .when_exists(keys::PK);
            items.push(
                Op::Stock,
                txn::update(self.name(), key(&keys::product(*product)), restore)?,
            );
        }
        match execute_retrying_conflicts(self.table(), items).await {
            Ok(()) => Ok(()),
            Err(err) if err.condition_failed(Op::Order) => Err(OrderError::ConcurrentChange),
            Err(err) => Err(from_catalog(err.into_catalog_error())),
        }
    }

    async fn list_orders(
        &self,
        listing: OrderListing,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderError> {
        let page = match listing {
            OrderListing::Customer(customer, status) => {
                let list = Listing::gsi1(keys::customer_orders(customer), "");
                let list = match status {
                    Some(status) => {
                        list.filtered(Expr::new().when_eq(attr::STATUS, s(status.as_str())))
                    }
                    None => list,
                };
                self.catalog.query_page(&list.newest_first(), &page).await
            }
            OrderListing::Status(status) => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi3(keys::orders_in_status(status, shard), ""))
                    .collect();
                let list = keys::orders_in_status_list(status);
                self.catalog.query_sharded_page(&list, shards, &page).await
            }
            OrderListing::All => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi2(keys::order_list(shard), ""))
                    .collect();
                self.catalog
                    .query_sharded_page(keys::ORDER_LIST, shards, &page)
                    .await
            }
        }
        .map_err(from_catalog)?;
        let items = page
            .items
            .into_iter()
            .map(OrderRecord::decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    async fn due_hand_offs(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingHandOff>, OrderError> {
        let shards: Vec<Listing> = keys::OrderShard::all()
            .map(|shard| {
                Listing::gsi4(keys::hand_offs_due(shard)).below(keys::hand_off_due_bound(now))
            })
            .collect();
        self.catalog
            .query_sharded_first(&shards, limit)
            .await
            .map_err(from_catalog)?
            .iter()
            .map(|item| {
                let f = Fields(item);
                Ok(PendingHandOff {
                    order_id: f.parse(attr::ID)?,
                    due: f.timestamp(attr::HAND_OFF_DUE)?,
                    resends: f.number(attr::HAND_OFF_RESENDS).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn reschedule_hand_off(
        &self,
        order_id: OrderId,
        next_due: Timestamp,
        resends: u32,
    ) -> Result<(), OrderError> {
        let mut update = Expr::new().when_exists(keys::GSI4PK);
        for (attr, value) in HandOff::of(order_id, next_due).into_attributes() {
            update = update.set(attr, value);
        }
        update = update.set(attr::HAND_OFF_RESENDS, n(resends));
        match self.table().update(&keys::order(order_id), &update).await {
            // Acknowledged by the notifier meanwhile: nothing left to schedule.
            Ok(_) | Err(TableError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}

impl DynamoOrders {
    /// Files up to `limit` orders stored before the order indexes were sharded (still in
    /// GSI2's single `ORDERS` partition) under their shards: GSI2, and GSI3 and GSI4 where
    /// they still hold the unsharded keys. Each move is conditioned on the keys read, so an
    /// order changed meanwhile is left for the next call. Returns how many orders were
    /// moved; call again until it is 0 (the reconciler does, every run).
    pub async fn file_unsharded_orders(&self, limit: usize) -> Result<usize, OrderError> {
        let listing = Listing::gsi2(keys::ORDER_LIST, "");
        let found = self
            .catalog
            .query_all(&listing, Some(limit.saturating_sub(1)))
            .await
            .map_err(from_catalog)?;
        let mut moved = 0;
        for item in found.iter().take(limit) {
            let f = Fields(item);
            let id: OrderId = f.parse(attr::ID)?;
            let status: OrderStatus = f.parse(attr::STATUS)?;
            let shard = keys::OrderShard::of(id);
            let mut update = Expr::new()
                .set(keys::GSI2PK, s(keys::order_list(shard)))
                .when_eq(keys::GSI2PK, s(keys::ORDER_LIST));
            let unsharded_status = keys::orders_in_status_list(status);
            match f.str(keys::GSI3PK) {
                Ok(current) if current == unsharded_status => {
                    update = update
                        .set(keys::GSI3PK, s(keys::orders_in_status(status, shard)))
                        .when_eq(keys::GSI3PK, s(current));
                }
                Ok(current) => update = update.when_eq(keys::GSI3PK, s(current)),
                Err(_) => update = update.when_absent(keys::GSI3PK),
            }
            match f.str(keys::GSI4PK) {
                Ok(current) if current == keys::UNSHARDED_HAND_OFFS_DUE => {
                    update = update
                        .set(keys::GSI4PK, s(keys::hand_offs_due(shard)))
                        .when_eq(keys::GSI4PK, s(current));
                }
                Ok(current) => update = update.when_eq(keys::GSI4PK, s(current)),
                Err(_) => update = update.when_absent(keys::GSI4PK),
            }
            match self.table().update(&keys::order(id), &update).await {
                Ok(_) => moved += 1,
                // Changed (or already moved) since the index was read: the next call.
                Err(TableError::ConditionFailed) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(moved)
    }
}

impl NotificationStore for DynamoOrders {
    async fn save_channel(
        &self,
        order: OrderId,
        channel: Channel,
        expected_version: u32,
        state: &ChannelState,
    ) -> Result<bool, OrderError> {
        let attr = channel_attr(channel);
        let update = Expr::new()
            .set(attr, ChannelRecord::encode(state)?)
            .when_exists(keys::PK);
        let update = if expected_version == 0 {
            update.when_absent(attr)
        } else {
            let version = format!("{attr}.{}", attr::VERSION);
            update.when_eq(&version, n(expected_version))
        };
        match self.table().update(&keys::order(order), &update).await {
            Ok(_) => Ok(true),
            Err(TableError::ConditionFailed) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    async fn acknowledge(&self, order: OrderId) -> Result<(), OrderError> {
        let update = without_hand_off(Expr::new()).when_exists(keys::PK);
        match self.table().update(&keys::order(order), &update).await {
            Ok(_) | Err(TableError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_pauses_are_jittered_below_a_doubling_ceiling() {
        assert_eq!(conflict_pause(1, 0), Duration::ZERO);
        assert!(conflict_pause(1, u32::MAX) < CONFLICT_BACKOFF);
        assert!(conflict_pause(2, u32::MAX) > CONFLICT_BACKOFF);
        assert!(conflict_pause(2, u32::MAX) < CONFLICT_BACKOFF * 2);
        assert!(conflict_pause(3, u32::MAX) < CONFLICT_BACKOFF * 4);
        let half = conflict_pause(3, u32::MAX / 2);
        assert!(
            half.abs_diff(CONFLICT_BACKOFF * 2) < Duration::from_millis(1),
            "{half:?}"
        );
    }
}
