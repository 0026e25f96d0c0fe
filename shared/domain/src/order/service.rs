//! The orders use cases: place, read, list, change status, and re-send confirmations the
//! notifier has not acknowledged. Generic over the ports, so tests run them on the real
//! adapters and production wires DynamoDB and SQS.
//!
//! Invariants: placing an order starts again only after losing a race to another request
//! (a price or the stock changed, the order number was taken), each race at most
//! [`Race::retries`] times — the one place that decides; retrying a transaction DynamoDB
//! cancelled for a conflict is storage's business, not this (storage's `retry` module
//! lists every retry and where it lives). Each use case runs in a span named after it that
//! carries the ids it concerns (order, customer), never personal data.

use std::collections::HashMap;
use std::time::Duration;

use crate::customer::{Customer, CustomerId, EmailKey};
use crate::error::ValidationErrors;
use crate::id::OrderId;
use crate::id::ProductId;
use crate::order::customer_message::CustomerMessage;
use crate::order::ports::{
    HandOffChange, IdempotencyRecord, NotificationQueue, OrderError, OrderListing, OrderStore,
    PaymentsAfter, PlaceFailure, Restock, StatusChange, StockedProduct, Unavailable,
};
use crate::order::pricing::{OrderLine, Totals, VatRate};
use crate::order::request::{IdempotencyKey, OrderRequest};
use crate::order::status::{OrderStatus, Role, authorize};
use crate::order::{Order, OrderNumber};
use crate::page::{Page, PageRequest};
use crate::product::Product;
use crate::timestamp::Timestamp;

/// The most stock buckets one order may take from: one transaction holds 100 items, three
/// of them the order, its number's claim and the idempotency record.
pub const MAX_STOCK_PORTIONS: usize = 97;

/// How long placing one order keeps drawing stock buckets while other orders' transactions
/// get there first ([`Race::Contended`]): well inside the orders function's 10 s timeout.
pub const CONTENTION_BUDGET: Duration = Duration::from_secs(5);

/// The event of the reconciler's re-sends: "something on this order is still to be
/// told" (the notifier reads the order and sends whatever is pending).
pub const RESEND_EVENT: &str = "order.notify";

/// How long an idempotency key holds its first response.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A race that placing an order can lose to another request between its read and its
/// transaction. Each is retried by reading (or drawing) again and pricing again, never by
/// sending the same transaction again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Race {
    /// A price changed: the order is priced once more on the new figures (a second change
    /// is a 409, so a customer is never charged a price that keeps moving).
    PriceChanged,
    /// Only stock moved (taken and given back by a cancel, say), prices unchanged, and
    /// enough is back: placed again.
    StockRaced,
    /// The drawn order number is taken (practically never): a fresh one is drawn.
    NumberTaken,
    /// Another order's transaction was writing the same stock bucket at that moment: the
    /// line's bucket is drawn again among those that hold enough (with K buckets, another
    /// one most of the time), from the same read, after storage's hold-off; for as long as
    /// [`CONTENTION_BUDGET`] (not a count: how long a storm queues depends on the crowd).
    Contended,
}

impl Race {
    /// How often placing one order retries after losing this race; one more loss is a
    /// 409 ([`OrderError::ConcurrentChange`]) the client may retry.
    pub const fn retries(self) -> u32 {
        match self {
            Race::PriceChanged => 1,
            Race::StockRaced => 3,
            Race::NumberTaken => 3,
            Race::Contended => u32::MAX,
        }
    }
}

/// The races one placement has lost so far, by kind.
#[derive(Debug, Default)]
struct LostRaces([u32; 4]);

impl LostRaces {
    /// Counts one more loss of `race`: whether to try again.
    fn retry(&mut self, race: Race) -> bool {
        let lost = &mut self.0[race as usize];
        *lost += 1;
        *lost <= race.retries()
    }

    /// How often `race` was lost so far.
    fn lost(&self, race: Race) -> u32 {
        self.0[race as usize]
    }
}

/// When confirmations are handed (again) to the notifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandOffPolicy {
    /// How long after a confirmation the reconciler re-sends it if the notifier has not
    /// acknowledged it.
    pub grace: Duration,
    /// Longest wait between two re-sends (they back off exponentially up to it).
    pub max_backoff: Duration,
}

impl Default for HandOffPolicy {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(300),
            max_backoff: Duration::from_secs(6 * 60 * 60),
        }
    }
}

impl HandOffPolicy {
    /// When to re-send after `resends` re-sends: grace × 2^resends, capped.
    pub fn next_due(&self, now: Timestamp, resends: u32) -> Timestamp {
        let factor = 2u32.saturating_pow(resends.min(16));
        now.after(self.grace.saturating_mul(factor).min(self.max_backoff))
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub customer_id: CustomerId,
    pub admin: bool,
}

impl Viewer {
    fn can_see(&self, order: &Order) -> bool {
        self.admin || order.customer_id == self.customer_id
    }

    fn role(&self) -> Role {
        if self.admin { Role::Admin } else { Role::Owner }
    }
}

/// A placed order, and whether it is the stored first response to an earlier request
/// with the same idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub order: Order,
    pub replayed: bool,
}

/// Result of one reconciler run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResendReport {
    pub resent: usize,
    pub failed: usize,
}

/// The orders service.
#[derive(Debug, Clone)]
pub struct OrderService<S, Q> {
    store: S,
    queue: Q,
    vat: VatRate,
    hand_off: HandOffPolicy,
    contention_budget: Duration,
}

impl<S: OrderStore, Q: NotificationQueue> OrderService<S, Q> {
    pub fn new(store: S, queue: Q, vat: VatRate, hand_off: HandOffPolicy) -> Self {
        Self {
            store,
            queue,
            vat,
            hand_off,
            contention_budget: CONTENTION_BUDGET,
        }
    }

    /// The same service, drawing stock buckets for `budget` at most while other orders
    /// get there first (default [`CONTENTION_BUDGET`]).
    pub fn with_contention_budget(self, budget: Duration) -> Self {
        Self {
            contention_budget: budget,
            ..self
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Places an order for `customer`: one read of the products (and the idempotency
    /// record), then one transaction. A confirmed order is handed to the notifier after
    /// the commit; if that send fails, the reconciler sends it later.
    #[tracing::instrument(name = "orders.place", skip_all,
        fields(customer_id = %customer, order_id = tracing::field::Empty))]
    pub async fn place(
        &self,
        customer: CustomerId,
        request: &OrderRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Placed, OrderError> {
        let fingerprint = request.fingerprint();
        let ids = request.product_ids();
        let now = Timestamp::now();
        let (mut stocked, record) = self
            .store
            .load_for_order(&ids, key.map(|k| (customer, k)), now)
            .await?;
        if let Some(record) = record {
            return replay(record, &fingerprint);
        }
        let id = OrderId::generate();
        tracing::Span::current().record("order_id", tracing::field::display(id));
        let mut races = LostRaces::default();
        let started = std::time::Instant::now();
        let number = OrderNumber::generate(now);
        let mut order = self.price(id, customer, number, request, &stocked, now)?;
        loop {
            let record = key.map(|key| IdempotencyRecord {
                customer_id: customer,
                key: key.clone(),
                fingerprint: fingerprint.clone(),
                order: order.clone(),
                expires_at: now.after(IDEMPOTENCY_TTL),
            });
            match self.store.place(&order, record.as_ref(), now).await {
                Ok(()) => {
                    if order.status == OrderStatus::Confirmed {
                        self.hand_off(order.id).await;
                    }
                    return Ok(Placed {
                        order,
                        replayed: false,
                    });
                }
                Err(PlaceFailure::ProductsChanged) => {
                    // Stock ran out or a price changed since the read: read again, report
                    // what is short, or price once more on the new figures.
                    stocked = self.store.load_for_order(&ids, None, now).await?.0;
                    let number = order.order_number.clone();
                    let repriced = self.price(id, customer, number, request, &stocked, now)?;
                    let same_terms = repriced.lines.len() == order.lines.len()
                        && repriced
                            .lines
                            .iter()
                            .zip(&order.lines)
                            .all(|(a, b)| a.same_terms(b));
                    let race = if same_terms {
                        Race::StockRaced
                    } else {
                        Race::PriceChanged
                    };
                    if !races.retry(race) {
                        return Err(OrderError::ConcurrentChange);
                    }
                    order = repriced;
                }
                Err(PlaceFailure::Contended) => {
                    races.retry(Race::Contended);
                    if started.elapsed() >= self.contention_budget {
                        return Err(OrderError::ConcurrentChange);
                    }
                    self.store.hold_off(races.lost(Race::Contended)).await;
                    take_stock(&mut order, &stocked, draw)?;
                }
                Err(PlaceFailure::OrderNumberTaken) => {
                    if !races.retry(Race::NumberTaken) {
                        return Err(OrderError::ConcurrentChange);
                    }
                    order.order_number = OrderNumber::generate(now);
                }
                Err(PlaceFailure::IdempotencyKeyTaken) => {
                    // A concurrent request with the same key won.
                    let key = key.ok_or(OrderError::ConcurrentChange)?;
                    return match self.store.idempotency_record(customer, key, now).await? {
                        Some(record) => replay(record, &fingerprint),
                        None => Err(OrderError::ConcurrentChange),
                    };
                }
                Err(PlaceFailure::Other(err)) => return Err(err),
            }
        }
    }

    /// Prices `request` from `stocked` (read just before) and draws the stock buckets
    /// each line takes from.
    fn price(
        &self,
        id: OrderId,
        customer: CustomerId,
        number: OrderNumber,
        request: &OrderRequest,
        stocked: &[StockedProduct],
        now: Timestamp,
    ) -> Result<Order, OrderError> {
        let products: Vec<&Product> = stocked.iter().map(|s| &s.product).collect();
        let by_id = index(&products);
        let mut unknown = ValidationErrors::default();
        for (i, line) in request.lines().iter().enumerate() {
            if !by_id.contains_key(&line.product_id) {
                unknown.push(format!("items[{i}].product_id"), "no such product");
            }
        }
        if !unknown.is_empty() {
            return Err(OrderError::Invalid(unknown));
        }
        short(request, &products)?;
        let lines: Vec<OrderLine> = request
            .lines()
            .iter()
            .filter_map(|line| {
                let product = by_id.get(&line.product_id)?;
                Some(OrderLine::new(
                    product.id,
                    product.name.clone(),
                    product.sku.clone(),
                    product.price,
                    line.quantity,
                ))
            })
            .collect();
        let totals = Totals::of(&lines, self.vat);
        let confirmed = request.confirm;
        let mut order = Order {
            id,
            order_number: number,
            customer_id: customer,
            status: if confirmed {
                OrderStatus::Confirmed
            } else {
                OrderStatus::Pending
            },
            lines,
            totals,
            delivery_address: request.delivery_address.clone(),
            notes: request.notes.clone(),
            notifications: Default::default(),
            created_at: now,
            updated_at: now,
            confirmed_at: confirmed.then_some(now),
            cancelled_at: None,
            hand_off_due: confirmed.then(|| now.after(self.hand_off.grace)),
            payments: Vec::new(),
            payments_version: 0,
            messages: Vec::new(),
        };
        take_stock(&mut order, stocked, draw)?;
        Ok(order)
    }

    /// Tells the notifier that `event` was recorded on `order`. A failure is logged, not
    /// returned: the order stays marked and the reconciler re-sends it.
    async fn tell(&self, order: OrderId, event: &'static str) {
        if let Err(err) = self.queue.order_event(order, event).await {
            tracing::warn!(order_id = %order, event, error = %err, source = ?std::error::Error::source(&err),
                "event not handed to the notifier; the reconciler will re-send it");
        }
    }

    /// Sends the confirmation of `order` to the notifier. A failure is logged, not
    /// returned: the order stays marked and the reconciler re-sends it.
    async fn hand_off(&self, order: OrderId) {
        if let Err(err) = self.queue.order_confirmed(order).await {
            tracing::warn!(order_id = %order, error = %err, source = ?std::error::Error::source(&err),
                "confirmation not handed to the notifier; the reconciler will re-send it");
        }
    }

    /// One order, if `viewer` may see it (another customer's order is "not found").
    #[tracing::instrument(name = "orders.order", skip_all,
        fields(order_id = %id, customer_id = %viewer.customer_id, admin = viewer.admin))]
    pub async fn order(&self, viewer: Viewer, id: OrderId) -> Result<Order, OrderError> {
        self.store
            .order(id)
            .await?
            .filter(|order| viewer.can_see(order))
            .ok_or(OrderError::NotFound)
    }

    /// A page of orders, newest first.
    #[tracing::instrument(name = "orders.list", skip_all, fields(
        listing = listing.kind(),
        customer_id = listing.customer().map(tracing::field::display),
    ))]
    pub async fn list(
        &self,
        listing: OrderListing,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderError> {
        self.store.list_orders(listing, page).await
    }

    /// One customer's orders by their e-mail (staff's `?customer_email=`): the orders of
    /// the customer who holds it now, optionally in one status; none when nobody does.
    pub async fn list_by_email(
        &self,
        email: &EmailKey,
        status: Option<OrderStatus>,
        page: PageRequest,
    ) -> Result<Page<Order>, OrderError> {
        match self.store.customer_with_email(email).await? {
            Some(customer) => {
                let listing = OrderListing::Customer(customer, status);
                self.store.list_orders(listing, page).await
            }
            None => Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            }),
        }
    }

    /// The customers of `orders` (each once), by id: staff's lists show who ordered.
    pub async fn customers_of(
        &self,
        orders: &[Order],
    ) -> Result<HashMap<CustomerId, Customer>, OrderError> {
        let mut ids: Vec<CustomerId> = orders.iter().map(|o| o.customer_id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let customers = self.store.customers(&ids).await?;
        Ok(customers.into_iter().map(|c| (c.id, c)).collect())
    }

    /// Moves an order to `to`, if the workflow and `viewer`'s role allow it. A
    /// cancellation restores every line's stock in the same transaction; a confirmation
    /// is handed to the notifier.
    ///
    /// `by` is who asked, as the change history records them (the owner or an admin).
    #[tracing::instrument(name = "orders.change_status", skip_all,
        fields(order_id = %id, customer_id = %viewer.customer_id, admin = viewer.admin,
            to = to.as_str()))]
    pub async fn change_status(
        &self,
        viewer: Viewer,
        by: &crate::audit::Actor,
        id: OrderId,
        to: OrderStatus,
    ) -> Result<Order, OrderError> {
        let order = self.order(viewer, id).await?;
        authorize(viewer.role(), order.status, to)?;
        let at = Timestamp::now();
        let payments = (to == OrderStatus::Cancelled)
            .then(|| refunds(&order, by, at))
            .flatten();
        // What the payments look like once the order is in `to` (a cancellation with
        // money on it: refund pending).
        let payments_after = payments.as_ref().map_or(&order.payments, |p| &p.payments);
        let marks = crate::order::PaymentMarks::of(to, order.totals.total_amount, payments_after);
        // The money on the order, when the cancellation asks for it back.
        let refund = payments
            .as_ref()
            .map(|_| order.payment_standing().amount_paid);
        let message = CustomerMessage::for_status(to, refund, at);
        let change = StatusChange {
            order_id: order.id,
            from: order.status,
            to,
            at,
            history: crate::order::history::order_status_changed(
                by,
                &order.subject(),
                order.status,
                to,
                at,
            ),
            restock: if to == OrderStatus::Cancelled {
                order
                    .lines
                    .iter()
                    .map(|l| Restock {
                        product_id: l.product_id,
                        portions: l.stock_to_return(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            // Marked while the notifier has something to tell: the reconciler re-sends
            // what is not acknowledged in time.
            hand_off: if to == OrderStatus::Confirmed || message.is_some() {
                HandOffChange::Mark(at.after(self.hand_off.grace))
            } else {
                HandOffChange::Keep
            },
            payments_version: order.payments_version,
            payments,
            marks,
            message,
        };
        match self.store.change_status(&change).await {
            Ok(()) => {}
            Err(OrderError::ConcurrentChange) => {
                // Someone else moved it first: explain against its status now.
                let current = self.order(viewer, id).await?;
                authorize(viewer.role(), current.status, to)?;
                return Err(OrderError::ConcurrentChange);
            }
            Err(err) => return Err(err),
        }
        if to == OrderStatus::Confirmed {
            self.hand_off(order.id).await;
        } else if let Some(message) = &change.message {
            self.tell(order.id, message.event.name()).await;
        }
        Ok(order.with_change(&change))
    }

    /// Re-sends, oldest first, at most `limit` confirmations that are due and still not
    /// acknowledged by the notifier, and schedules the next re-send of each.
    #[tracing::instrument(name = "orders.resend_due_hand_offs", skip_all, fields(limit = limit))]
    pub async fn resend_due_hand_offs(&self, limit: usize) -> Result<ResendReport, OrderError> {
        let now = Timestamp::now();
        let mut report = ResendReport::default();
        for pending in self.store.due_hand_offs(now, limit).await? {
            match self.queue.order_event(pending.order_id, RESEND_EVENT).await {
                Ok(()) => {
                    let resends = pending.resends.saturating_add(1);
                    self.store
                        .reschedule_hand_off(
                            pending.order_id,
                            self.hand_off.next_due(now, resends),
                            resends,
                        )
                        .await?;
                    tracing::info!(order_id = %pending.order_id, resends, "confirmation re-sent");
                    report.resent += 1;
                }
                Err(err) => {
                    tracing::warn!(order_id = %pending.order_id, error = %err, "re-send failed");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}

/// A cancellation's refunds: the reversal of every succeeded payment with a receipt is
/// requested (the reversal itself is an outbound call made after the commit, never inside
/// it), each with its history entry; `None` when the order holds no money to reverse. A
/// payment without a receipt waits for one (staff see it among the payments to act on).
pub fn refunds(order: &Order, by: &crate::audit::Actor, at: Timestamp) -> Option<PaymentsAfter> {
    let mut payments = order.payments.clone();
    let mut history = Vec::new();
    for payment in payments.iter_mut() {
        if payment.request_reversal(at).is_ok() {
            history.push(crate::order::history::payment_reversal_requested(
                by,
                &order.subject(),
                payment,
                at,
            ));
        }
    }
    (!history.is_empty()).then_some(PaymentsAfter { payments, history })
}

fn index<'a>(products: &[&'a Product]) -> HashMap<ProductId, &'a Product> {
    products.iter().map(|p| (p.id, *p)).collect()
}

/// A fresh random number, for drawing stock buckets.
fn draw() -> u64 {
    // A new ULID's 80 random bits, from the thread's CSPRNG.
    (ulid::Ulid::new().random() & u128::from(u64::MAX)) as u64
}

/// Draws, for every line of `order`, the stock buckets its units come from (one bucket
/// holding them all, picked by `random` among those that do, else as few as possible).
/// A line the buckets cannot serve is out of stock, naming what they hold.
fn take_stock(
    order: &mut Order,
    stocked: &[StockedProduct],
    random: impl Fn() -> u64,
) -> Result<(), OrderError> {
    let buckets: HashMap<ProductId, &crate::stock_buckets::Buckets> =
        stocked.iter().map(|s| (s.product.id, &s.buckets)).collect();
    let mut unavailable = Vec::new();
    for line in &mut order.lines {
        let Some(held) = buckets.get(&line.product_id) else {
            continue;
        };
        match held.take(line.quantity.get(), random()) {
            Ok(portions) => line.stock_from = portions,
            Err(short) => unavailable.push(Unavailable {
                product_id: line.product_id,
                requested: line.quantity.get(),
                available: u32::try_from(short.available).unwrap_or(u32::MAX),
            }),
        }
    }
    if !unavailable.is_empty() {
        return Err(OrderError::OutOfStock(unavailable));
    }
    let portions: usize = order.lines.iter().map(|l| l.stock_from.len()).sum();
    if portions > MAX_STOCK_PORTIONS {
        return Err(OrderError::StockTooScattered {
            portions,
            max: MAX_STOCK_PORTIONS,
        });
    }
    Ok(())
}

/// `Err(OutOfStock)` listing every line whose product is inactive or short of stock.
fn short(request: &OrderRequest, products: &[&Product]) -> Result<(), OrderError> {
    let by_id = index(products);
    let unavailable: Vec<Unavailable> = request
        .lines()
        .iter()
        .filter_map(|line| {
            let available = by_id
                .get(&line.product_id)
                .filter(|p| p.is_active)
                .map_or(0, |p| p.stock_quantity);
            (available < line.quantity.get()).then_some(Unavailable {
                product_id: line.product_id,
                requested: line.quantity.get(),
                available,
            })
        })
        .collect();
    if unavailable.is_empty() {
        Ok(())
    } else {
        Err(OrderError::OutOfStock(unavailable))
    }
}

fn replay(
    record: IdempotencyRecord,
    fingerprint: &crate::order::request::Fingerprint,
) -> Result<Placed, OrderError> {
    if &record.fingerprint == fingerprint {
        Ok(Placed {
            order: record.order,
            replayed: true,
        })
    } else {
        Err(OrderError::IdempotencyKeyReused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_race_is_retried_its_own_number_of_times_and_counted_apart() {
        let mut races = LostRaces::default();
        assert!(races.retry(Race::PriceChanged), "priced once more");
        for _ in 0..3 {
            assert!(races.retry(Race::StockRaced));
            assert!(races.retry(Race::NumberTaken));
        }
        assert!(
            !races.retry(Race::PriceChanged),
            "a second price change is a 409"
        );
        assert!(!races.retry(Race::StockRaced));
        assert!(!races.retry(Race::NumberTaken));
    }

    #[test]
    fn re_sends_back_off_exponentially_up_to_the_cap() {
        let policy = HandOffPolicy {
            grace: Duration::from_secs(60),
            max_backoff: Duration::from_secs(600),
        };
        let now = Timestamp::parse("2026-11-25T10:00:00.000Z").expect("timestamp");
        let due = |resends| policy.next_due(now, resends).to_string();
        assert_eq!(due(0), "2026-11-25T10:01:00.000Z");
        assert_eq!(due(1), "2026-11-25T10:02:00.000Z");
        assert_eq!(due(3), "2026-11-25T10:08:00.000Z");
        assert_eq!(due(4), "2026-11-25T10:10:00.000Z", "capped");
        assert_eq!(due(u32::MAX), "2026-11-25T10:10:00.000Z");
    }
}
