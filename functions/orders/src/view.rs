//! The order as the API shows it (docs/api.md, Orders): with its M-Pesa payments and
//! what they add up to (docs/payments.md). Admins also see where each notification
//! channel stands; customers never do.

use domain::customer::Customer;
use domain::notification::{Channel, ChannelState, Delivery, Notifications};
use domain::order::{Order, OrderLine};
use domain::{CustomerId, Money, OrderId, ProductId, Timestamp};
use http_api::payment::PaymentView;
use serde::Serialize;

/// One line of an order.
#[derive(Debug, Serialize)]
pub struct LineView {
    pub product_id: ProductId,
    pub product_name: String,
    pub sku: Option<String>,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
}

impl From<&OrderLine> for LineView {
    fn from(line: &OrderLine) -> Self {
        Self {
            product_id: line.product_id,
            product_name: line.product_name.as_str().to_owned(),
            sku: line.sku.as_ref().map(|s| s.as_str().to_owned()),
            unit_price: line.unit_price,
            quantity: line.quantity.get(),
            line_total: line.line_total,
        }
    }
}

/// An order.
#[derive(Debug, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub order_number: String,
    pub customer_id: CustomerId,
    pub status: &'static str,
    pub items: Vec<LineView>,
    pub subtotal: Money,
    pub tax_amount: Money,
    pub total_amount: Money,
    pub currency: &'static str,
    pub delivery_address: String,
    pub notes: Option<String>,
    pub sms_sent: bool,
    pub email_sent: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub confirmed_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    /// `refunded`, `refund_pending`, `paid`, `partially_paid`, `pending` or `unpaid`.
    pub payment_status: &'static str,
    /// The Paybill account number of the order.
    pub payment_reference: String,
    pub amount_paid: Money,
    /// What is still owed, rounded up to whole shillings.
    pub amount_due: Money,
    /// Oldest first.
    pub payments: Vec<PaymentView>,
    /// Admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationsView>,
    /// Admins only: every message about the order, oldest first — the confirmation's SMS
    /// and email, then the customer's texts through the order's life.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageView>>,
    /// Admins' lists only: who ordered, by name and e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerCard>,
}

/// Who placed an order, as staff's lists show it. `name` and `email` are null when the
/// customer's item is gone.
#[derive(Debug, Serialize)]
pub struct CustomerCard {
    pub id: CustomerId,
    pub name: Option<String>,
    pub email: Option<String>,
}

impl CustomerCard {
    /// The customer `id`, as `found` (if found).
    pub fn new(id: CustomerId, found: Option<&Customer>) -> Self {
        Self {
            id,
            name: found.map(|c| c.name.as_str().to_owned()),
            email: found.map(|c| c.email.clone()),
        }
    }
}

/// One message about an order, as admins see it.
#[derive(Debug, Serialize)]
pub struct MessageView {
    /// `order.confirmed`, `payment.received`, `order.shipped`, `order.delivered`,
    /// `order.cancelled` or `payment.reversed`.
    pub event: &'static str,
    /// `sms` or `email`.
    pub channel: &'static str,
    /// `pending`, `sent`, `skipped` or `failed`.
    pub status: &'static str,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// `delivered` or `undelivered`, once the provider reported it.
    pub delivery: Option<&'static str>,
    pub sent_at: Option<Timestamp>,
}

impl MessageView {
    /// `state` of an `event`'s message on `channel`; an undelivered SMS's reason is its
    /// `last_error`.
    fn of(event: &'static str, channel: &'static str, state: &ChannelState) -> Self {
        let undelivered = match &state.delivery {
            Some(Delivery::Undelivered(reason)) => Some(reason.as_str().to_owned()),
            _ => None,
        };
        Self {
            event,
            channel,
            status: state.status.as_str(),
            attempts: state.attempts,
            last_error: undelivered
                .or_else(|| state.last_error.as_ref().map(|c| c.as_str().to_owned())),
            delivery: state.delivery.as_ref().map(Delivery::as_str),
            sent_at: None,
        }
    }

    /// Every message about `order`: the confirmation's (once it was confirmed), then its
    /// customer messages in the order their events happened.
    fn all(order: &Order) -> Vec<Self> {
        let mut all = Vec::new();
        if order.confirmed_at.is_some() {
            for channel in Channel::ALL {
                let state = order.notifications.get(channel);
                all.push(Self::of("order.confirmed", channel.as_str(), state));
            }
        }
        for message in &order.messages {
            let mut view = Self::of(message.event.name(), Channel::Sms.as_str(), &message.state);
            view.sent_at = message.sent_at;
            all.push(view);
        }
        all
    }
}

/// One notification channel, as admins see it.
#[derive(Debug, Serialize)]
pub struct ChannelView {
    /// `pending`, `sent`, `skipped` or `failed`.
    pub status: &'static str,
    pub attempts: u32,
    /// Class of the last failure (or why it was skipped), e.g. `http_5xx`.
    pub last_error: Option<String>,
    /// The provider's message id, once sent.
    pub message_id: Option<String>,
}

impl From<&ChannelState> for ChannelView {
    fn from(state: &ChannelState) -> Self {
        Self {
            status: state.status.as_str(),
            attempts: state.attempts,
            last_error: state.last_error.as_ref().map(|c| c.as_str().to_owned()),
            message_id: state.message_id.clone(),
        }
    }
}

/// Both channels of an order.
#[derive(Debug, Serialize)]
pub struct NotificationsView {
    pub sms: ChannelView,
    pub email: ChannelView,
}

impl From<&Notifications> for NotificationsView {
    fn from(n: &Notifications) -> Self {
        Self {
            sms: ChannelView::from(&n.sms),
            email: ChannelView::from(&n.email),
        }
    }
}

impl OrderView {
    /// `order` as `admin` (or its customer) sees it.
    pub fn new(order: &Order, admin: bool) -> Self {
        let standing = order.payment_standing();
        Self {
            id: order.id,
            order_number: order.order_number.to_string(),
            customer_id: order.customer_id,
            status: order.status.as_str(),
            items: order.lines.iter().map(LineView::from).collect(),
            subtotal: order.totals.subtotal,
            tax_amount: order.totals.tax_amount,
            total_amount: order.totals.total_amount,
            currency: domain::order::pricing::CURRENCY,
            delivery_address: order.delivery_address.as_str().to_owned(),
            notes: order.notes.as_ref().map(|n| n.as_str().to_owned()),
            sms_sent: order.sms_sent(),
            email_sent: order.email_sent(),
            created_at: order.created_at,
            updated_at: order.updated_at,
            confirmed_at: order.confirmed_at,
            cancelled_at: order.cancelled_at,
            payment_status: standing.status.as_str(),
            payment_reference: order.payment_reference().to_string(),
            amount_paid: standing.amount_paid,
            amount_due: standing.amount_due,
            payments: order.payments.iter().map(PaymentView::from).collect(),
            notifications: admin.then(|| NotificationsView::from(&order.notifications)),
            messages: admin.then(|| MessageView::all(order)),
            customer: None,
        }
    }

    /// The same view, naming who ordered (admins' lists).
    pub fn with_customer(self, customer: CustomerCard) -> Self {
        Self {
            customer: Some(customer),
            ..self
        }
    }
}
