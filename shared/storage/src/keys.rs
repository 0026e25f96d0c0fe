//! Every key of the table, in one place — and the one key table of the project (README.md
//! and docs/table-design.md link here).
//!
//! | entity (`entity_type`) | PK = SK | GSI1PK / GSI1SK | GSI2PK / GSI2SK |
//! |---|---|---|---|
//! | Category | `CATEGORY#<id>` | `CATEGORY_TREE` / `<path>` | `CATEGORY_CHILDREN#<parent id or ROOT>` / `<name key>\u{1F}<id>` |
//! | CategoryName (uniqueness) | `CATEGORY_NAME#<parent id or ROOT>#<name key>` | – | – |
//! | Product | `PRODUCT#<id>` | `CATEGORY_PRODUCTS#<root id>` / `<path>#<id>` | `PRODUCTS` / `<id>` |
//! | StockBucket (a share of a product's stock) | `STOCK#<product id>#<nn>` (00–31) | – | – |
//! | Sku (uniqueness) | `SKU#<SKU upper-cased>` | – | – |
//! | Customer | `CUSTOMER#<id>` | `CUSTOMER_EMAIL#<lower-cased email>` / `<id>` | `CUSTOMERS` / `<id>` |
//! | CustomerIdentity (one customer per provider subject) | `IDENTITY#GOOGLE#<sub>` → `customer_id` | – | – |
//! | SignInState (pending sign-in, TTL `expires_at`, single use) | `SIGNIN_STATE#<state>` | – | – |
//! | Order (lines and payments inside) | `ORDER#<id>` | `CUSTOMER_ORDERS#<customer id>` / `<order id>` | `ORDERS#<shard>` / `<order id>` |
//! | Payment that named no order (unmatched) | `PAYMENT#<id>` | – | `UNMATCHED_PAYMENTS` / `<payment id>` until staff assign it |
//! | ReceiptClaim (an M-Pesa receipt counts once) | `MPESA_RECEIPT#<receipt>` → `payment_id`, `order_id` | – | – |
//! | CheckoutClaim (a prompt's `CheckoutRequestID`) | `MPESA_CHECKOUT#<checkout request id>` → `payment_id`, `order_id` | – | – |
//! | ReversalClaim (a reversal's `ConversationID`) | `MPESA_REVERSAL#<conversation id>` → `payment_id`, `order_id` | – | – |
//! | OrderNumber (uniqueness) | `ORDER_NUMBER#<order number>` | – | – |
//! | SentSms (an accepted SMS's provider id, TTL `expires_at` 30 days) | `SMS#<provider message id>` → `order_id`, `subject` | – | – |
//! | Idempotency (TTL 24 h) | `IDEMPOTENCY#<customer id>#<key>` | – | – |
//! | Upgrade (how far a one-off upgrade of stored items has got) | `UPGRADE#<name>` | – | – |
//! | AuditEntry (immutable, TTL `expires_at`) | `AUDIT#<entry id>` | `AUDIT#<entity type>#<entity id>` / `<entry id>` | `AUDIT_LOG#<shard>` / `<entry id>` |
//!
//! Orders also use GSI3 (`ORDER_STATUS#<status>#<shard>` / `<order id>`: the orders in one
//! status), while a confirmation is not yet acknowledged by the notifier the sparse GSI4
//! (`HAND_OFF_DUE#<shard>` / `<due timestamp>#<order id>`), and while a notification
//! channel (SMS or email) is `failed` the sparse GSI5 (`NOTIFICATION_FAILED#<shard>` /
//! `<order id>`), set and removed by the very write that records the channel's state, and
//! while its payments are open (a prompt pending, a reversal awaiting its answer, a payment
//! staff must act on) the sparse GSI6 (`PAYMENTS_OPEN#<shard>` / `<order id>`), set and
//! removed by every write of its payments or status. Order
//! ids are ULIDs, so every order list sorts by creation time; lists read them newest first.
//!
//! The five shop-wide order indexes (GSI2 `ORDERS#`, GSI3–GSI6) are write-sharded: an
//! order's `<shard>` is [`OrderShard::of`] its id, one of [`ORDER_INDEX_SHARDS`], so a flash
//! sale spreads its index writes over that many partition keys instead of one
//! (docs/scale.md). Readers query every shard in parallel and merge by sort key. A
//! customer's own list (`CUSTOMER_ORDERS#<customer id>`) is not sharded: one customer is
//! never hot.
//!
//! `<path>` is the category path's ids joined and ended by `/` (`A/B/C/`), so a subtree is a
//! `begins_with` on its path, and a category's own products begin with `<path>#`.
//!
//! `<name key>` is [`CategoryName::unique_key`] (lower-cased, white space folded to single
//! spaces): every character of it is at least U+0020, since names refuse control
//! characters. The sibling key closes it with U+001F (the unit separator), below all of
//! them, so siblings list in exactly the tree's order: by name key, a name before every
//! longer name it begins ("A" before "A B"), then by id. Releases before wrote
//! `<name key>#<id>`, which put "A B" before "A" (`' '` < `'#'`); the reconciler re-keys
//! such items once ([`CATEGORY_SIBLING_ORDER_UPGRADE`]).

use domain::audit::{AuditEntryId, EntityType};
use domain::category::{CategoryName, CategoryPath};
use domain::notification::SmsId;
use domain::order::{IdempotencyKey, OrderNumber, OrderStatus};
use domain::payment::{PaymentId, Receipt};
use domain::product::Sku;
use domain::{CategoryId, CustomerId, OrderId, ProductId, Timestamp};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
pub const GSI4: &str = "GSI4";
pub const GSI4PK: &str = "GSI4PK";
pub const GSI4SK: &str = "GSI4SK";
pub const GSI5: &str = "GSI5";
pub const GSI5PK: &str = "GSI5PK";
pub const GSI5SK: &str = "GSI5SK";
pub const GSI6: &str = "GSI6";
pub const GSI6PK: &str = "GSI6PK";
pub const GSI6SK: &str = "GSI6SK";
pub const ENTITY_TYPE: &str = "entity_type";

/// `entity_type` values.
pub mod entity {
    pub const CATEGORY: &str = "Category";
    pub const CATEGORY_NAME: &str = "CategoryName";
    pub const PRODUCT: &str = "Product";
    pub const STOCK_BUCKET: &str = "StockBucket";
    pub const SKU: &str = "Sku";
    pub const ORDER: &str = "Order";
    pub const ORDER_NUMBER: &str = "OrderNumber";
    pub const IDEMPOTENCY: &str = "Idempotency";
    pub const UPGRADE: &str = "Upgrade";
    pub const AUDIT_ENTRY: &str = "AuditEntry";
    pub const PAYMENT: &str = "Payment";
    pub const RECEIPT_CLAIM: &str = "ReceiptClaim";
    pub const CHECKOUT_CLAIM: &str = "CheckoutClaim";
    pub const REVERSAL_CLAIM: &str = "ReversalClaim";
    pub const SENT_SMS: &str = "SentSms";
}

/// Partition and sort key of an item whose SK repeats its PK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    pub pk: String,
    pub sk: String,
}

impl PrimaryKey {
    fn same(key: String) -> Self {
        Self {
            sk: key.clone(),
            pk: key,
        }
    }
}

fn parent_segment(parent: Option<CategoryId>) -> String {
    parent.map_or_else(|| "ROOT".to_owned(), |id| id.to_string())
}

/// The key of a category item.
pub fn category(id: CategoryId) -> PrimaryKey {
    PrimaryKey::same(format!("CATEGORY#{id}"))
}

/// GSI1 partition holding every category, sorted by path.
pub const CATEGORY_TREE: &str = "CATEGORY_TREE";

/// The sort-key form of a path: `A/B/C/`.
pub fn path(path: &CategoryPath) -> String {
    let mut key = String::with_capacity(path.ids().len() * 27);
    for id in path.ids() {
        key.push_str(&id.to_string());
        key.push('/');
    }
    key
}

/// GSI2 partition holding the children of `parent` (`None`: the top level).
pub fn category_children(parent: Option<CategoryId>) -> String {
    format!("CATEGORY_CHILDREN#{}", parent_segment(parent))
}

/// Closes the name key in [`category_sibling_order`]: below every character a name key
/// holds (each is U+0020 or above), so a key sorts before every longer key it begins.
pub const SIBLING_ORDER_SEPARATOR: char = '\u{1F}';

/// GSI2 sort key of a category among its siblings: by name key, then id — the order of
/// `(name.unique_key(), id)`, which the tree sorts siblings by.
pub fn category_sibling_order(name: &CategoryName, id: CategoryId) -> String {
    format!("{}{SIBLING_ORDER_SEPARATOR}{id}", name.unique_key())
}

/// The GSI2 sort key releases before [`SIBLING_ORDER_SEPARATOR`] wrote (`<name key>#<id>`),
/// which lists "A B" before "A". Nothing writes it any more: it names what
/// [`CATEGORY_SIBLING_ORDER_UPGRADE`] replaces, and lets tests build such a table.
pub fn legacy_category_sibling_order(name: &CategoryName, id: CategoryId) -> String {
    format!("{}#{id}", name.unique_key())
}

/// The item that makes `name` unique among the children of `parent`.
pub fn category_name_claim(parent: Option<CategoryId>, name: &CategoryName) -> PrimaryKey {
    PrimaryKey::same(format!(
        "CATEGORY_NAME#{}#{}",
        parent_segment(parent),
        name.unique_key()
    ))
}

/// The key of a product item.
pub fn product(id: ProductId) -> PrimaryKey {
    PrimaryKey::same(format!("{PRODUCT_PREFIX}{id}"))
}

/// Key prefix of the products.
pub const PRODUCT_PREFIX: &str = "PRODUCT#";

/// Key prefix of the stock buckets.
pub const STOCK_BUCKET_PREFIX: &str = "STOCK#";

/// The key of bucket `n` (from 0) of a product's stock: a partition of its own (DynamoDB's
/// write limits are per partition and item, so K buckets take K times the writes), listed
/// by no index, so a stock write never writes an index.
pub fn stock_bucket(product: ProductId, n: usize) -> PrimaryKey {
    PrimaryKey::same(format!("{STOCK_BUCKET_PREFIX}{product}#{n:02}"))
}

/// GSI1 partition of the products in the tree rooted at `root`.
pub fn category_products(root: CategoryId) -> String {
    format!("CATEGORY_PRODUCTS#{root}")
}

/// GSI1 sort key of a product in the category at `category_path`.
pub fn product_in_category(category_path: &CategoryPath, id: ProductId) -> String {
    format!("{}#{id}", path(category_path))
}

/// Sort-key prefix of the products of the category at `category_path` and its descendants.
pub fn products_in_subtree(category_path: &CategoryPath) -> String {
    path(category_path)
}

/// Sort-key prefix of the products directly in the category at `category_path`.
pub fn products_directly_in(category_path: &CategoryPath) -> String {
    format!("{}#", path(category_path))
}

/// GSI2 partition listing every product, by id (creation order).
pub const PRODUCT_LIST: &str = "PRODUCTS";

/// GSI2 sort key of a product in [`PRODUCT_LIST`].
pub fn product_list_order(id: ProductId) -> String {
    id.to_string()
}

/// The item that makes a SKU unique across the catalog.
pub fn sku_claim(sku: &Sku) -> PrimaryKey {
    PrimaryKey::same(format!("SKU#{}", sku.unique_key()))
}

// --- Orders -------------------------------------------------------------------------

/// The key of an order item.
pub fn order(id: OrderId) -> PrimaryKey {
    PrimaryKey::same(format!("ORDER#{id}"))
}

/// The item of a payment that named no order.
pub fn unmatched_payment(id: PaymentId) -> PrimaryKey {
    PrimaryKey::same(format!("PAYMENT#{id}"))
}

/// GSI2 partition of the unmatched payments not yet assigned; the sort key is the
/// payment's id (a ULID: arrival order).
pub const UNMATCHED_PAYMENTS: &str = "UNMATCHED_PAYMENTS";

/// GSI2 sort key of an unmatched payment.
pub fn unmatched_payment_order(id: PaymentId) -> String {
    id.to_string()
}

/// The name of the list of orders whose payments are open (GSI6).
pub const PAYMENTS_OPEN_LIST: &str = "PAYMENTS_OPEN";

/// GSI6 partition of `shard` of the orders whose payments are open (a prompt pending, a
/// reversal awaiting its answer, a payment staff must act on). Its sort key is
/// [`order_list_order`].
pub fn payments_open(shard: OrderShard) -> String {
    format!("{PAYMENTS_OPEN_LIST}#{shard}")
}

/// The item that makes an M-Pesa receipt count once.
pub fn receipt_claim(receipt: &Receipt) -> PrimaryKey {
    PrimaryKey::same(format!("MPESA_RECEIPT#{receipt}"))
}

/// The item that leads a prompt's `CheckoutRequestID` to its payment.
pub fn checkout_claim(checkout_request_id: &str) -> PrimaryKey {
    PrimaryKey::same(format!("MPESA_CHECKOUT#{checkout_request_id}"))
}

/// The item that leads a reversal's `ConversationID` to its payment.
pub fn reversal_claim(conversation_id: &str) -> PrimaryKey {
    PrimaryKey::same(format!("MPESA_REVERSAL#{conversation_id}"))
}

/// The item that leads an accepted SMS's provider id to its order and message (for its
/// delivery report).
pub fn sent_sms(id: &SmsId) -> PrimaryKey {
    PrimaryKey::same(format!("SMS#{id}"))
}

/// The item that makes an order number unique.
pub fn order_number_claim(number: &OrderNumber) -> PrimaryKey {
    PrimaryKey::same(format!("ORDER_NUMBER#{number}"))
}

/// The item holding a customer's idempotency key and the first response to it.
pub fn idempotency(customer: CustomerId, key: &IdempotencyKey) -> PrimaryKey {
    PrimaryKey::same(format!("IDEMPOTENCY#{customer}#{}", key.as_str()))
}

/// GSI1 partition of one customer's orders.
pub fn customer_orders(customer: CustomerId) -> String {
    format!("CUSTOMER_ORDERS#{customer}")
}

/// How many partition keys each shop-wide order index (all orders, orders by status,
/// hand-offs due, failed notifications) is spread over. Each partition key takes about 1,000 write units a
/// second, so this bounds the order rate (docs/scale.md derives it).
///
/// To raise it: change the constant and deploy. New orders spread over the new shards at
/// once; orders written earlier keep their shard, which is still below the new count, so
/// every reader (which queries shards `0..ORDER_INDEX_SHARDS`) still finds them, and a
/// status change re-files an order under its new shard. Never lower it: orders in the
/// shards above the new count would drop out of the admin lists and the reconciler.
pub const ORDER_INDEX_SHARDS: u32 = 16;

/// One shard of the shop-wide order indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderShard(u32);

impl OrderShard {
    /// The shard of order `id`: FNV-1a (64-bit) of its canonical text, modulo
    /// [`ORDER_INDEX_SHARDS`]. Stable across releases and platforms (no `std` hasher),
    /// and even: the last 80 bits of a ULID are random.
    pub fn of(id: OrderId) -> Self {
        Self::of_text(&id.to_string())
    }

    /// The shard of history entry `id`, by the same rule as an order's: the shop-wide
    /// history is written as often as the order indexes (every change adds an entry).
    pub fn of_entry(id: AuditEntryId) -> Self {
        Self::of_text(&id.to_string())
    }

    fn of_text(text: &str) -> Self {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let hash = text
            .bytes()
            .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
        // The remainder is below ORDER_INDEX_SHARDS, a u32.
        Self(u32::try_from(hash % u64::from(ORDER_INDEX_SHARDS)).unwrap_or(0))
    }

    /// Every shard, in order: what a reader of a sharded index queries.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..ORDER_INDEX_SHARDS).map(Self)
    }
}

impl std::fmt::Display for OrderShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of the list of every order (GSI2), as its cursors name it; also its one GSI2
/// partition before the order indexes were sharded (`crate::DynamoOrders::file_unsharded_orders`
/// moves orders out of it).
pub const ORDER_LIST: &str = "ORDERS";

/// The one GSI4 partition of the hand-offs due before the order indexes were sharded.
pub const UNSHARDED_HAND_OFFS_DUE: &str = "HAND_OFF_DUE";

/// GSI2 partition of `shard` of every order.
pub fn order_list(shard: OrderShard) -> String {
    format!("{ORDER_LIST}#{shard}")
}

/// The name of the list of the orders in `status` (GSI3), as its cursors name it; also
/// its one GSI3 partition before the order indexes were sharded.
pub fn orders_in_status_list(status: OrderStatus) -> String {
    format!("ORDER_STATUS#{status}")
}

/// GSI3 partition of `shard` of the orders in `status`.
pub fn orders_in_status(status: OrderStatus, shard: OrderShard) -> String {
    format!("ORDER_STATUS#{status}#{shard}")
}

/// Sort key of an order in each of its lists: its id (a ULID, so creation order).
pub fn order_list_order(id: OrderId) -> String {
    id.to_string()
}

/// GSI4 partition of `shard` of the confirmations awaiting the notifier's
/// acknowledgement.
pub fn hand_offs_due(shard: OrderShard) -> String {
    format!("HAND_OFF_DUE#{shard}")
}

/// GSI4 sort key: when the hand-off of `id` is due. Timestamps sort as text.
pub fn hand_off_due(due: Timestamp, id: OrderId) -> String {
    format!("{due}#{id}")
}

/// Exclusive upper bound of the GSI4 sort keys due at or before `now`.
pub fn hand_off_due_bound(now: Timestamp) -> String {
    // `$` is the character after `#`.
    format!("{now}$")
}

/// The name of the list of orders with a `failed` notification channel (GSI5), as its
/// cursors name it.
pub const NOTIFICATION_FAILED_LIST: &str = "NOTIFICATION_FAILED";

/// GSI5 partition of `shard` of the orders with a `failed` notification channel. Its sort
/// key is [`order_list_order`].
pub fn notification_failed(shard: OrderShard) -> String {
    format!("{NOTIFICATION_FAILED_LIST}#{shard}")
}

/// The item recording how far the one-off upgrade `name` has got.
pub fn upgrade_progress(name: &str) -> PrimaryKey {
    PrimaryKey::same(format!("UPGRADE#{name}"))
}

/// The upgrade that files the orders whose notification failed before GSI5 existed
/// (`crate::DynamoOrders::file_failed_notifications`).
pub const FAILED_NOTIFICATIONS_UPGRADE: &str = "NOTIFICATION_FAILED";

/// The upgrade that gives the categories stored with [`legacy_category_sibling_order`]
/// their [`category_sibling_order`] (`crate::DynamoCatalog::rekey_category_siblings`).
pub const CATEGORY_SIBLING_ORDER_UPGRADE: &str = "CATEGORY_SIBLING_ORDER";

// --- Change history ----------------------------------------------------------------------
//
// | entity | PK = SK | GSI1PK / GSI1SK | GSI2PK / GSI2SK |
// |---|---|---|---|
// | AuditEntry (immutable, TTL `expires_at`) | `AUDIT#<entry id>` | `AUDIT#<entity type>#<entity id>` / `<entry id>` | `AUDIT_LOG#<shard>` / `<entry id>` |
//
// Entry ids are ULIDs, so both lists read newest first. The shop-wide list is sharded
// like the order indexes (every admin write adds one entry), by the entry's id.

/// The key of a history entry.
pub fn audit_entry(id: AuditEntryId) -> PrimaryKey {
    PrimaryKey::same(format!("AUDIT#{id}"))
}

/// GSI1 partition of one entity's history.
pub fn entity_history(entity: EntityType, id: &str) -> String {
    format!("AUDIT#{entity}#{id}")
}

/// The name of the shop-wide history, as its cursors name it.
pub const AUDIT_LOG: &str = "AUDIT_LOG";

/// GSI2 partition of `shard` of the shop-wide history.
pub fn audit_log(shard: OrderShard) -> String {
    format!("{AUDIT_LOG}#{shard}")
}

/// Sort key of an entry in both of its lists: its id (a ULID, so creation order).
pub fn audit_list_order(id: AuditEntryId) -> String {
    id.to_string()
}

// ---------------------------------------------------------------------------------------
// Customers and sign-in
//
// | entity | PK = SK | GSI1 / GSI2 |
// |---|---|---|
// | Customer | `CUSTOMER#<customer id>` | GSI1 `CUSTOMER_EMAIL#<lower-cased email>` / `<customer id>` (staff's `?email=`); GSI2 `CUSTOMERS` / `<customer id>` (staff's list) |
// | CustomerIdentity (one customer per provider subject) | `IDENTITY#<provider>#<subject>` | – |
// | SignInState (pending sign-in, TTL `expires_at`, single use) | `SIGNIN_STATE#<state>` | – |
// ---------------------------------------------------------------------------------------

/// `entity_type` values of the customer and sign-in items.
pub mod customer_entity {
    pub const CUSTOMER: &str = "Customer";
    pub const CUSTOMER_IDENTITY: &str = "CustomerIdentity";
    pub const SIGN_IN_STATE: &str = "SignInState";
}

/// The identity provider whose subjects the identity items map (Google, or the local
/// provider that stands in for it).
pub const GOOGLE_PROVIDER: &str = "GOOGLE";

/// The key of a customer item.
pub fn customer(id: domain::CustomerId) -> PrimaryKey {
    PrimaryKey::same(format!("CUSTOMER#{id}"))
}

/// GSI2 partition listing every customer, by id. Customer ids are ULIDs, so it reads
/// newest first in descending order. One unsharded partition: sign-ups and sign-ins stay
/// far below the 1,000 writes a second one partition key takes (docs/scale.md).
pub const CUSTOMER_LIST: &str = "CUSTOMERS";

/// GSI2 sort key of a customer in [`CUSTOMER_LIST`].
pub fn customer_list_order(id: domain::CustomerId) -> String {
    id.to_string()
}

/// GSI1 partition of the customers whose email has the key `email` (lower-cased:
/// staff's exact, case-insensitive `?email=`). Its sort key is [`customer_list_order`].
pub fn customers_with_email(email: &domain::customer::EmailKey) -> String {
    format!("CUSTOMER_EMAIL#{}", email.as_str())
}

/// The item that maps an identity provider's subject to its one customer.
pub fn customer_identity(provider: &str, subject: &str) -> PrimaryKey {
    PrimaryKey::same(format!("IDENTITY#{provider}#{subject}"))
}

/// The item of a pending sign-in, keyed by its `state` parameter.
pub fn sign_in_state(state: &str) -> PrimaryKey {
    PrimaryKey::same(format!("SIGNIN_STATE#{state}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid(s: &str) -> CategoryId {
        s.parse().expect("category id")
    }

    const A: &str = "01J0000000000000000000000A";
    const B: &str = "01J0000000000000000000000B";
    const P: &str = "01J0000000000000000000000P";

    #[test]
    fn category_keys_have_the_documented_shapes() {
        let (a, b) = (cid(A), cid(B));
        let ab = CategoryPath::root(a).child(b);
        assert_eq!(
            category(b),
            PrimaryKey {
                pk: format!("CATEGORY#{B}"),
                sk: format!("CATEGORY#{B}")
            }
        );
        assert_eq!(path(&ab), format!("{A}/{B}/"));
        assert_eq!(category_children(None), "CATEGORY_CHILDREN#ROOT");
        assert_eq!(category_children(Some(a)), format!("CATEGORY_CHILDREN#{A}"));
        let name = CategoryName::parse(" Phones  & Tablets ").expect("name");
        assert_eq!(
            category_sibling_order(&name, b),
            format!("phones & tablets\u{1F}{B}")
        );
        assert_eq!(
            legacy_category_sibling_order(&name, b),
            format!("phones & tablets#{B}")
        );
        assert_eq!(
            category_name_claim(Some(a), &name).pk,
            format!("CATEGORY_NAME#{A}#phones & tablets")
        );
        assert_eq!(
            category_name_claim(None, &name).pk,
            "CATEGORY_NAME#ROOT#phones & tablets"
        );
    }

    #[test]
    fn product_keys_have_the_documented_shapes() {
        let (a, b) = (cid(A), cid(B));
        let p: ProductId = P.parse().expect("product id");
        let ab = CategoryPath::root(a).child(b);
        assert_eq!(product(p).pk, format!("PRODUCT#{P}"));
        assert_eq!(stock_bucket(p, 7).pk, format!("STOCK#{P}#07"));
        assert_eq!(stock_bucket(p, 31).sk, format!("STOCK#{P}#31"));
        assert_eq!(category_products(a), format!("CATEGORY_PRODUCTS#{A}"));
        assert_eq!(product_in_category(&ab, p), format!("{A}/{B}/#{P}"));
        assert_eq!(product_list_order(p), P);
        assert_eq!(sku_claim(&Sku::parse("ab-1").expect("sku")).pk, "SKU#AB-1");
    }

    #[test]
    fn subtree_prefixes_select_exactly_the_subtree() {
        let (a, b) = (cid(A), cid(B));
        let p: ProductId = P.parse().expect("product id");
        let root = CategoryPath::root(a);
        let child = root.child(b);
        let in_child = product_in_category(&child, p);
        let in_root = product_in_category(&root, p);

        assert!(in_child.starts_with(&products_in_subtree(&root)));
        assert!(in_child.starts_with(&products_in_subtree(&child)));
        assert!(in_root.starts_with(&products_directly_in(&root)));
        assert!(!in_child.starts_with(&products_directly_in(&root)));
        assert!(!in_root.starts_with(&products_in_subtree(&child)));
        // A sibling whose id shares a prefix is not inside: ids are fixed-length and the
        // separator closes each segment.
        assert!(path(&child).starts_with(&path(&root)));
        assert!(!path(&CategoryPath::root(b)).starts_with(&path(&root)));
    }

    #[test]
    fn deepest_paths_fit_dynamodb_sort_keys() {
        let mut deepest = CategoryPath::root(CategoryId::generate());
        while deepest.ids().len() < domain::category::MAX_PATH_LEN {
            deepest = deepest.child(CategoryId::generate());
        }
        assert!(product_in_category(&deepest, ProductId::generate()).len() <= 1024);
    }

    #[test]
    fn order_keys_have_the_documented_shapes() {
        let order_id: OrderId = "01J00000000000000000000RD1".parse().expect("order id");
        let customer: CustomerId = "01J00000000000000000000C01".parse().expect("customer id");
        assert_eq!(order(order_id).pk, "ORDER#01J00000000000000000000RD1");
        assert_eq!(order(order_id).sk, order(order_id).pk);
        let number = OrderNumber::parse("ORD-20261125-7KQ2MZ").expect("number");
        assert_eq!(
            order_number_claim(&number).pk,
            "ORDER_NUMBER#ORD-20261125-7KQ2MZ"
        );
        let key = IdempotencyKey::parse("retry-1").expect("key");
        assert_eq!(
            idempotency(customer, &key).pk,
            "IDEMPOTENCY#01J00000000000000000000C01#retry-1"
        );
        assert_eq!(
            customer_orders(customer),
            "CUSTOMER_ORDERS#01J00000000000000000000C01"
        );
        let shard = OrderShard::of(order_id);
        assert_eq!(
            orders_in_status(OrderStatus::Confirmed, shard),
            format!("ORDER_STATUS#CONFIRMED#{shard}")
        );
        assert_eq!(
            orders_in_status_list(OrderStatus::Confirmed),
            "ORDER_STATUS#CONFIRMED"
        );
        assert_eq!(order_list(shard), format!("ORDERS#{shard}"));
        assert_eq!(hand_offs_due(shard), format!("HAND_OFF_DUE#{shard}"));
        assert_eq!(order_list_order(order_id), "01J00000000000000000000RD1");
    }

    #[test]
    fn an_orders_shard_is_fixed_by_its_id() {
        // Pinned: a change here would re-file every stored order under another shard.
        let id: OrderId = "01J00000000000000000000RD1".parse().expect("order id");
        assert_eq!(OrderShard::of(id), OrderShard(5));
        assert_eq!(OrderShard::of(id), OrderShard::of(id));
        assert_eq!(
            OrderShard::all().collect::<Vec<_>>().len(),
            ORDER_INDEX_SHARDS as usize
        );
    }

    #[test]
    fn orders_spread_evenly_over_the_shards() {
        const ORDERS: u32 = 64_000;
        let mut counts = vec![0_u32; ORDER_INDEX_SHARDS as usize];
        for _ in 0..ORDERS {
            counts[OrderShard::of(OrderId::generate()).0 as usize] += 1;
        }
        // Binomial: mean 4,000, σ ≈ 61 for 16 shards; 6σ makes a false alarm negligible.
        let mean = f64::from(ORDERS / ORDER_INDEX_SHARDS);
        let sigma = (mean * (1.0 - 1.0 / f64::from(ORDER_INDEX_SHARDS))).sqrt();
        for count in counts {
            assert!(
                (f64::from(count) - mean).abs() < 6.0 * sigma,
                "{count} vs {mean}"
            );
        }
    }

    #[test]
    fn failed_notification_keys_have_the_documented_shapes() {
        let id: OrderId = "01J00000000000000000000RD1".parse().expect("order id");
        let shard = OrderShard::of(id);
        assert_eq!(
            notification_failed(shard),
            format!("NOTIFICATION_FAILED#{shard}")
        );
        assert!(notification_failed(shard).starts_with(NOTIFICATION_FAILED_LIST));
        let progress = upgrade_progress(FAILED_NOTIFICATIONS_UPGRADE);
        assert_eq!(progress.pk, "UPGRADE#NOTIFICATION_FAILED");
        assert_eq!(progress.sk, progress.pk);
        let progress = upgrade_progress(CATEGORY_SIBLING_ORDER_UPGRADE);
        assert_eq!(progress.pk, "UPGRADE#CATEGORY_SIBLING_ORDER");
        assert_eq!(progress.sk, progress.pk);
    }

    #[test]
    fn siblings_sort_by_name_with_a_name_before_the_longer_names_it_begins() {
        let id = cid(A);
        let key = |n: &str| category_sibling_order(&CategoryName::parse(n).expect("name"), id);
        let listed = ["A", "a  B", "A!", "A\"", "A#", "Ab", "B"];
        let keys: Vec<String> = listed.iter().map(|n| key(n)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys, "{listed:?}");
        // The form releases before wrote put "A B" (and "A!", `A"`) before "A".
        let legacy =
            |n: &str| legacy_category_sibling_order(&CategoryName::parse(n).expect("name"), id);
        assert!(legacy("A B") < legacy("A") && legacy("A!") < legacy("A"));
        assert_ne!(key("A"), legacy("A"));
        // The separator is the character just below U+0020, and every character below
        // U+0020 is a control character, which names refuse: no name key holds one.
        assert_eq!(u32::from(SIBLING_ORDER_SEPARATOR) + 1, 0x20);
        assert!(('\0'..'\u{20}').all(|c| c.is_control()));
        assert!(CategoryName::parse("A\u{1F}B").is_err());
    }

    #[test]
    fn due_hand_offs_are_a_range_of_the_sort_key() {
        let id = OrderId::generate();
        let at = |s: &str| Timestamp::parse(s).expect("timestamp");
        let now = at("2026-11-25T10:00:00.000Z");
        let bound = hand_off_due_bound(now);
        assert!(hand_off_due(at("2026-11-25T09:59:59.999Z"), id) < bound);
        assert!(hand_off_due(now, id) < bound, "due exactly now");
        assert!(hand_off_due(at("2026-11-25T10:00:00.001Z"), id) > bound);
        assert_eq!(
            hand_off_due(now, id),
            format!("2026-11-25T10:00:00.000Z#{id}")
        );
    }

    #[test]
    fn history_keys_have_the_documented_shapes() {
        let id: AuditEntryId = "01J00000000000000000000AD1".parse().expect("entry id");
        assert_eq!(audit_entry(id).pk, "AUDIT#01J00000000000000000000AD1");
        assert_eq!(audit_entry(id).sk, audit_entry(id).pk);
        assert_eq!(
            entity_history(EntityType::Product, P),
            format!("AUDIT#product#{P}")
        );
        let shard = OrderShard::of_entry(id);
        assert_eq!(audit_log(shard), format!("AUDIT_LOG#{shard}"));
        assert_eq!(audit_list_order(id), "01J00000000000000000000AD1");
        // An entry's shard follows the order rule on its text.
        let same_text: OrderId = id.to_string().parse().expect("order id");
        assert_eq!(shard, OrderShard::of(same_text));
    }

    #[test]
    fn customer_and_sign_in_keys_have_the_documented_shapes() {
        let id: domain::CustomerId = "01J0000000000000000000000C".parse().expect("customer id");
        assert_eq!(
            customer(id),
            PrimaryKey {
                pk: "CUSTOMER#01J0000000000000000000000C".into(),
                sk: "CUSTOMER#01J0000000000000000000000C".into(),
            }
        );
        let identity = customer_identity(GOOGLE_PROVIDER, "1234567890");
        assert_eq!(identity.pk, "IDENTITY#GOOGLE#1234567890");
        assert_eq!(identity.sk, identity.pk);
        let state = sign_in_state("abc_DEF-123");
        assert_eq!(state.pk, "SIGNIN_STATE#abc_DEF-123");
        assert_eq!(state.sk, state.pk);
        assert_eq!(CUSTOMER_LIST, "CUSTOMERS");
        assert_eq!(customer_list_order(id), "01J0000000000000000000000C");
        let email = domain::customer::EmailKey::of("Wanjiku@Example.COM");
        assert_eq!(
            customers_with_email(&email),
            "CUSTOMER_EMAIL#wanjiku@example.com"
        );
    }
}

/// Properties of the keys: each builder's input can be read back from its key, no key of
/// one kind of item can be mistaken for another's, subtree prefixes select exactly the
/// subtree, and sort keys sort like what they stand for.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use proptest::sample::select;
    use time::OffsetDateTime;

    use super::*;

    /// Any id's text (26 Crockford characters, the first 0-7).
    fn id_text() -> impl Strategy<Value = String> {
        "[0-7][0-9A-HJKMNP-TV-Z]{25}"
    }

    fn any_id<T>() -> impl Strategy<Value = T>
    where
        T: std::str::FromStr<Err: std::fmt::Debug> + std::fmt::Debug,
    {
        id_text().prop_map(|text| text.parse().expect("an id"))
    }

    /// One of a dozen category ids that differ only in their last character, so paths
    /// share ids and long prefixes.
    fn close_category_id() -> impl Strategy<Value = CategoryId> {
        select(&b"0123456789AB"[..]).prop_map(|c| {
            format!("01J0000000000000000000000{}", char::from(c))
                .parse()
                .expect("an id")
        })
    }

    /// A path of up to `max` distinct ids from the dozen.
    fn close_path(max: usize) -> impl Strategy<Value = CategoryPath> {
        prop::collection::vec(close_category_id(), 1..=max).prop_map(|mut ids| {
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(*id));
            CategoryPath::from_ids(ids).expect("distinct ids")
        })
    }

    /// A category name: often built of the characters around the separators (space, `!`,
    /// `"`, `#`, `$`), letters in both cases, white space that folds (no-break and
    /// ideographic spaces) and letters that lower-case to several characters (`İ`), so
    /// names share long prefixes and equal name keys; otherwise any name.
    fn sibling_name() -> impl Strategy<Value = CategoryName> {
        let parts = [
            "a", "A", "b", " ", "  ", "!", "\"", "#", "$", "é", "İ", "\u{a0}", "\u{3000}",
        ];
        prop_oneof![
            prop::collection::vec(select(parts.to_vec()), 1..8).prop_map(|p| p.concat()),
            "[^\\p{Cc}]{1,12}",
        ]
        .prop_filter_map("a name", |raw| CategoryName::parse(&raw).ok())
    }

    /// An instant in the years RFC 3339 writes (0000 to 9999), to the millisecond.
    fn timestamp() -> impl Strategy<Value = Timestamp> {
        const FIRST_MS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
        const LAST_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        prop_oneof![
            FIRST_MS..=LAST_MS,
            1_700_000_000_000_i64..=1_900_000_000_000
        ]
        .prop_map(at_ms)
    }

    fn at_ms(ms: i64) -> Timestamp {
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .expect("in range");
        Timestamp::from_datetime(at)
    }

    /// The prefixes that say which kind of item a primary key belongs to.
    const KINDS: [&str; 13] = [
        "CATEGORY#",
        "CATEGORY_NAME#",
        "PRODUCT#",
        "STOCK#",
        "SKU#",
        "ORDER#",
        "ORDER_NUMBER#",
        "IDEMPOTENCY#",
        "CUSTOMER#",
        "IDENTITY#",
        "SIGNIN_STATE#",
        "UPGRADE#",
        "AUDIT#",
    ];

    /// What the primary-key builders are given, one of each.
    #[derive(Debug)]
    struct Inputs {
        category: CategoryId,
        parent: Option<CategoryId>,
        name: CategoryName,
        product: ProductId,
        sku: Sku,
        order: OrderId,
        number: OrderNumber,
        customer: CustomerId,
        idempotency: IdempotencyKey,
        subject: String,
        state: String,
        upgrade: String,
        entry: AuditEntryId,
    }

    fn inputs() -> impl Strategy<Value = Inputs> {
        (
            (
                any_id(),
                proptest::option::of(any_id()),
                "[^\\s\\p{Cc}]{1,10}( [^\\s\\p{Cc}]{1,10}){0,2}",
                any_id(),
            ),
            (
                "[A-Za-z0-9._-]{1,64}",
                any_id(),
                "ORD-[0-9]{8}-[0-9A-HJKMNP-TV-Z]{6}",
                any_id(),
            ),
            (
                "[!-~]{1,64}",
                "(?s).{1,40}",
                "(?s).{1,40}",
                "[A-Z_#]{1,20}",
                any_id(),
            ),
        )
            .prop_map(
                |(
                    (category, parent, name, product),
                    (sku, order, number, customer),
                    (key, subject, state, upgrade, entry),
                )| Inputs {
                    category,
                    parent,
                    name: CategoryName::parse(&name).expect("a name"),
                    product,
                    sku: Sku::parse(&sku).expect("a SKU"),
                    order,
                    number: OrderNumber::parse(&number).expect("an order number"),
                    customer,
                    idempotency: IdempotencyKey::parse(&key).expect("an idempotency key"),
                    subject,
                    state,
                    upgrade,
                    entry,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Each primary key repeats its PK as SK, reads back the values it was built from,
        /// and starts with its own kind's prefix and no other kind's.
        #[test]
        fn primary_keys_read_back_and_never_collide(i in inputs()) {
            fn after<'k>(key: &'k PrimaryKey, prefix: &str) -> &'k str {
                assert_eq!(key.sk, key.pk, "SK repeats PK");
                key.pk.strip_prefix(prefix).unwrap_or_else(|| panic!("{key:?} lacks {prefix}"))
            }
            let name_claim = category_name_claim(i.parent, &i.name);
            let claimed = after(&name_claim, "CATEGORY_NAME#");
            let (parent, name_key) = claimed.split_once('#').expect("two parts");
            prop_assert_eq!(parent, i.parent.map_or_else(|| "ROOT".to_owned(), |p| p.to_string()));
            prop_assert_eq!(name_key, i.name.unique_key());
            let idempotency_key = idempotency(i.customer, &i.idempotency);
            let remembered = after(&idempotency_key, "IDEMPOTENCY#");
            let (owner, key) = remembered.split_once('#').expect("two parts");
            prop_assert_eq!(owner.parse::<CustomerId>(), Ok(i.customer));
            prop_assert_eq!(key, i.idempotency.as_str());

            let built = [
                (category(i.category), "CATEGORY#", i.category.to_string()),
                (name_claim.clone(), "CATEGORY_NAME#", claimed.to_owned()),
                (product(i.product), "PRODUCT#", i.product.to_string()),
                (stock_bucket(i.product, 0), "STOCK#", format!("{}#00", i.product)),
                (stock_bucket(i.product, 31), "STOCK#", format!("{}#31", i.product)),
                (sku_claim(&i.sku), "SKU#", i.sku.as_str().to_ascii_uppercase()),
                (order(i.order), "ORDER#", i.order.to_string()),
                (order_number_claim(&i.number), "ORDER_NUMBER#", i.number.to_string()),
                (idempotency_key.clone(), "IDEMPOTENCY#", remembered.to_owned()),
                (customer(i.customer), "CUSTOMER#", i.customer.to_string()),
                (
                    customer_identity(GOOGLE_PROVIDER, &i.subject),
                    "IDENTITY#",
                    format!("GOOGLE#{}", i.subject),
                ),
                (sign_in_state(&i.state), "SIGNIN_STATE#", i.state.clone()),
                (upgrade_progress(&i.upgrade), "UPGRADE#", i.upgrade.clone()),
                (audit_entry(i.entry), "AUDIT#", i.entry.to_string()),
            ];
            for (key, kind, rest) in &built {
                prop_assert_eq!(after(key, kind), rest.as_str());
                let kinds: Vec<&str> =
                    KINDS.iter().copied().filter(|k| key.pk.starts_with(k)).collect();
                prop_assert_eq!(kinds, vec![*kind], "{:?}", key);
            }
            // Ids read back as the same id.
            prop_assert_eq!(after(&order(i.order), "ORDER#").parse::<OrderId>(), Ok(i.order));
            let entry = audit_entry(i.entry);
            prop_assert_eq!(after(&entry, "AUDIT#").parse::<AuditEntryId>(), Ok(i.entry));
        }

        /// An order's (and a history entry's) shard is one of the shards readers query,
        /// the same for the same text whichever kind of id it is.
        #[test]
        fn shards_are_below_the_shard_count(text in id_text()) {
            let shard = OrderShard::of(text.parse().expect("an order id"));
            prop_assert!(shard.0 < ORDER_INDEX_SHARDS, "{:?}", shard);
            prop_assert!(OrderShard::all().any(|s| s == shard));
            prop_assert_eq!(OrderShard::of_entry(text.parse().expect("an entry id")), shard);
            prop_assert_eq!(order_list(shard), format!("ORDERS#{}", shard.0));
            prop_assert_eq!(audit_log(shard), format!("AUDIT_LOG#{}", shard.0));
        }

        /// A path's key holds its ids in order and nothing else (it reads back), and one
        /// path's key starts with another's exactly when it lies within it.
        #[test]
        fn path_keys_read_back_and_nest_like_paths(p in close_path(8), q in close_path(8)) {
            let key = path(&p);
            prop_assert!(key.ends_with('/'));
            let ids: Vec<CategoryId> = key
                .trim_end_matches('/')
                .split('/')
                .map(|id| id.parse().expect("an id"))
                .collect();
            prop_assert_eq!(CategoryPath::from_ids(ids), Ok(p.clone()));
            prop_assert_eq!(key.starts_with(&path(&q)), p.ids().starts_with(q.ids()));
        }

        /// A product's key starts with the subtree prefix of its category and of each of
        /// its ancestors and of no other category, and with the "directly in" prefix of
        /// its own category only.
        #[test]
        fn product_keys_select_exactly_their_subtrees(
            p in close_path(8),
            other in close_path(8),
            product in any_id::<ProductId>(),
        ) {
            let key = product_in_category(&p, product);
            for depth in 1..=p.ids().len() {
                let ancestor = CategoryPath::from_ids(p.ids()[..depth].to_vec()).expect("a path");
                prop_assert!(key.starts_with(&products_in_subtree(&ancestor)));
                let directly = key.starts_with(&products_directly_in(&ancestor));
                prop_assert_eq!(directly, depth == p.ids().len());
            }
            let within = p.ids().starts_with(other.ids());
            let selected = key.starts_with(&products_in_subtree(&other));
            prop_assert_eq!(selected, within, "{} vs {:?}", key, other);
            prop_assert_eq!(key.starts_with(&products_directly_in(&other)), p == other);
            let own = format!("#{product}");
            prop_assert!(key.ends_with(&own));
        }

        /// Ids sort like the creation order they carry, and their sort keys sort alike.
        #[test]
        fn list_sort_keys_sort_like_ids(a in any_id::<OrderId>(), b in any_id::<OrderId>()) {
            prop_assert_eq!(order_list_order(a).cmp(&order_list_order(b)), a.cmp(&b));
            let entry = |id: OrderId| id.to_string().parse::<AuditEntryId>().expect("an entry id");
            let (x, y) = (entry(a), entry(b));
            prop_assert_eq!(audit_list_order(x).cmp(&audit_list_order(y)), x.cmp(&y));
        }

        /// Siblings' keys sort like `(name key, id)`, the order the tree sorts siblings in
        /// (`domain::category::build_forest`): for any two distinct names, whichever ids.
        /// The key reads back as its name key and id.
        #[test]
        fn sibling_keys_sort_like_the_tree(
            a in sibling_name(),
            b in sibling_name(),
            x in close_category_id(),
            y in close_category_id(),
        ) {
            prop_assume!(a != b);
            let (ka, kb) = (category_sibling_order(&a, x), category_sibling_order(&b, y));
            let tree = (a.unique_key(), x).cmp(&(b.unique_key(), y));
            prop_assert_eq!(ka.cmp(&kb), tree, "{:?} vs {:?}", ka, kb);
            let (name_key, id) = ka.rsplit_once(SIBLING_ORDER_SEPARATOR).expect("two parts");
            prop_assert_eq!(name_key, a.unique_key());
            prop_assert_eq!(id.parse::<CategoryId>(), Ok(x));
            prop_assert!(!a.unique_key().contains(SIBLING_ORDER_SEPARATOR));
        }

        /// A hand-off is below the bound of `now` exactly when it is due at or before
        /// `now`, and hand-offs sort by when they are due, then by order.
        #[test]
        fn due_hand_offs_are_a_range_below_the_bound(
            now in timestamp(),
            // Due exactly now, a millisecond either side, or further off.
            offset_ms in prop_oneof![
                prop::sample::select(vec![0_i64, -1, 1]),
                -2_000_i64..=2_000,
                -1_000_000_000_i64..=1_000_000_000,
            ],
            later in timestamp(),
            a in any_id::<OrderId>(),
            b in any_id::<OrderId>(),
        ) {
            let now_ms = now.as_datetime().unix_timestamp_nanos() / 1_000_000;
            let now_ms = i64::try_from(now_ms).expect("milliseconds");
            let due = at_ms((now_ms + offset_ms).clamp(-62_167_219_200_000, 253_402_300_799_999));
            let below = hand_off_due(due, a) < hand_off_due_bound(now);
            prop_assert_eq!(below, due <= now, "{} vs {}", due, now);
            let by_key = hand_off_due(due, a).cmp(&hand_off_due(later, b));
            prop_assert_eq!(by_key, (due, a).cmp(&(later, b)));
        }
    }
}
