//! A price that changes between the read and the transaction: the order is re-read and
//! priced once more on the new figures, never at a price the catalog no longer has. Stock
//! taken and given back in that gap (a racing cancel) is placed again, a bounded number
//! of times.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{App, order_body};
use domain::order::{
    HandOffPolicy, IdempotencyKey, IdempotencyRecord, Order, OrderError, OrderListing,
    OrderService, OrderStore, PendingHandOff, PlaceFailure, StatusChange, StockedProduct, VatRate,
};
use domain::product::{ProductChange, StockChange};
use domain::{CustomerId, Money, OrderId, Page, PageRequest, ProductId, ProductStore, Timestamp};
use queue::SqsNotificationQueue;
use storage::{DynamoCatalog, DynamoOrders};

/// The real store, with an admin changing prices right after each of the first reads
/// (one read a new price), and other customers taking the whole stock of the first line
/// just before each of the first `stock_blips` transactions and giving it back right
/// after (as if the requests raced).
struct RacingAdmin {
    inner: DynamoOrders,
    catalog: DynamoCatalog,
    new_prices: Vec<&'static str>,
    stock_blips: usize,
    reads: AtomicUsize,
    places: AtomicUsize,
}

impl RacingAdmin {
    async fn set_stock(&self, product: ProductId, level: u32) {
        let change = ProductChange {
            stock: Some(StockChange::Set(level)),
            ..ProductChange::default()
        };
        self.catalog
            .update_product(product, change, &testkit::env::admin_actor())
            .await
            .expect("stock change");
    }
}

impl OrderStore for RacingAdmin {
    async fn load_for_order(
        &self,
        products: &[ProductId],
        key: Option<(CustomerId, &IdempotencyKey)>,
        now: Timestamp,
    ) -> Result<(Vec<StockedProduct>, Option<IdempotencyRecord>), OrderError> {
        let read = self.inner.load_for_order(products, key, now).await?;
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        if let Some(price) = self.new_prices.get(n) {
            let change = ProductChange {
                price: Some(Money::parse_price(price).expect("price")),
                ..ProductChange::default()
            };
            self.catalog
                .update_product(products[0], change, &testkit::env::admin_actor())
                .await
                .expect("price change");
        }
        Ok(read)
    }

    async fn idempotency_record(
        &self,
        customer: CustomerId,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, OrderError> {
        self.inner.idempotency_record(customer, key, now).await
    }

    async fn hold_off(&self, times: u32) {
        self.inner.hold_off(times).await;
    }

    async fn place(
        &self,
        order: &Order,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> Result<(), PlaceFailure> {
        if self.places.fetch_add(1, Ordering::SeqCst) >= self.stock_blips {
            return self.inner.place(order, idempotency, now).await;
        }
        let product = order.lines[0].product_id;
        let level = self
            .catalog
            .product(product)
            .await
            .expect("read")
            .expect("product")
            .stock_quantity;
        self.set_stock(product, 0).await;
        let result = self.inner.place(order, idempotency, now).await;
        self.set_stock(product, level).await;
        result
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, OrderError> {
        self.inner.order(id).await
    }

    async fn change_status(&self, change: &StatusChange) -> Result<(), OrderError> {
        self.inner.change_status(change).await
    }

    async fn list_orders(
        &self,
        listing: OrderListing,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderError> {
        self.inner.list_orders(listing, page).await
    }

    async fn customers(
        &self,
        ids: &[CustomerId],
    ) -> Result<Vec<domain::customer::Customer>, OrderError> {
        self.inner.customers(ids).await
    }

    async fn customer_with_email(
        &self,
        email: &domain::customer::EmailKey,
    ) -> Result<Option<CustomerId>, OrderError> {
        self.inner.customer_with_email(email).await
    }

    async fn due_hand_offs(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<PendingHandOff>, OrderError> {
        self.inner.due_hand_offs(now, limit).await
    }

    async fn reschedule_hand_off(
        &self,
        order_id: OrderId,
        next_due: Timestamp,
        resends: u32,
    ) -> Result<(), OrderError> {
        self.inner
            .reschedule_hand_off(order_id, next_due, resends)
            .await
    }
}

fn racing_service(
    app: &App,
    new_prices: Vec<&'static str>,
    stock_blips: usize,
) -> OrderService<RacingAdmin, SqsNotificationQueue> {
    let catalog = app.env.catalog();
    OrderService::new(
        RacingAdmin {
            inner: DynamoOrders::new(app.env.client.clone(), app.env.table.as_str()),
            catalog,
            new_prices,
            stock_blips,
            reads: AtomicUsize::new(0),
            places: AtomicUsize::new(0),
        },
        SqsNotificationQueue::new(app.env.sqs.clone(), app.queues.notifications.clone()),
        VatRate::kenya_standard(),
        HandOffPolicy::default(),
    )
}

fn request(product: ProductId) -> domain::order::OrderRequest {
    let body = order_body(&[(product, 2)]);
    serde_json::from_value::<orders::body::PlaceBody>(body)
        .expect("body")
        .parse()
        .expect("valid")
}

#[tokio::test]
async fn a_price_change_during_placement_is_priced_again_once() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let service = Arc::new(racing_service(&app, vec!["120.00"], 0));
    let customer: CustomerId = app.customer_id().parse().expect("id");

    let placed = service
        .place(customer, &request(phone), None)
        .await
        .expect("placed");
    assert_eq!(
        placed.order.lines[0].unit_price.to_string(),
        "120.00",
        "the new price"
    );
    assert_eq!(placed.order.totals.total_amount.to_string(), "278.40");
    assert_eq!(app.stock(phone).await, 8);
    assert_eq!(
        service.store().reads.load(Ordering::SeqCst),
        2,
        "read once more"
    );
}

/// The table's items but the racing admin's own history entries (its price and stock
/// changes are changes of their own).
async fn items_but_history(app: &App) -> usize {
    let snapshot = app.env.snapshot().await;
    snapshot
        .iter()
        .filter(|i| !i.contains("AuditEntry"))
        .count()
}

#[tokio::test]
async fn prices_that_keep_changing_end_in_409_and_nothing_written() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let service = racing_service(&app, vec!["120.00", "130.00"], 0);
    let customer: CustomerId = app.customer_id().parse().expect("id");
    let before_orders = items_but_history(&app).await;

    let refused = service.place(customer, &request(phone), None).await;
    assert!(
        matches!(refused, Err(OrderError::ConcurrentChange)),
        "{refused:?}"
    );
    assert_eq!(app.stock(phone).await, 10);
    assert_eq!(
        items_but_history(&app).await,
        before_orders,
        "no order written"
    );
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn stock_taken_and_given_back_during_placement_is_placed_again() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let service = racing_service(&app, vec![], 3);
    let customer: CustomerId = app.customer_id().parse().expect("id");

    let placed = service
        .place(customer, &request(phone), None)
        .await
        .expect("placed");
    assert_eq!(placed.order.lines[0].unit_price.to_string(), "100.00");
    assert_eq!(app.stock(phone).await, 8);
    assert_eq!(
        service.store().places.load(Ordering::SeqCst),
        4,
        "three races, then placed"
    );
}

#[tokio::test]
async fn stock_that_keeps_racing_ends_in_409_and_nothing_written() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let service = racing_service(&app, vec![], 4);
    let customer: CustomerId = app.customer_id().parse().expect("id");
    let before = items_but_history(&app).await;

    let refused = service.place(customer, &request(phone), None).await;
    assert!(
        matches!(refused, Err(OrderError::ConcurrentChange)),
        "{refused:?}"
    );
    assert_eq!(app.stock(phone).await, 10);
    assert_eq!(items_but_history(&app).await, before, "no order written");
    assert!(app.messages().await.is_empty());
}
