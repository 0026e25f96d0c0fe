//! The order's items: the order (`ORDER#<id>`, its lines and its notification channels
//! inside: one read shows the whole order), the claim of its number
//! (`ORDER_NUMBER#<number>`) and the idempotency record of the request that placed it
//! (`IDEMPOTENCY#<customer>#<key>`, TTL `expires_at`), which keeps the order as first
//! returned.
//!
//! Amounts are stored as whole cents (`…_cents`, exact integers).

use aws_sdk_dynamodb::types::AttributeValue;
use domain::notification::{ChannelState, Notifications};
use domain::order::request::Fingerprint;
use domain::order::{
    DeliveryAddress, IdempotencyKey, IdempotencyRecord, Notes, Order, OrderLine, OrderNumber,
    Quantity, Totals,
};
use domain::product::{ProductName, Sku};
use domain::stock_buckets::Portion;
use domain::{Money, OrderId, Timestamp};
use serde::{Deserialize, Serialize};

use super::channel::ChannelRecord;
use super::message::MessageRecord;
use super::payment::PaymentRecord;
use super::{Gsi1, Gsi2, Gsi3, Gsi4, Gsi5, Gsi6, ItemHead, attr, cents, claim, decode, encode};
use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{Item, n, s};
use crate::keys;

const ORDER: &str = "order";
const IDEMPOTENCY: &str = "idempotency record";

fn timestamp(raw: &str) -> Result<Timestamp, Failure> {
    Timestamp::parse(raw).map_err(|_| Failure::record(ORDER, "invalid timestamp"))
}

fn optional_timestamp(raw: Option<&str>) -> Result<Option<Timestamp>, Failure> {
    raw.map(timestamp).transpose()
}

/// One line of an order, inside its `lines` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LineRecord {
    product_id: String,
    product_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    unit_price_cents: i64,
    quantity: u32,
    line_total_cents: i64,
    /// `[bucket, units]` pairs: where the units came from (none on lines placed before
    /// the stock was split: bucket 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    stock_from: Vec<[u32; 2]>,
}

impl LineRecord {
    fn of(line: &OrderLine) -> Result<Self, Failure> {
        Ok(Self {
            product_id: line.product_id.to_string(),
            product_name: line.product_name.as_str().to_owned(),
            sku: line.sku.as_ref().map(|s| s.as_str().to_owned()),
            unit_price_cents: cents(ORDER, line.unit_price)?,
            quantity: line.quantity.get(),
            line_total_cents: cents(ORDER, line.line_total)?,
            stock_from: line
                .stock_from
                .iter()
                .map(|p| {
                    Ok([
                        u32::try_from(p.bucket).map_err(|_| Failure::record(ORDER, "bucket"))?,
                        p.units,
                    ])
                })
                .collect::<Result<_, Failure>>()?,
        })
    }

    fn into_line(self) -> Result<OrderLine, Failure> {
        let invalid = |what: &'static str| Failure::record(ORDER, format!("invalid line {what}"));
        Ok(OrderLine {
            product_id: self.product_id.parse().map_err(|_| invalid("product_id"))?,
            product_name: ProductName::parse(&self.product_name)
                .map_err(|_| invalid("product_name"))?,
            sku: self
                .sku
                .as_deref()
                .map(Sku::parse)
                .transpose()
                .map_err(|_| invalid("sku"))?,
            unit_price: Money::from_minor_units(self.unit_price_cents),
            quantity: Quantity::new(i64::from(self.quantity)).map_err(|_| invalid("quantity"))?,
            line_total: Money::from_minor_units(self.line_total_cents),
            stock_from: self
                .stock_from
                .iter()
                .map(|&[bucket, units]| Portion {
                    bucket: bucket as usize,
                    units,
                })
                .collect(),
        })
    }
}

/// How far a one-off upgrade has got (its item is `keys::upgrade_progress`): one that
/// walks the orders newest first goes on below the order id `below`; each is `done` once
/// it has seen every item it walks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct UpgradeProgress {
    #[serde(default)]
    pub below: Option<String>,
    #[serde(default)]
    pub done: bool,
}

impl UpgradeProgress {
    pub fn decode(item: Item) -> Result<Self, Failure> {
        decode("upgrade progress", item)
    }

    /// The update that records one step of an upgrade which changed `changed` items (to
    /// which the caller adds where it goes on, or `done`, and its condition).
    pub fn step(changed: usize) -> Expr {
        Expr::new()
            .set(keys::ENTITY_TYPE, s(keys::entity::UPGRADE))
            .set(attr::UPDATED_AT, s(Timestamp::now().to_string()))
            .add(attr::UPGRADE_FILED, n(changed))
    }
}

/// The sparse GSI5 keys that list `order` among the orders with a failed notification
/// channel, to set in an update.
pub(crate) fn notification_failed_keys(order: OrderId) -> [(&'static str, AttributeValue); 2] {
    [
        (
            keys::GSI5PK,
            s(keys::notification_failed(keys::OrderShard::of(order))),
        ),
        (keys::GSI5SK, s(keys::order_list_order(order))),
    ]
}

/// `expr` that also lists `order` among the orders with a failed notification (GSI5).
pub(crate) fn listed_as_failed(mut expr: Expr, order: OrderId) -> Expr {
    for (attr, value) in notification_failed_keys(order) {
        expr = expr.set(attr, value);
    }
    expr
}

/// The sparse GSI6 keys that list `order` among the orders whose payments are open.
pub(crate) fn payments_open_keys(order: OrderId) -> [(&'static str, AttributeValue); 2] {
    [
        (
            keys::GSI6PK,
            s(keys::payments_open(keys::OrderShard::of(order))),
        ),
        (keys::GSI6SK, s(keys::order_list_order(order))),
    ]
}

/// The order's own attributes: in the order item, and as the idempotency record's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OrderFields {
    id: String,
    order_number: String,
    customer_id: String,
    status: String,
    lines: Vec<LineRecord>,
    subtotal_cents: i64,
    tax_amount_cents: i64,
    total_amount_cents: i64,
    currency: String,
    delivery_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    /// Absent while the channel has never been written (pending, version 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notification_sms: Option<ChannelRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notification_email: Option<ChannelRecord>,
    created_at: String,
    updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirmed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancelled_at: Option<String>,
    /// Its M-Pesa payments, oldest first (absent on orders never paid, and on every order
    /// stored before payments existed: they read as unpaid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    payments: Vec<PaymentRecord>,
    /// Payment writes so far (absent: 0); every payment write conditions on it.
    #[serde(default, skip_serializing_if = "is_zero")]
    payments_version: u64,
    /// When the order's hand-off to the notifier is due: written by [`HandOff`] (never
    /// from here), read here so that an order decodes as this one struct.
    #[serde(default, skip_serializing)]
    hand_off_due: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl OrderFields {
    fn of(order: &Order) -> Result<Self, Failure> {
        let written = |state: &ChannelState| {
            (*state != ChannelState::default()).then(|| ChannelRecord::of(state))
        };
        Ok(Self {
            id: order.id.to_string(),
            order_number: order.order_number.as_str().to_owned(),
            customer_id: order.customer_id.to_string(),
            status: order.status.as_str().to_owned(),
            lines: order
                .lines
                .iter()
                .map(LineRecord::of)
                .collect::<Result<_, _>>()?,
            subtotal_cents: cents(ORDER, order.totals.subtotal)?,
            tax_amount_cents: cents(ORDER, order.totals.tax_amount)?,
            total_amount_cents: cents(ORDER, order.totals.total_amount)?,
            currency: domain::order::pricing::CURRENCY.to_owned(),
            delivery_address: order.delivery_address.as_str().to_owned(),
            notes: order.notes.as_ref().map(|n| n.as_str().to_owned()),
            notification_sms: written(&order.notifications.sms),
            notification_email: written(&order.notifications.email),
            created_at: order.created_at.to_string(),
            updated_at: order.updated_at.to_string(),
            confirmed_at: order.confirmed_at.map(|t| t.to_string()),
            cancelled_at: order.cancelled_at.map(|t| t.to_string()),
            payments: order
                .payments
                .iter()
                .map(PaymentRecord::of)
                .collect::<Result<_, _>>()?,
            payments_version: order.payments_version,
            hand_off_due: None,
        })
    }

    fn into_order(self) -> Result<Order, Failure> {
        let hand_off_due = self.hand_off_due.as_deref();
        let invalid = |what: &'static str| Failure::record(ORDER, format!("invalid {what}"));
        let channel = |c: Option<ChannelRecord>| {
            c.map(ChannelRecord::into_state)
                .transpose()
                .map(Option::unwrap_or_default)
        };
        Ok(Order {
            id: self.id.parse().map_err(|_| invalid("id"))?,
            order_number: OrderNumber::parse(&self.order_number)
                .map_err(|_| invalid("order_number"))?,
            customer_id: self
                .customer_id
                .parse()
                .map_err(|_| invalid("customer_id"))?,
            status: self.status.parse().map_err(|_| invalid("status"))?,
            lines: self
                .lines
                .into_iter()
                .map(LineRecord::into_line)
                .collect::<Result<_, _>>()?,
            totals: Totals {
                subtotal: Money::from_minor_units(self.subtotal_cents),
                tax_amount: Money::from_minor_units(self.tax_amount_cents),
                total_amount: Money::from_minor_units(self.total_amount_cents),
            },
            delivery_address: DeliveryAddress::parse(&self.delivery_address)
                .map_err(|_| invalid("delivery_address"))?,
            notes: self
                .notes
                .as_deref()
                .map(Notes::parse)
                .transpose()
                .map_err(|_| invalid("notes"))?,
            notifications: Notifications {
                sms: channel(self.notification_sms)?,
                email: channel(self.notification_email)?,
            },
            created_at: timestamp(&self.created_at)?,
            updated_at: timestamp(&self.updated_at)?,
            confirmed_at: optional_timestamp(self.confirmed_at.as_deref())?,
            cancelled_at: optional_timestamp(self.cancelled_at.as_deref())?,
            hand_off_due: optional_timestamp(hand_off_due)?,
            payments: self
                .payments
                .into_iter()
                .map(PaymentRecord::into_payment)
                .collect::<Result<_, _>>()?,
            payments_version: self.payments_version,
            messages: Vec::new(),
        })
    }
}

/// An order as stored, with the keys of every list it appears in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OrderRecord {
    #[serde(flatten)]
    head: ItemHead,
    #[serde(flatten)]
    gsi1: Gsi1,
    #[serde(flatten)]
    gsi2: Gsi2,
    #[serde(flatten)]
    gsi3: Gsi3,
    #[serde(flatten)]
    fields: OrderFields,
    #[serde(default)]
    hand_off_resends: u32,
    #[serde(flatten)]
    hand_off: Option<HandOff>,
    /// Present while a notification channel is `failed` (sparse GSI5).
    #[serde(flatten)]
    notification_failed: Option<Gsi5>,
    /// What the payments add up to, for `?payment_status=` (absent on orders stored
    /// before payments existed: unpaid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_status: Option<String>,
    /// Present while its payments are open (sparse GSI6).
    #[serde(flatten)]
    payments_open: Option<Gsi6>,
}

/// The sparse GSI4 attributes that put an order in the reconciler's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HandOff {
    #[serde(flatten)]
    gsi4: Gsi4,
    hand_off_due: String,
}

impl HandOff {
    /// The hand-off of `order`, due at `due`.
    pub fn of(order: OrderId, due: Timestamp) -> Self {
        Self {
            gsi4: Gsi4::new(
                keys::hand_offs_due(keys::OrderShard::of(order)),
                keys::hand_off_due(due, order),
            ),
            hand_off_due: due.to_string(),
        }
    }

    /// Its attributes, to set in an update.
    pub fn into_attributes(self) -> [(&'static str, AttributeValue); 3] {
        [
            (keys::GSI4PK, s(self.gsi4.pk)),
            (keys::GSI4SK, s(self.gsi4.sk)),
            (attr::HAND_OFF_DUE, s(self.hand_off_due)),
        ]
    }
}

impl OrderRecord {
    /// The full item of a new order.
    pub fn encode_new(order: &Order) -> Result<Item, Failure> {
        let key = keys::order(order.id);
        let listed = keys::order_list_order(order.id);
        let shard = keys::OrderShard::of(order.id);
        encode(
            ORDER,
            &OrderRecord {
                head: ItemHead::new(key, keys::entity::ORDER),
                gsi1: Gsi1::new(keys::customer_orders(order.customer_id), listed.clone()),
                gsi2: Gsi2::new(keys::order_list(shard), listed.clone()),
                gsi3: Gsi3::new(keys::orders_in_status(order.status, shard), listed),
                fields: OrderFields::of(order)?,
                hand_off_resends: 0,
                hand_off: order.hand_off_due.map(|due| HandOff::of(order.id, due)),
                notification_failed: order.notifications.any_failed().then(|| {
                    Gsi5::new(
                        keys::notification_failed(shard),
                        keys::order_list_order(order.id),
                    )
                }),
                payment_status: Some(order.payment_marks().status.as_str().to_owned()),
                payments_open: order.payment_marks().open.then(|| {
                    Gsi6::new(keys::payments_open(shard), keys::order_list_order(order.id))
                }),
            },
        )
    }

    /// The order a stored item holds, with its customer messages.
    pub fn decode(item: Item) -> Result<Order, Failure> {
        let messages = MessageRecord::all_in(&item)?;
        // The order's own fields as one struct: the keys and index keys are skipped unread
        // (decoding the record, its flattened parts would buffer every attribute first).
        let fields: OrderFields = decode(ORDER, item)?;
        let mut order = fields.into_order()?;
        order.messages = messages;
        Ok(order)
    }
}

/// The item that claims an order number.
pub(crate) fn encode_number_claim(order: &Order) -> Result<Item, Failure> {
    claim(
        keys::order_number_claim(&order.order_number),
        keys::entity::ORDER_NUMBER,
        order.id.to_string(),
    )
}

/// An idempotency record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdempotencyItem {
    #[serde(flatten)]
    head: ItemHead,
    customer_id: String,
    idempotency_key: String,
    request_hash: String,
    /// The order as the first response returned it.
    order: OrderFields,
    /// Epoch seconds; the table's TTL attribute.
    expires_at: i64,
}

impl IdempotencyItem {
    /// The item of `record`.
    pub fn encode(record: &IdempotencyRecord) -> Result<Item, Failure> {
        let key = keys::idempotency(record.customer_id, &record.key);
        encode(
            IDEMPOTENCY,
            &IdempotencyItem {
                head: ItemHead::new(key, keys::entity::IDEMPOTENCY),
                customer_id: record.customer_id.to_string(),
                idempotency_key: record.key.as_str().to_owned(),
                request_hash: record.fingerprint.0.clone(),
                order: OrderFields::of(&record.order)?,
                expires_at: record.expires_at.unix_seconds(),
            },
        )
    }

    /// The record in `item`, or `None` when it has expired (DynamoDB deletes expired items
    /// only eventually).
    pub fn decode(item: Item, now: Timestamp) -> Result<Option<IdempotencyRecord>, Failure> {
        let r: IdempotencyItem = decode(IDEMPOTENCY, item)?;
        if r.expires_at <= now.unix_seconds() {
            return Ok(None);
        }
        let invalid = |what: &'static str| Failure::record(IDEMPOTENCY, format!("invalid {what}"));
        let expires_at = time::OffsetDateTime::from_unix_timestamp(r.expires_at)
            .map(Timestamp::from_datetime)
            .map_err(|_| invalid("expires_at"))?;
        Ok(Some(IdempotencyRecord {
            customer_id: r.customer_id.parse().map_err(|_| invalid("customer_id"))?,
            key: IdempotencyKey::parse(&r.idempotency_key).map_err(|_| invalid("key"))?,
            fingerprint: Fingerprint(r.request_hash),
            order: r.order.into_order()?,
            expires_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use domain::CustomerId;
    use domain::notification::{ChannelStatus, Delivery, ErrorClass};
    use domain::order::OrderStatus;
    use domain::testing::OrderBuilder;

    use super::*;

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.to_owned())
    }

    /// A confirmed order with notes, of two lines: 4500.02 before VAT.
    fn order() -> OrderBuilder {
        OrderBuilder::new()
            .status(OrderStatus::Confirmed)
            .line("Phone", Some("PH-1"), "1499.99", 3)
            .line("Case", None, "0.05", 1)
            .notes("ring twice")
    }

    #[test]
    fn orders_round_trip_with_exact_cents_and_their_list_keys() {
        let due = Timestamp::now();
        let order = order().hand_off_due(due).build();
        let item = OrderRecord::encode_new(&order).expect("encodes");
        assert_eq!(item.get("subtotal_cents"), Some(&n("450002")));
        let shard = keys::OrderShard::of(order.id);
        assert_eq!(
            item.get(keys::GSI3PK),
            Some(&s(format!("ORDER_STATUS#CONFIRMED#{shard}")))
        );
        assert_eq!(item.get(keys::GSI2PK), Some(&s(format!("ORDERS#{shard}"))));
        assert_eq!(
            item.get(keys::GSI4PK),
            Some(&s(format!("HAND_OFF_DUE#{shard}")))
        );
        assert_eq!(
            item.get(keys::GSI4SK),
            Some(&s(keys::hand_off_due(due, order.id)))
        );
        assert_eq!(item.get(attr::HAND_OFF_RESENDS), Some(&n("0")));
        assert_eq!(item.get(attr::STATUS), Some(&s("CONFIRMED")));
        assert_eq!(OrderRecord::decode(item.clone()).expect("decodes"), order);
    }

    #[test]
    fn notification_states_round_trip_and_a_fresh_order_writes_none() {
        let mut order = order().build();
        let fresh = OrderRecord::encode_new(&order).expect("encodes");
        assert!(!fresh.contains_key(attr::NOTIFICATION_SMS));
        assert!(!fresh.contains_key(attr::NOTIFICATION_EMAIL));
        order.notifications.sms = ChannelState {
            status: domain::notification::ChannelStatus::Sent,
            attempts: 2,
            last_error: Some(ErrorClass::new("http_5xx")),
            message_id: Some("ATXid_1".into()),
            claimed_at: None,
            version: 4,
            delivery: Some(Delivery::Undelivered(ErrorClass::new("AbsentSubscriber"))),
        };
        order.notifications.email = ChannelState {
            attempts: 1,
            claimed_at: Some(Timestamp::now()),
            version: 1,
            ..ChannelState::default()
        };
        let item = OrderRecord::encode_new(&order).expect("encodes");
        let Some(AttributeValue::M(sms)) = item.get(attr::NOTIFICATION_SMS) else {
            panic!("sms channel map");
        };
        assert_eq!(sms.get(attr::VERSION), Some(&n("4")));
        assert_eq!(sms.get(attr::MESSAGE_ID), Some(&s("ATXid_1")));
        assert_eq!(sms.get(attr::DELIVERY), Some(&s("undelivered")));
        assert_eq!(
            sms.get(attr::DELIVERY_REASON),
            Some(&s("absent_subscriber"))
        );
        assert_eq!(OrderRecord::decode(item.clone()).expect("decodes"), order);
        assert!(order.sms_sent() && !order.email_sent());
        assert_eq!(
            ChannelRecord::encode(&order.notifications.sms).expect("encodes"),
            AttributeValue::M(sms.clone()),
            "an update writes the map the order item holds"
        );
    }

    #[test]
    fn only_an_order_with_a_failed_channel_is_in_the_failed_notifications_index() {
        let mut order = order().build();
        let clean = OrderRecord::encode_new(&order).expect("encodes");
        assert!(!clean.contains_key(keys::GSI5PK) && !clean.contains_key(keys::GSI5SK));
        order.notifications.email.status = ChannelStatus::Failed;
        order.notifications.email.version = 2;
        let item = OrderRecord::encode_new(&order).expect("encodes");
        let shard = keys::OrderShard::of(order.id);
        let [(pk_attr, pk), (sk_attr, sk)] = notification_failed_keys(order.id);
        assert_eq!((pk_attr, sk_attr), (keys::GSI5PK, keys::GSI5SK));
        assert_eq!(item.get(keys::GSI5PK), Some(&pk));
        assert_eq!(pk, s(format!("NOTIFICATION_FAILED#{shard}")));
        assert_eq!(item.get(keys::GSI5SK), Some(&sk));
        assert_eq!(sk, s(order.id.to_string()));
        assert_eq!(OrderRecord::decode(item).expect("decodes"), order);
    }

    #[test]
    fn upgrade_progress_reads_the_attributes_its_updates_write() {
        let item: Item = [
            (keys::PK.to_owned(), s("UPGRADE#NOTIFICATION_FAILED")),
            (
                attr::UPGRADE_BELOW.to_owned(),
                s("01J00000000000000000000RD1"),
            ),
            (attr::UPGRADE_DONE.to_owned(), AttributeValue::Bool(true)),
            (attr::UPGRADE_FILED.to_owned(), n("3")),
        ]
        .into();
        assert_eq!(
            UpgradeProgress::decode(item).expect("decodes"),
            UpgradeProgress {
                below: Some("01J00000000000000000000RD1".into()),
                done: true
            }
        );
        assert_eq!(
            UpgradeProgress::decode(Item::new()).expect("decodes"),
            UpgradeProgress::default(),
            "not started"
        );
    }

    #[test]
    fn orders_without_a_pending_hand_off_stay_out_of_the_sparse_index() {
        let item = OrderRecord::encode_new(&order().build()).expect("encodes");
        assert!(!item.contains_key(keys::GSI4PK));
        assert!(!item.contains_key(keys::GSI4SK));
        assert!(!item.contains_key(attr::HAND_OFF_DUE));
    }

    #[test]
    fn idempotency_records_round_trip_until_they_expire() {
        let now = Timestamp::parse("2026-11-25T10:00:00.000Z").expect("now");
        let record = IdempotencyRecord {
            customer_id: CustomerId::generate(),
            key: IdempotencyKey::parse("k-1").expect("key"),
            fingerprint: Fingerprint("ab".repeat(32)),
            order: order().build(),
            expires_at: now.after(std::time::Duration::from_secs(86_400)),
        };
        let item = IdempotencyItem::encode(&record).expect("encodes");
        assert!(matches!(
            item.get(attr::EXPIRES_AT),
            Some(AttributeValue::N(_))
        ));
        assert_eq!(
            IdempotencyItem::decode(item.clone(), now).expect("decodes"),
            Some(record.clone())
        );
        let later = now.after(std::time::Duration::from_secs(86_400));
        assert_eq!(
            IdempotencyItem::decode(item.clone(), later).expect("decodes"),
            None
        );
    }

    #[test]
    fn a_malformed_order_is_an_error_naming_the_record() {
        let mut item = OrderRecord::encode_new(&order().build()).expect("encodes");
        item.insert(attr::STATUS.into(), s("LOST"));
        let err = OrderRecord::decode(item.clone()).expect_err("bad status");
        assert!(err.to_string().starts_with("order item"), "{err}");
    }
}
