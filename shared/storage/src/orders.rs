//! [`OrderStore`] on DynamoDB: one `BatchGetItem` to read what an order needs, one
//! `TransactWriteItems` to place it (order + number claim + idempotency record + every
//! stock decrement), conditional writes for every status change.
//!
//! The notifier's writes on the order (channel states, messages, delivery reports) are
//! `crate::notifications`.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TransactWriteItem;
use domain::audit::Retention;
use domain::customer::{Customer, EmailKey};
use domain::order::{
    HandOffChange, IdempotencyKey, IdempotencyRecord, Order, OrderError, OrderListing, OrderStatus,
    OrderStore, PaymentMarks, PendingHandOff, PlaceFailure, Restock, StatusChange, StockedProduct,
};
use domain::{CustomerId, OrderId, Page, PageRequest, ProductId, Timestamp};

use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{Fields, Item, key, n, s};
use crate::keys;
use crate::order_customers;
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::StoredProduct;
use crate::records::message::{MessageRecord, message_attr};
use crate::records::order::{
    HandOff, IdempotencyItem, OrderRecord, encode_number_claim, payments_open_keys,
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

/// `expr` that also takes the order out of the reconciler's index (GSI4).
pub(crate) fn without_hand_off(expr: Expr) -> Expr {
    expr.remove(keys::GSI4PK)
        .remove(keys::GSI4SK)
        .remove(attr::HAND_OFF_DUE)
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

    #[tracing::instrument(name = "dynamodb.order_customers", skip_all,
        fields(count = ids.len()))]
    async fn customers(&self, ids: &[CustomerId]) -> Result<Vec<Customer>, OrderError> {
        Ok(order_customers::customers(&self.table, ids).await?)
    }

    // The address looked up is personal data: not a span field.
    #[tracing::instrument(name = "dynamodb.customer_with_email", skip_all)]
    async fn customer_with_email(
        &self,
        email: &EmailKey,
    ) -> Result<Option<CustomerId>, OrderError> {
        order_customers::newest_with_email(&self.table, email)
            .await
            .map_err(OrderError::from)
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
        .map_err(OrderError::from)?;
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
