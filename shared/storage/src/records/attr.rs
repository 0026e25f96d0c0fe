//! The table's attribute names that update, condition and filter expressions use: one
//! vocabulary for the one table, each name once. Each is a field of a record's serde
//! struct (`records::{catalog, customer, order}`); the records' tests check that the
//! encoded items carry them.

/// Every entity's own id (text).
pub const ID: &str = "id";
/// A category's, product's or customer's display name.
pub const NAME: &str = "name";
/// When the item last changed (RFC 3339, UTC).
pub const UPDATED_AT: &str = "updated_at";
/// The table's TTL attribute (Unix seconds): pending sign-ins, idempotency records.
pub const EXPIRES_AT: &str = "expires_at";

// A category.
/// The ids from the root down to the category itself.
pub const PATH: &str = "path";
pub const PARENT_ID: &str = "parent_id";
/// Depth: 0 for a top-level category.
pub const LEVEL: &str = "level";
/// Number of direct subcategories.
pub const CHILD_COUNT: &str = "child_count";
/// Number of products directly in the category (active or not).
pub const PRODUCT_COUNT: &str = "product_count";
/// Incremented by every change to the category or to the set of its children and
/// products; moves condition on it, so they never work from a stale view.
pub const REVISION: &str = "revision";

// A product.
/// Lower-cased name that `?q=` searches.
pub const NAME_SEARCH: &str = "name_lc";
pub const DESCRIPTION: &str = "description";
pub const SKU: &str = "sku";
/// The price in cents (an exact integer, compared numerically by filters).
pub const PRICE: &str = "price_cents";
pub const STOCK: &str = "stock_quantity";
/// How many stock buckets hold a product's stock (absent on products stored before).
pub const STOCK_BUCKETS: &str = "stock_buckets";
pub const IS_ACTIVE: &str = "is_active";
/// Set (by the orders service, in the order's transaction) once a product appears in
/// an order; such a product is deactivated instead of deleted.
pub const EVER_ORDERED: &str = "ever_ordered";

// A customer.
pub const EMAIL: &str = "email";
pub const PHONE_NUMBER: &str = "phone_number";
pub const IS_ADMIN: &str = "is_admin";

// An order.
pub const STATUS: &str = "status";
pub const CONFIRMED_AT: &str = "confirmed_at";
pub const CANCELLED_AT: &str = "cancelled_at";
/// The customer's SMS: a channel map; absent until the notifier first writes it (a
/// pending channel at version 0).
pub const NOTIFICATION_SMS: &str = "notification_sms";
/// The admin's email, like [`NOTIFICATION_SMS`].
pub const NOTIFICATION_EMAIL: &str = "notification_email";
/// Present (`true`) once one of the order's customer messages failed or was not delivered:
/// it keeps the order on the failed-notifications list (GSI5) whatever its channels do.
pub const MESSAGES_FAILED: &str = "messages_failed";
/// When the reconciler should (re-)send the confirmation; present only while the
/// notifier has not acknowledged it (with the GSI4 keys).
pub const HAND_OFF_DUE: &str = "hand_off_due";
/// Re-sends of the confirmation so far.
pub const HAND_OFF_RESENDS: &str = "hand_off_resends";
/// Inside a notification channel's map: bumped by every write; writes are conditioned
/// on it.
pub const VERSION: &str = "version";
/// In a channel's or message's map: the provider's id of the accepted SMS.
pub const MESSAGE_ID: &str = "message_id";
/// In a channel's or message's map: `delivered` or `undelivered` (the delivery report).
pub const DELIVERY: &str = "delivery";
/// In a channel's or message's map: why it was not delivered.
pub const DELIVERY_REASON: &str = "delivery_reason";

// The progress of a one-off upgrade of stored items (`UPGRADE#<name>`).
/// The order id the upgrade's walk goes on below (newest first).
pub const UPGRADE_BELOW: &str = "below";
/// `true` once the walk has seen every item (order, category) it walks.
pub const UPGRADE_DONE: &str = "done";
/// Items the upgrade changed so far.
pub const UPGRADE_FILED: &str = "filed";

// An order's payments.
/// The list of its payments (maps), oldest first.
pub const PAYMENTS: &str = "payments";
/// Payment writes so far; every payment write conditions on it.
pub const PAYMENTS_VERSION: &str = "payments_version";
/// What the payments add up to (`unpaid`, `paid`, …), for `?payment_status=`; absent on
/// orders stored before payments existed (they are unpaid).
pub const PAYMENT_STATUS: &str = "payment_status";
/// The order an unmatched payment was assigned to, on its own item.
pub const ASSIGNED_ORDER_ID: &str = "assigned_order_id";
/// The order a receipt's or checkout id's claim leads to.
pub const ORDER_ID: &str = "order_id";
