//! [`OrderStore`] on DynamoDB: one `BatchGetItem` to read what an order needs, one
//! `TransactWriteItems` to place it (order + number claim + idempotency record + every
//! stock decrement), conditional writes for every status change.
//!
//! Invariant: an order is in the sparse GSI5 (failed notifications) exactly while one of
//! its channels is `failed`: the write of a channel's state sets or removes the GSI5 keys
//! itself, under a condition on the stored states ([`NotificationStore::save_channel`]).

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use domain::audit::Retention;
use domain::notification::{
    Channel, ChannelState, ChannelStatus, CustomerMessage, Delivery, NotificationStore, SentSms,
    SmsId,
};
use domain::order::{
    HandOffChange, IdempotencyKey, IdempotencyRecord, Order, OrderError, OrderListing, OrderStatus,
    OrderStore, PaymentMarks, PendingHandOff, PlaceFailure, Restock, StatusChange, StockedProduct,
};
use domain::{CatalogError, CustomerId, OrderId, Page, PageRequest, ProductId, Timestamp};

use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{Fields, Item, key, n, s};
use crate::keys;
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::StoredProduct;
use crate::records::message::{MessageRecord, message_attr};
use crate::records::order::{
    ChannelRecord, HandOff, IdempotencyItem, OrderRecord, UpgradeProgress, channel_attr,
    channel_status_path, encode_number_claim, failed_channels, notification_failed_keys,
    payments_open_keys, stored_status,
};
use crate::records::payment::encode_payments;
use crate::records::stock::StoredStock;
use crate::retry::{contention_pause, execute_retrying_conflicts};
use crate::stock;
use crate::table::{Table, WriteError};
use crate::txn::{self, Op, Transaction, TxnError};

/// Order storage on the single table, with the change history its status changes record.
#[derive(Debug, Clone)]
pub struct DynamoOrders {
    pub(crate) table: Table,
    bucket_counts: stock::BucketCounts,
}

impl DynamoOrders {
    /// Order storage on `table`, reached through `client`, keeping history entries for the
    /// default retention.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            table: Table::new(client, table),
            bucket_counts: stock::BucketCounts::default(),
        }
    }

    /// The same storage, keeping the history entries it writes for `retention`.
    pub fn with_audit_retention(self, retention: Retention) -> Self {
        Self {
            table: self.table.with_audit_retention(retention),
            ..self
        }
    }
}

/// A list's failure (the list code reports in the catalog's terms) as an order error.
fn list_error(err: CatalogError) -> OrderError {
    match err {
        CatalogError::InvalidCursor => OrderError::InvalidCursor,
        CatalogError::StorageUnavailable(err) => OrderError::StorageUnavailable(err),
        CatalogError::Storage(err) => OrderError::Storage(err),
        other => OrderError::storage(other),
    }
}

/// `expr` that also takes the order out of the reconciler's index (GSI4).
fn without_hand_off(expr: Expr) -> Expr {
    expr.remove(keys::GSI4PK)
        .remove(keys::GSI4SK)
        .remove(attr::HAND_OFF_DUE)
}

/// `expr` that also lists `order` among the orders with a failed notification (GSI5).
pub(crate) fn listed_as_failed(mut expr: Expr, order: OrderId) -> Expr {
    for (attr, value) in notification_failed_keys(order) {
        expr = expr.set(attr, value);
    }
    expr
}

impl DynamoOrders {
    fn name(&self) -> &str {
        self.table.name()
    }

    /// `products` for an order: each with its buckets, the stock of one stored before
    /// buckets moved into bucket 0 first.
    async fn stocked(
        &self,
        products: Vec<StoredProduct>,
    ) -> Result<Vec<StockedProduct>, OrderError> {
        let mut stocked = Vec::with_capacity(products.len());
        for mut stored in products {
            if matches!(stored.stock, StoredStock::OnProduct(_)) {
                stored = self.moved_into_buckets(stored).await?;
            }
            stocked.push(StockedProduct {
                buckets: stored.stock.buckets(),
                product: stored.product,
            });
        }
        Ok(stocked)
    }

    /// `stored`, a product stored before buckets, with its stock moved into bucket 0 (by
    /// this call, or by another meanwhile: then read again).
    async fn moved_into_buckets(&self, stored: StoredProduct) -> Result<StoredProduct, OrderError> {
        let id = stored.product.id;
        let mut current = stored;
        for _ in 0..3 {
            if let Some(moved) = self.table.move_into_buckets(&current).await? {
                return Ok(moved);
            }
            current = self
                .table
                .product_with_stock(id, &self.bucket_counts)
                .await?
                .ok_or(OrderError::ConcurrentChange)?;
        }
        Err(OrderError::ConcurrentChange)
    }

    /// The cancellation's put-backs as the products are now: read each, and send the units
    /// where they can go ([`stock::put_back_now`]).
    async fn put_backs_now(
        &self,
        restock: &[Restock],
    ) -> Result<Vec<TransactWriteItem>, OrderError> {
        let ids: Vec<ProductId> = restock.iter().map(|r| r.product_id).collect();
        let (products, _) = self
            .table
            .products_with_stock(&ids, &self.bucket_counts, Vec::new())
            .await?;
        let mut writes = Vec::new();
        for r in restock {
            let stored = products
                .iter()
                .find(|p| p.product.id == r.product_id)
                .ok_or(OrderError::ConcurrentChange)?;
            writes.extend(stock::put_back_now(self.name(), stored, &r.portions)?);
        }
        Ok(writes)
    }
}

/// `expr` that also records `messages` on the order (each its own attribute, never there
/// before: its key names its event once).
pub(crate) fn with_messages(
    mut expr: Expr,
    messages: &[domain::notification::CustomerMessage],
) -> Result<Expr, Failure> {
    for message in messages {
        let name = message_attr(&message.key);
        expr = expr
            .set(&name, MessageRecord::encode(message)?)
            .when_absent(&name);
    }
    Ok(expr)
}

/// The update of the order item for `change`, conditioned on its current status (also
/// the start of a payment write that confirms the order).
pub(crate) fn status_update(change: &StatusChange) -> Expr {
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
    expr = with_payment_marks(expr, change.order_id, change.marks);
    match change.to {
        OrderStatus::Confirmed => expr = expr.set(attr::CONFIRMED_AT, s(change.at.to_string())),
        OrderStatus::Cancelled => expr = expr.set(attr::CANCELLED_AT, s(change.at.to_string())),
        _ => {}
    }
    match change.hand_off {
        HandOffChange::Mark(due) => {
            for (attr, value) in HandOff::of(change.order_id, due).into_attributes() {
                expr = expr.set(attr, value);
            }
            expr = expr.set(attr::HAND_OFF_RESENDS, n(0));
        }
        HandOffChange::Clear => expr = without_hand_off(expr),
        HandOffChange::Keep => {}
    }
    expr
}

/// `expr` that also stores what the order's payments look like for the lists: its
/// `payment_status`, and its GSI6 keys exactly while its payments are open.
pub(crate) fn with_payment_marks(expr: Expr, order: OrderId, marks: PaymentMarks) -> Expr {
    let expr = expr.set(attr::PAYMENT_STATUS, s(marks.status.as_str()));
    if marks.open {
        payments_open_keys(order)
            .into_iter()
            .fold(expr, |expr, (attr, value)| expr.set(attr, value))
    } else {
        expr.remove(keys::GSI6PK).remove(keys::GSI6SK)
    }
}

/// `expr` held to the payments version the status change was decided on, and writing the
/// payments it leaves (a cancellation's requested reversals) with the next version.
fn with_payments(expr: Expr, change: &StatusChange) -> Result<Expr, OrderError> {
    let expr = if change.payments_version == 0 {
        expr.when_absent(attr::PAYMENTS_VERSION)
    } else {
        expr.when_eq(attr::PAYMENTS_VERSION, n(change.payments_version))
    };
    let Some(after) = &change.payments else {
        return Ok(expr);
    };
    Ok(expr
        .set(attr::PAYMENTS, encode_payments(&after.payments)?)
        .set(attr::PAYMENTS_VERSION, n(change.payments_version + 1)))
}

impl DynamoOrders {
    async fn get(&self, key_of: &keys::PrimaryKey) -> Result<Option<Item>, OrderError> {
        Ok(self.table.get(key_of).await?)
    }
}

impl OrderStore for DynamoOrders {
    #[tracing::instrument(name = "dynamodb.load_for_order", skip_all, fields(
        products = products.len(),
        customer_id = idempotency.map(|(customer, _)| tracing::field::display(customer)),
    ))]
    async fn load_for_order(
        &self,
        products: &[ProductId],
        idempotency: Option<(CustomerId, &IdempotencyKey)>,
        now: Timestamp,
    ) -> Result<(Vec<StockedProduct>, Option<IdempotencyRecord>), OrderError> {
        let record_key = idempotency.map(|(customer, k)| keys::idempotency(customer, k));
        let also = record_key.iter().map(key).collect();
        let (found, records) = self
            .table
            .products_with_stock(products, &self.bucket_counts, also)
            .await?;
        let record = match records.into_iter().next() {
            Some(item) => IdempotencyItem::decode(item, now)?,
            None => None,
        };
        Ok((self.stocked(found).await?, record))
    }

    #[tracing::instrument(name = "dynamodb.idempotency_record", skip_all,
        fields(customer_id = %customer))]
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

    #[tracing::instrument(name = "dynamodb.place", skip_all,
        fields(order_id = %order.id, customer_id = %order.customer_id, lines = order.lines.len()))]
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
            for portion in &line.stock_from {
                let take = stock::take(self.name(), line.product_id, portion, line.unit_price)?;
                items.push(Op::Stock, take);
            }
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(()),
            // Another order was writing one of the same buckets: the service holds off
            // and draws the buckets again (another one, most of the time).
            Err(err) if err.conflicted() => Err(PlaceFailure::Contended),
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
            Err(TxnError::Failed(failure)) => Err(failure.into()),
        }
    }

    async fn hold_off(&self, times: u32) {
        contention_pause(times).await;
    }

    #[tracing::instrument(name = "dynamodb.order", skip_all, fields(order_id = %id))]
    async fn order(&self, id: OrderId) -> Result<Option<Order>, OrderError> {
        let item = self.get(&keys::order(id)).await?;
        Ok(item.map(OrderRecord::decode).transpose()?)
    }

    #[tracing::instrument(name = "dynamodb.change_status", skip_all,
        fields(order_id = %change.order_id, from = change.from.as_str(), to = change.to.as_str()))]
    async fn change_status(&self, change: &StatusChange) -> Result<(), OrderError> {
        let order_key = keys::order(change.order_id);
        let update = with_payments(status_update(change), change)?;
        let update = with_messages(update, change.message.as_slice())?;
        let history = self.table.history_put(&change.history)?;
        let mut items = Transaction::new()
            .with(
                Op::Order,
                txn::update(self.name(), key(&order_key), update)?,
            )
            .with(Op::History, history);
        for entry in change.payments.iter().flat_map(|p| &p.history) {
            items.push(Op::History, self.table.history_put(entry)?);
        }
        let without_stock = items.clone();
        for r in &change.restock {
            for portion in &r.portions {
                items.push(
                    Op::Stock,
                    stock::put_back(self.name(), r.product_id, portion)?,
                );
            }
        }
        let mut result = execute_retrying_conflicts(&self.table, items).await;
        if let Err(err) = &result
            && err.condition_failed(Op::Stock)
            && !err.condition_failed(Op::Order)
        {
            // A bucket the units came from is gone (staff lowered the count since), or the
            // product still holds its own stock (an order from before buckets): put them
            // back where the products are now.
            let mut items = without_stock;
            for write in self.put_backs_now(&change.restock).await? {
                items.push(Op::Stock, write);
            }
            result = execute_retrying_conflicts(&self.table, items).await;
        }
        match result {
            Ok(()) => Ok(()),
            Err(err) if err.condition_failed(Op::Order) => Err(OrderError::ConcurrentChange),
            Err(err) => Err(err.or_cancelled(OrderError::ConcurrentChange)),
        }
    }

    #[tracing::instrument(name = "dynamodb.list_orders", skip_all, fields(
        listing = listing.kind(),
        customer_id = listing.customer().map(tracing::field::display),
    ))]
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
                self.table.query_page(&list.newest_first(), &page).await
            }
            OrderListing::Status(status) => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi3(keys::orders_in_status(status, shard), ""))
                    .collect();
                let list = keys::orders_in_status_list(status);
                self.table.query_sharded_page(&list, shards, &page).await
            }
            OrderListing::PaymentStatus(status) => {
                // Orders stored before payments existed have no `payment_status`: unpaid.
                let filter = || {
                    let value = s(status.as_str());
                    if status == domain::order::PaymentStatus::Unpaid {
                        Expr::new().when_absent_or_eq(attr::PAYMENT_STATUS, value)
                    } else {
                        Expr::new().when_eq(attr::PAYMENT_STATUS, value)
                    }
                };
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi2(keys::order_list(shard), "").filtered(filter()))
                    .collect();
                self.table
                    .query_sharded_page(keys::ORDER_LIST, shards, &page)
                    .await
            }
            OrderListing::NotificationFailed => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi5(keys::notification_failed(shard)))
                    .collect();
                self.table
                    .query_sharded_page(keys::NOTIFICATION_FAILED_LIST, shards, &page)
                    .await
            }
            OrderListing::All => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi2(keys::order_list(shard), ""))
                    .collect();
                self.table
                    .query_sharded_page(keys::ORDER_LIST, shards, &page)
                    .await
            }
        }
        .map_err(list_error)?;
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

    #[tracing::instrument(name = "dynamodb.due_hand_offs", skip_all, fields(limit = limit))]
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
        self.table
            .query_sharded_first(&shards, limit)
            .await?
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

    #[tracing::instrument(name = "dynamodb.reschedule_hand_off", skip_all,
        fields(order_id = %order_id, resends = resends))]
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
        match self.table.update(&keys::order(order_id), &update).await {
            // Acknowledged by the notifier meanwhile: nothing left to schedule.
            Ok(_) | Err(WriteError::ConditionFailed) => Ok(()),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
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
            .table
            .query_all(&listing, Some(limit.saturating_sub(1)))
            .await?;
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
            // Stored before GSI5 too: a failed notification lists it there as well.
            if let Some(channel) = failed_channels(item).first()
                && !item.contains_key(keys::GSI5PK)
            {
                update = listed_as_failed(update, id)
                    .when_eq(
                        &channel_status_path(*channel),
                        stored_status(ChannelStatus::Failed),
                    )
                    .when_absent(keys::GSI5PK);
            }
            match self.table.update(&keys::order(id), &update).await {
                Ok(_) => moved += 1,
                // Changed (or already moved) since the index was read: the next call.
                Err(WriteError::ConditionFailed) => {}
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
        }
        Ok(moved)
    }

    /// Files under GSI5 the orders whose notification channel failed before GSI5 existed
    /// (the notifier lists every later failure itself, in the write that records it). It
    /// walks the list of every order (GSI2, all shards in parallel) newest first, from
    /// where the previous call stopped (the item `UPGRADE#NOTIFICATION_FAILED`), for at
    /// most `steps` steps of up to `per_shard` orders a shard, and records its progress
    /// after each step. Filing is conditioned on a channel still being `failed` and the order
    /// not being listed yet, so a repeated step changes nothing. Once the walk has passed
    /// the oldest order it is `done`, and a call costs one `GetItem`.
    pub async fn file_failed_notifications(
        &self,
        steps: usize,
        per_shard: usize,
    ) -> Result<UpgradeRun, OrderError> {
        let progress_key = keys::upgrade_progress(keys::FAILED_NOTIFICATIONS_UPGRADE);
        let stored = self.get(&progress_key).await?;
        let mut started = stored.is_some();
        let mut progress = stored
            .map(UpgradeProgress::decode)
            .transpose()?
            .unwrap_or_default();
        let mut run = UpgradeRun {
            filed: 0,
            done: progress.done,
        };
        let statuses = Channel::ALL.map(channel_status_path);
        let statuses = statuses.each_ref().map(String::as_str);
        let unfiled = || {
            Expr::new()
                .when_any_eq(&statuses, stored_status(ChannelStatus::Failed))
                .when_absent(keys::GSI5PK)
        };
        for _ in 0..steps {
            if progress.done {
                break;
            }
            let shards = keys::OrderShard::all()
                .map(|shard| {
                    let list = Listing::gsi2(keys::order_list(shard), "").filtered(unfiled());
                    match &progress.below {
                        Some(below) => list.below(below.clone()),
                        None => list,
                    }
                })
                .collect();
            let (found, below) = self.table.walk_sharded(shards, per_shard).await?;
            let mut filed = 0_usize;
            for item in &found {
                let id: OrderId = Fields(item).parse(attr::ID)?;
                match self
                    .table
                    .update(&keys::order(id), &listed_as_failed(unfiled(), id))
                    .await
                {
                    Ok(_) => filed += 1,
                    // Listed meanwhile (by the notifier, or a step read twice).
                    Err(WriteError::ConditionFailed) => {}
                    Err(WriteError::Failed(failure)) => return Err(failure.into()),
                }
            }
            run.filed += filed;
            let mut record = UpgradeProgress::step(filed);
            record = match &below {
                Some(below) => record.set(attr::UPGRADE_BELOW, s(below.clone())),
                None => record.set(attr::UPGRADE_DONE, AttributeValue::Bool(true)),
            };
            // Moves on only from where this call read it.
            record = match (&progress.below, started) {
                (_, false) => record.when_absent(keys::PK),
                (Some(previous), true) => record.when_eq(attr::UPGRADE_BELOW, s(previous.clone())),
                (None, true) => record.when_absent(attr::UPGRADE_BELOW),
            };
            match self.table.update(&progress_key, &record).await {
                Ok(_) => {}
                // Another run moved it meanwhile: it goes on from there next time.
                Err(WriteError::ConditionFailed) => return Ok(run),
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
            started = true;
            progress = UpgradeProgress {
                done: below.is_none(),
                below,
            };
            run.done = progress.done;
        }
        Ok(run)
    }
}

/// What one call of a one-off upgrade ([`DynamoOrders::file_failed_notifications`],
/// [`crate::DynamoCatalog::rekey_category_siblings`]) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeRun {
    /// Items it changed: orders it listed under GSI5, categories it re-keyed.
    pub filed: usize,
    /// The walk has seen every item: nothing is left to change.
    pub done: bool,
}

impl NotificationStore for DynamoOrders {
    #[tracing::instrument(name = "dynamodb.save_channel", skip_all,
        fields(order_id = %order, channel = %channel, version = expected_version))]
    async fn save_channel(
        &self,
        order: OrderId,
        channel: Channel,
        expected_version: u32,
        state: &ChannelState,
    ) -> Result<bool, OrderError> {
        // Each case below is one conditional `UpdateItem` writing the channel and, in the
        // same write, the order's GSI5 membership (some channel `failed`); its condition
        // pins the stored states that membership follows from, so the index never
        // disagrees with them.
        let this = channel_attr(channel);
        let record = ChannelRecord::encode(state)?;
        let written = || {
            let update = Expr::new().set(this, record.clone()).when_exists(keys::PK);
            if expected_version == 0 {
                update.when_absent(this)
            } else {
                update.when_eq(&format!("{this}.{}", attr::VERSION), n(expected_version))
            }
        };
        let failed = || stored_status(ChannelStatus::Failed);
        let this_status = channel_status_path(channel);
        let other_status = channel_status_path(channel.other());
        let cases = if state.status == ChannelStatus::Failed {
            // Failed: listed, whatever the other channel.
            vec![listed_as_failed(written(), order)]
        } else if expected_version == 0 {
            // Never written (pending): not failed before, nor now; membership unchanged.
            vec![written()]
        } else {
            vec![
                // Not failed before, nor now (every other write of the notifier, for
                // which `failed` is final): membership unchanged.
                written().when_ne(&this_status, failed()),
                // Leaving `failed` (a re-send after the notifier's time, say) with the
                // other channel not failed and no customer message failed: off the list.
                written()
                    .when_eq(&this_status, failed())
                    .when_absent_or_ne(channel_attr(channel.other()), &other_status, failed())
                    .when_absent(attr::MESSAGES_FAILED)
                    .remove(keys::GSI5PK)
                    .remove(keys::GSI5SK),
                // Leaving `failed` while a customer message failed: still listed.
                listed_as_failed(
                    written()
                        .when_eq(&this_status, failed())
                        .when_exists(attr::MESSAGES_FAILED),
                    order,
                ),
                // Leaving `failed` while the other channel is failed: still listed.
                listed_as_failed(
                    written()
                        .when_eq(&this_status, failed())
                        .when_eq(&other_status, failed()),
                    order,
                ),
            ]
        };
        // The cases exclude each other; each failed condition rules one out. None left:
        // the version did not match (another delivery wrote first).
        for update in cases {
            match self.table.update(&keys::order(order), &update).await {
                Ok(_) => return Ok(true),
                Err(WriteError::ConditionFailed) => {}
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
        }
        Ok(false)
    }

    #[tracing::instrument(name = "dynamodb.save_message", skip_all,
        fields(order_id = %order, message = %message.key))]
    async fn save_message(
        &self,
        order: OrderId,
        message: &CustomerMessage,
        expected_version: u32,
    ) -> Result<bool, OrderError> {
        let this = message_attr(&message.key);
        let mut update = Expr::new()
            .set(&this, MessageRecord::encode(message)?)
            .when_exists(keys::PK)
            .when_eq(&format!("{this}.{}", attr::VERSION), n(expected_version));
        let undelivered = matches!(message.state.delivery, Some(Delivery::Undelivered(_)));
        if message.state.status == ChannelStatus::Failed || undelivered {
            // Failed or not delivered: on the failed-notifications list for good.
            update = listed_as_failed(update, order)
                .set(attr::MESSAGES_FAILED, AttributeValue::Bool(true));
        }
        match self.table.update(&keys::order(order), &update).await {
            Ok(_) => Ok(true),
            Err(WriteError::ConditionFailed) => Ok(false),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }

    #[tracing::instrument(name = "dynamodb.remember_sms", skip_all, fields(order_id = %sent.order))]
    async fn remember_sms(&self, id: &SmsId, sent: &SentSms) -> Result<(), OrderError> {
        crate::sms::remember(&self.table, id, sent).await
    }

    #[tracing::instrument(name = "dynamodb.acknowledge", skip_all, fields(order_id = %order))]
    async fn acknowledge(&self, order: OrderId) -> Result<(), OrderError> {
        let update = without_hand_off(Expr::new()).when_exists(keys::PK);
        match self.table.update(&keys::order(order), &update).await {
            Ok(_) | Err(WriteError::ConditionFailed) => Ok(()),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }
}
