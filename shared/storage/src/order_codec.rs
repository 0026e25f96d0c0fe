//! Conversion between orders (and idempotency records) and DynamoDB items. Amounts are
//! exact DynamoDB numbers; lines are a list of maps inside the order item, so an order
//! and all its lines are one item (one read, one write).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::notification::{Channel, ChannelState, ErrorClass, Notifications};
use domain::order::request::Fingerprint;
use domain::order::{
    DeliveryAddress, IdempotencyRecord, Notes, Order, OrderLine, OrderNumber, OrderStatus,
    Quantity, Totals,
};
use domain::product::{ProductName, Sku};
use domain::{Money, Timestamp};
use rust_decimal::Decimal;

use crate::item::{Fields, Item, MalformedItem, key, n, s};
use crate::keys;

/// Order attribute names.
pub(crate) mod order_attr {
    pub const ID: &str = "id";
    pub const ORDER_NUMBER: &str = "order_number";
    pub const CUSTOMER_ID: &str = "customer_id";
    pub const STATUS: &str = "status";
    pub const LINES: &str = "lines";
    pub const SUBTOTAL: &str = "subtotal";
    pub const TAX_AMOUNT: &str = "tax_amount";
    pub const TOTAL_AMOUNT: &str = "total_amount";
    pub const CURRENCY: &str = "currency";
    pub const DELIVERY_ADDRESS: &str = "delivery_address";
    pub const NOTES: &str = "notes";
    /// The customer's SMS: a map of [`notification_attr`]s; absent until the notifier
    /// first writes it (a pending channel at version 0).
    pub const NOTIFICATION_SMS: &str = "notification_sms";
    /// The admin's email, like [`NOTIFICATION_SMS`].
    pub const NOTIFICATION_EMAIL: &str = "notification_email";
    pub const CREATED_AT: &str = "created_at";
    pub const UPDATED_AT: &str = "updated_at";
    pub const CONFIRMED_AT: &str = "confirmed_at";
    pub const CANCELLED_AT: &str = "cancelled_at";
    /// When the reconciler should (re-)send the confirmation; present only while the
    /// notifier has not acknowledged it (with the GSI4 keys).
    pub const HAND_OFF_DUE: &str = "hand_off_due";
    /// Re-sends of the confirmation so far.
    pub const HAND_OFF_RESENDS: &str = "hand_off_resends";
}

/// Order line attribute names (inside `lines`).
mod line_attr {
    pub const PRODUCT_ID: &str = "product_id";
    pub const PRODUCT_NAME: &str = "product_name";
    pub const SKU: &str = "sku";
    pub const UNIT_PRICE: &str = "unit_price";
    pub const QUANTITY: &str = "quantity";
    pub const LINE_TOTAL: &str = "line_total";
}

/// Attribute names inside a notification channel's map.
pub(crate) mod notification_attr {
    pub const STATUS: &str = "status";
    pub const ATTEMPTS: &str = "attempts";
    pub const LAST_ERROR: &str = "last_error";
    pub const MESSAGE_ID: &str = "message_id";
    pub const CLAIMED_AT: &str = "claimed_at";
    /// Bumped by every write; writes are conditioned on it.
    pub const VERSION: &str = "version";
}

/// The order attribute holding `channel`'s state.
pub(crate) fn channel_attr(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => order_attr::NOTIFICATION_SMS,
        Channel::Email => order_attr::NOTIFICATION_EMAIL,
    }
}

/// A channel's state as a map.
pub(crate) fn encode_channel(state: &ChannelState) -> AttributeValue {
    use notification_attr::*;
    let mut map = HashMap::from([
        (STATUS.to_owned(), s(state.status.as_str())),
        (ATTEMPTS.to_owned(), n(state.attempts)),
        (VERSION.to_owned(), n(state.version)),
    ]);
    let optional = [
        (LAST_ERROR, state.last_error.as_ref().map(|c| s(c.as_str()))),
        (MESSAGE_ID, state.message_id.as_deref().map(s)),
        (CLAIMED_AT, state.claimed_at.map(|t| s(t.to_string()))),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            map.insert(name.to_owned(), value);
        }
    }
    AttributeValue::M(map)
}

/// The state of `channel` on the order `item` (absent: pending, never written).
fn decode_channel(item: &Item, channel: Channel) -> Result<ChannelState, MalformedItem> {
    use notification_attr::*;
    let attr = channel_attr(channel);
    let map = match item.get(attr) {
        None => return Ok(ChannelState::default()),
        Some(AttributeValue::M(map)) => map,
        Some(_) => return Err(MalformedItem(attr)),
    };
    let f = Fields(map);
    Ok(ChannelState {
        status: f.parse(STATUS)?,
        attempts: f.number(ATTEMPTS)?,
        last_error: f.opt_str(LAST_ERROR)?.map(ErrorClass::new),
        message_id: f.opt_str(MESSAGE_ID)?.map(str::to_owned),
        claimed_at: optional_timestamp(&f, CLAIMED_AT)?,
        version: f.number(VERSION)?,
    })
}

/// Idempotency record attribute names.
pub(crate) mod idempotency_attr {
    pub const CUSTOMER_ID: &str = "customer_id";
    pub const KEY: &str = "idempotency_key";
    pub const REQUEST_HASH: &str = "request_hash";
    /// The order as the first response returned it (a map of order attributes).
    pub const ORDER: &str = "order";
    /// Epoch seconds; the table's TTL attribute.
    pub const EXPIRES_AT: &str = "expires_at";
}

fn money(value: Money) -> AttributeValue {
    n(value.as_decimal())
}

fn encode_line(line: &OrderLine) -> AttributeValue {
    use line_attr::*;
    let mut map = HashMap::from([
        (PRODUCT_ID.to_owned(), s(line.product_id.to_string())),
        (PRODUCT_NAME.to_owned(), s(line.product_name.as_str())),
        (UNIT_PRICE.to_owned(), money(line.unit_price)),
        (QUANTITY.to_owned(), n(line.quantity.get())),
        (LINE_TOTAL.to_owned(), money(line.line_total)),
    ]);
    if let Some(sku) = &line.sku {
        map.insert(SKU.to_owned(), s(sku.as_str()));
    }
    AttributeValue::M(map)
}

fn decode_line(value: &AttributeValue) -> Result<OrderLine, MalformedItem> {
    use line_attr::*;
    let AttributeValue::M(map) = value else {
        return Err(MalformedItem(order_attr::LINES));
    };
    let f = Fields(map);
    let amount = |name| f.number::<Decimal>(name).map(Money::from_decimal);
    Ok(OrderLine {
        product_id: f.parse(PRODUCT_ID)?,
        product_name: ProductName::parse(f.str(PRODUCT_NAME)?)
            .map_err(|_| MalformedItem(PRODUCT_NAME))?,
        sku: f
            .opt_str(SKU)?
            .map(Sku::parse)
            .transpose()
            .map_err(|_| MalformedItem(SKU))?,
        unit_price: amount(UNIT_PRICE)?,
        quantity: Quantity::new(f.number(QUANTITY)?).map_err(|_| MalformedItem(QUANTITY))?,
        line_total: amount(LINE_TOTAL)?,
    })
}

/// The order's own attributes, without keys.
fn order_attributes(order: &Order) -> Item {
    use order_attr::*;
    let mut item = HashMap::from([
        (ID.to_owned(), s(order.id.to_string())),
        (ORDER_NUMBER.to_owned(), s(order.order_number.as_str())),
        (CUSTOMER_ID.to_owned(), s(order.customer_id.to_string())),
        (STATUS.to_owned(), s(order.status.as_str())),
        (
            LINES.to_owned(),
            AttributeValue::L(order.lines.iter().map(encode_line).collect()),
        ),
        (SUBTOTAL.to_owned(), money(order.totals.subtotal)),
        (TAX_AMOUNT.to_owned(), money(order.totals.tax_amount)),
        (TOTAL_AMOUNT.to_owned(), money(order.totals.total_amount)),
        (CURRENCY.to_owned(), s(domain::order::pricing::CURRENCY)),
        (
            DELIVERY_ADDRESS.to_owned(),
            s(order.delivery_address.as_str()),
        ),
        (CREATED_AT.to_owned(), s(order.created_at.to_string())),
        (UPDATED_AT.to_owned(), s(order.updated_at.to_string())),
    ]);
    let written =
        |state: &ChannelState| (*state != ChannelState::default()).then(|| encode_channel(state));
    let optional = [
        (NOTES, order.notes.as_ref().map(|n| s(n.as_str()))),
        (CONFIRMED_AT, order.confirmed_at.map(|t| s(t.to_string()))),
        (CANCELLED_AT, order.cancelled_at.map(|t| s(t.to_string()))),
        (NOTIFICATION_SMS, written(&order.notifications.sms)),
        (NOTIFICATION_EMAIL, written(&order.notifications.email)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            item.insert(name.to_owned(), value);
        }
    }
    item
}

/// The GSI4 attributes that put an order in the reconciler's queue, due at `due`.
pub(crate) fn hand_off_attributes(
    order: domain::OrderId,
    due: Timestamp,
) -> [(String, AttributeValue); 3] {
    [
        (keys::GSI4PK.to_owned(), s(keys::HAND_OFF_DUE)),
        (keys::GSI4SK.to_owned(), s(keys::hand_off_due(due, order))),
        (order_attr::HAND_OFF_DUE.to_owned(), s(due.to_string())),
    ]
}

/// The full item of a new order, with the keys of every list it appears in.
pub(crate) fn encode_order(order: &Order) -> Item {
    let mut item = key(&keys::order(order.id));
    item.extend(order_attributes(order));
    item.extend([
        (keys::ENTITY_TYPE.to_owned(), s(keys::entity::ORDER)),
        (
            keys::GSI1PK.to_owned(),
            s(keys::customer_orders(order.customer_id)),
        ),
        (keys::GSI1SK.to_owned(), s(keys::order_list_order(order.id))),
        (keys::GSI2PK.to_owned(), s(keys::ORDER_LIST)),
        (keys::GSI2SK.to_owned(), s(keys::order_list_order(order.id))),
        (
            keys::GSI3PK.to_owned(),
            s(keys::orders_in_status(order.status)),
        ),
        (keys::GSI3SK.to_owned(), s(keys::order_list_order(order.id))),
        (order_attr::HAND_OFF_RESENDS.to_owned(), n(0)),
    ]);
    if let Some(due) = order.hand_off_due {
        item.extend(hand_off_attributes(order.id, due));
    }
    item
}

fn optional_timestamp(
    f: &Fields<'_>,
    name: &'static str,
) -> Result<Option<Timestamp>, MalformedItem> {
    f.opt_str(name)?
        .map(|t| Timestamp::parse(t).map_err(|_| MalformedItem(name)))
        .transpose()
}

pub(crate) fn decode_order(item: &Item) -> Result<Order, MalformedItem> {
    use order_attr::*;
    let f = Fields(item);
    let amount = |name| f.number::<Decimal>(name).map(Money::from_decimal);
    let Some(AttributeValue::L(lines)) = item.get(LINES) else {
        return Err(MalformedItem(LINES));
    };
    Ok(Order {
        id: f.parse(ID)?,
        order_number: OrderNumber::parse(f.str(ORDER_NUMBER)?)
            .map_err(|_| MalformedItem(ORDER_NUMBER))?,
        customer_id: f.parse(CUSTOMER_ID)?,
        status: f.parse::<OrderStatus>(STATUS)?,
        lines: lines.iter().map(decode_line).collect::<Result<_, _>>()?,
        totals: Totals {
            subtotal: amount(SUBTOTAL)?,
            tax_amount: amount(TAX_AMOUNT)?,
            total_amount: amount(TOTAL_AMOUNT)?,
        },
        delivery_address: DeliveryAddress::parse(f.str(DELIVERY_ADDRESS)?)
            .map_err(|_| MalformedItem(DELIVERY_ADDRESS))?,
        notes: f
            .opt_str(NOTES)?
            .map(Notes::parse)
            .transpose()
            .map_err(|_| MalformedItem(NOTES))?,
        notifications: Notifications {
            sms: decode_channel(item, Channel::Sms)?,
            email: decode_channel(item, Channel::Email)?,
        },
        created_at: f.timestamp(CREATED_AT)?,
        updated_at: f.timestamp(UPDATED_AT)?,
        confirmed_at: optional_timestamp(&f, CONFIRMED_AT)?,
        cancelled_at: optional_timestamp(&f, CANCELLED_AT)?,
        hand_off_due: optional_timestamp(&f, HAND_OFF_DUE)?,
    })
}

/// The item that claims an order number.
pub(crate) fn encode_order_number_claim(order: &Order) -> Item {
    let mut item = key(&keys::order_number_claim(&order.order_number));
    item.insert(keys::ENTITY_TYPE.to_owned(), s(keys::entity::ORDER_NUMBER));
    item.insert(order_attr::ID.to_owned(), s(order.id.to_string()));
    item
}

pub(crate) fn encode_idempotency(record: &IdempotencyRecord) -> Item {
    use idempotency_attr::*;
    let mut item = key(&keys::idempotency(record.customer_id, &record.key));
    item.extend([
        (keys::ENTITY_TYPE.to_owned(), s(keys::entity::IDEMPOTENCY)),
        (CUSTOMER_ID.to_owned(), s(record.customer_id.to_string())),
        (KEY.to_owned(), s(record.key.as_str())),
        (REQUEST_HASH.to_owned(), s(&record.fingerprint.0)),
        (
            ORDER.to_owned(),
            AttributeValue::M(order_attributes(&record.order)),
        ),
        (EXPIRES_AT.to_owned(), n(record.expires_at.unix_seconds())),
    ]);
    item
}

/// The record in `item`, or `None` when it has expired (DynamoDB deletes expired items
/// only eventually).
pub(crate) fn decode_idempotency(
    item: &Item,
    now: Timestamp,
) -> Result<Option<IdempotencyRecord>, MalformedItem> {
    use idempotency_attr::*;
    let f = Fields(item);
    let expires: i64 = f.number(EXPIRES_AT)?;
    if expires <= now.unix_seconds() {
        return Ok(None);
    }
    let Some(AttributeValue::M(order)) = item.get(ORDER) else {
        return Err(MalformedItem(ORDER));
    };
    let expires_at = time::OffsetDateTime::from_unix_timestamp(expires)
        .map(Timestamp::from_datetime)
        .map_err(|_| MalformedItem(EXPIRES_AT))?;
    Ok(Some(IdempotencyRecord {
        customer_id: f.parse(CUSTOMER_ID)?,
        key: domain::order::IdempotencyKey::parse(f.str(KEY)?).map_err(|_| MalformedItem(KEY))?,
        fingerprint: Fingerprint(f.str(REQUEST_HASH)?.to_owned()),
        order: decode_order(order)?,
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::order::{IdempotencyKey, VatRate};
    use domain::{CustomerId, OrderId, ProductId};

    fn order(hand_off_due: Option<Timestamp>) -> Order {
        let now = Timestamp::now();
        let lines = vec![
            OrderLine::new(
                ProductId::generate(),
                ProductName::parse("Phone").expect("name"),
                Some(Sku::parse("PH-1").expect("sku")),
                Money::parse_price("1499.99").expect("price"),
                Quantity::new(3).expect("quantity"),
            ),
            OrderLine::new(
                ProductId::generate(),
                ProductName::parse("Case").expect("name"),
                None,
                Money::parse_price("0.05").expect("price"),
                Quantity::new(1).expect("quantity"),
            ),
        ];
        Order {
            id: OrderId::generate(),
            order_number: OrderNumber::generate(now),
            customer_id: CustomerId::generate(),
            status: OrderStatus::Confirmed,
            totals: Totals::of(&lines, VatRate::kenya_standard()),
            lines,
            delivery_address: DeliveryAddress::parse("Moi Avenue 1").expect("address"),
            notes: Some(Notes::parse("ring twice").expect("notes")),
            notifications: Notifications::default(),
            created_at: now,
            updated_at: now,
            confirmed_at: Some(now),
            cancelled_at: None,
            hand_off_due,
        }
    }

    #[test]
    fn orders_round_trip_with_exact_amounts_and_their_list_keys() {
        let due = Timestamp::now();
        let order = order(Some(due));
        let item = encode_order(&order);
        assert_eq!(item.get(order_attr::SUBTOTAL), Some(&n("4500.02")));
        assert_eq!(item.get(keys::GSI3PK), Some(&s("ORDER_STATUS#CONFIRMED")));
        assert_eq!(
            item.get(keys::GSI4SK),
            Some(&s(keys::hand_off_due(due, order.id)))
        );
        assert_eq!(decode_order(&item).expect("decodes"), order);
    }

    #[test]
    fn notification_states_round_trip_and_a_fresh_order_writes_none() {
        let mut order = order(None);
        let fresh = encode_order(&order);
        assert!(!fresh.contains_key(order_attr::NOTIFICATION_SMS));
        assert!(!fresh.contains_key(order_attr::NOTIFICATION_EMAIL));
        order.notifications.sms = ChannelState {
            status: domain::notification::ChannelStatus::Sent,
            attempts: 2,
            last_error: Some(ErrorClass::new("http_5xx")),
            message_id: Some("ATXid_1".into()),
            claimed_at: None,
            version: 4,
        };
        order.notifications.email = ChannelState {
            attempts: 1,
            claimed_at: Some(Timestamp::now()),
            version: 1,
            ..ChannelState::default()
        };
        let item = encode_order(&order);
        assert_eq!(decode_order(&item).expect("decodes"), order);
        assert!(order.sms_sent() && !order.email_sent());
    }

    #[test]
    fn orders_without_a_pending_hand_off_stay_out_of_the_sparse_index() {
        let item = encode_order(&order(None));
        assert!(!item.contains_key(keys::GSI4PK));
        assert!(!item.contains_key(keys::GSI4SK));
    }

    #[test]
    fn idempotency_records_round_trip_until_they_expire() {
        let now = Timestamp::parse("2026-11-25T10:00:00.000Z").expect("now");
        let record = IdempotencyRecord {
            customer_id: CustomerId::generate(),
            key: IdempotencyKey::parse("k-1").expect("key"),
            fingerprint: Fingerprint("ab".repeat(32)),
            order: order(None),
            expires_at: now.after(std::time::Duration::from_secs(86_400)),
        };
        let item = encode_idempotency(&record);
        assert_eq!(
            decode_idempotency(&item, now).expect("decodes"),
            Some(record.clone())
        );
        let later = now.after(std::time::Duration::from_secs(86_400));
        assert_eq!(decode_idempotency(&item, later).expect("decodes"), None);
    }
}
