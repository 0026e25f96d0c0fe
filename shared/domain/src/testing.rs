//! Test data: builders of [`Product`]s and [`Order`]s with sensible defaults, for the
//! unit tests of this crate and of the crates that enable its `testing` feature.
//!
//! A test states only the fields it is about and leaves the rest to the builder:
//! `ProductBuilder::new().price("10").stock(2).build()`.
//!
//! Invariants:
//! - Every value built is one the domain's own constructors would accept: each field is
//!   parsed by its type's `parse`/`new` (a price by [`Money::parse_price`], a quantity by
//!   [`Quantity::new`], …), and a value they refuse panics at the test line that passed it.
//! - Built values are consistent with themselves, as the use cases leave them: an
//!   order's totals are [`Totals::of`] its lines at the Kenyan standard VAT rate; its
//!   status has the timestamps it implies (`confirmed_at` once confirmed, `cancelled_at`
//!   once cancelled, from [`OrderStatus::Pending`]); only a confirmed order awaits a
//!   hand-off; a product's stock is at most [`MAX_STOCK`](crate::product::MAX_STOCK).
//! - Every build has a fresh id (two builds are two different products or orders), and
//!   its timestamps are [`Timestamp::now`] unless set.
//!
//! Compiled for this crate's tests and under the `testing` feature only (a
//! dev-dependency's feature): never part of a deployed binary.

use crate::category::CategoryPath;
use crate::customer::CustomerId;
use crate::id::{CategoryId, OrderId, ProductId};
use crate::money::Money;
use crate::notification::Notifications;
use crate::order::request::MAX_LINES;
use crate::order::{
    DeliveryAddress, Notes, Order, OrderLine, OrderNumber, OrderStatus, Quantity, Totals, VatRate,
};
use crate::product::{Product, ProductName, Sku, parse_stock};
use crate::stock_buckets::BucketCount;
use crate::timestamp::Timestamp;

/// Builds a [`Product`]: by default an active "Phone" at KES 1499.00 with 10 units in one
/// bucket, no SKU or description, in a fresh top-level category, created now.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct ProductBuilder {
    name: ProductName,
    sku: Option<Sku>,
    price: Money,
    stock: u32,
    buckets: BucketCount,
    created_at: Timestamp,
}

impl Default for ProductBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ProductBuilder {
    /// The default product (see [`ProductBuilder`]).
    pub fn new() -> Self {
        Self {
            name: ProductName::parse("Phone").expect("name"),
            sku: None,
            price: Money::parse_price("1499.00").expect("price"),
            stock: 10,
            buckets: BucketCount::ONE,
            created_at: Timestamp::now(),
        }
    }

    /// Its name (1–200 characters, see [`ProductName::parse`]).
    #[track_caller]
    pub fn name(mut self, name: &str) -> Self {
        self.name = ProductName::parse(name).expect("a valid product name");
        self
    }

    /// Its SKU (see [`Sku::parse`]).
    #[track_caller]
    pub fn sku(mut self, sku: &str) -> Self {
        self.sku = Some(Sku::parse(sku).expect("a valid SKU"));
        self
    }

    /// Its price in KES, as a client writes it (`"1499.99"`, above 0).
    #[track_caller]
    pub fn price(mut self, price: &str) -> Self {
        self.price = Money::parse_price(price).expect("a valid price");
        self
    }

    /// The units in stock, all buckets together (0 to a billion, see [`parse_stock`]).
    #[track_caller]
    pub fn stock(mut self, units: u32) -> Self {
        self.stock = parse_stock(i64::from(units)).expect("a valid stock level");
        self
    }

    /// How many buckets the stock is split over (1 to 32).
    #[track_caller]
    pub fn buckets(mut self, count: u8) -> Self {
        self.buckets = BucketCount::new(i64::from(count)).expect("a valid bucket count");
        self
    }

    /// When it was created, and last updated.
    pub fn created_at(mut self, at: Timestamp) -> Self {
        self.created_at = at;
        self
    }

    /// The product, with a fresh id.
    pub fn build(self) -> Product {
        Product {
            id: ProductId::generate(),
            name: self.name,
            description: None,
            sku: self.sku,
            price: self.price,
            stock_quantity: self.stock,
            stock_buckets: self.buckets,
            category_path: CategoryPath::root(CategoryId::generate()),
            is_active: true,
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}

/// Builds an [`Order`]: by default a pending order placed now by a fresh customer, of one
/// "Phone" at KES 1499.00, delivered to "Moi Avenue 1", without notes, payments or
/// notifications sent.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct OrderBuilder {
    number: Option<OrderNumber>,
    status: OrderStatus,
    lines: Vec<OrderLine>,
    delivery_address: DeliveryAddress,
    notes: Option<Notes>,
    placed_at: Timestamp,
    hand_off_due: Option<Timestamp>,
}

impl Default for OrderBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderBuilder {
    /// The default order (see [`OrderBuilder`]).
    pub fn new() -> Self {
        Self {
            number: None,
            status: OrderStatus::Pending,
            lines: Vec::new(),
            delivery_address: DeliveryAddress::parse("Moi Avenue 1").expect("address"),
            notes: None,
            placed_at: Timestamp::now(),
            hand_off_due: None,
        }
    }

    /// Its number (`ORD-20261126-7KQ2MZ`); by default one generated for its date.
    #[track_caller]
    pub fn number(mut self, number: &str) -> Self {
        self.number = Some(OrderNumber::parse(number).expect("a valid order number"));
        self
    }

    /// Its status; the order was confirmed (if the status is past pending) or cancelled
    /// when it was placed.
    pub fn status(mut self, status: OrderStatus) -> Self {
        self.status = status;
        self
    }

    /// Adds a line of `quantity` (1 to 1000) units of a fresh product at `price` (KES, as
    /// a client writes it). The first line added replaces the default one; an order has
    /// at most 50.
    #[track_caller]
    pub fn line(mut self, name: &str, sku: Option<&str>, price: &str, quantity: u32) -> Self {
        self.lines.push(OrderLine::new(
            ProductId::generate(),
            ProductName::parse(name).expect("a valid product name"),
            sku.map(Sku::parse).transpose().expect("a valid SKU"),
            Money::parse_price(price).expect("a valid price"),
            Quantity::new(i64::from(quantity)).expect("a valid quantity"),
        ));
        self
    }

    /// Where it is delivered (1–500 characters).
    #[track_caller]
    pub fn delivery_address(mut self, address: &str) -> Self {
        self.delivery_address = DeliveryAddress::parse(address).expect("a valid address");
        self
    }

    /// The customer's note (1–1000 characters).
    #[track_caller]
    pub fn notes(mut self, notes: &str) -> Self {
        self.notes = Some(Notes::parse(notes).expect("valid notes"));
        self
    }

    /// When it was placed (and last updated, confirmed or cancelled).
    pub fn placed_at(mut self, at: Timestamp) -> Self {
        self.placed_at = at;
        self
    }

    /// When the reconciler should hand its confirmation to the notifier (again); only a
    /// confirmed order awaits one.
    pub fn hand_off_due(mut self, due: Timestamp) -> Self {
        self.hand_off_due = Some(due);
        self
    }

    /// The order, with a fresh id and customer.
    #[track_caller]
    pub fn build(self) -> Order {
        let at = self.placed_at;
        let lines = if self.lines.is_empty() {
            vec![default_line()]
        } else {
            self.lines
        };
        assert!(
            lines.len() <= MAX_LINES,
            "an order has at most {MAX_LINES} lines"
        );
        let confirmed = !matches!(self.status, OrderStatus::Pending | OrderStatus::Cancelled);
        assert!(
            confirmed || self.hand_off_due.is_none(),
            "only a confirmed order awaits a hand-off, not a {} one",
            self.status
        );
        Order {
            id: OrderId::generate(),
            order_number: self.number.unwrap_or_else(|| OrderNumber::generate(at)),
            customer_id: CustomerId::generate(),
            status: self.status,
            totals: Totals::of(&lines, VatRate::kenya_standard()),
            lines,
            delivery_address: self.delivery_address,
            notes: self.notes,
            notifications: Notifications::default(),
            created_at: at,
            updated_at: at,
            confirmed_at: confirmed.then_some(at),
            cancelled_at: (self.status == OrderStatus::Cancelled).then_some(at),
            hand_off_due: self.hand_off_due,
            payments: Vec::new(),
            payments_version: 0,
            messages: Vec::new(),
        }
    }
}

/// The line of an order that was given none: one "Phone" at KES 1499.00.
fn default_line() -> OrderLine {
    OrderLine::new(
        ProductId::generate(),
        ProductName::parse("Phone").expect("name"),
        None,
        Money::parse_price("1499.00").expect("price"),
        Quantity::new(1).expect("quantity"),
    )
}

/// A KES 500 Paybill payment, receipt `SLJ7RT61SV`, received at `at` on order `order`,
/// and the order as its history names it (number `ORD-20261206-7KQ2MZ`).
pub fn paybill_on(
    order: OrderId,
    at: Timestamp,
) -> (crate::payment::Payment, crate::order::history::Subject) {
    use crate::payment::{Payment, PaymentId, Receipt};
    let payment = Payment::paybill(
        PaymentId::generate(),
        Some(order),
        Money::from_whole_shillings(500),
        Receipt::parse("SLJ7RT61SV").expect("receipt"),
        None,
        None,
        "1042".into(),
        at,
    );
    let subject = crate::order::history::Subject {
        id: order,
        number: OrderNumber::parse("ORD-20261206-7KQ2MZ").expect("number"),
    };
    (payment, subject)
}

/// The history entry of M-Pesa (no account) receiving [`paybill_on`]'s payment: nothing
/// was paid before it.
pub fn mpesa_payment_received(order: OrderId, at: Timestamp) -> crate::audit::AuditEntry {
    let (payment, subject) = paybill_on(order, at);
    crate::order::history::payment_received(
        &crate::audit::Actor::mpesa(),
        &subject,
        &payment,
        Money::ZERO,
        payment.amount,
        at,
    )
}
