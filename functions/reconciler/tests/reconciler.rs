//! The reconciler against moto: a confirmation lost between the order's commit and the
//! send (the orders function crashed, or SQS failed) reaches the queue on the next run.

use std::time::Duration;

use domain::order::{
    DeliveryAddress, HandOffPolicy, OrderRequest, OrderService, OrderStatus, OrderStore, Quantity,
    RequestedLine, VatRate, Viewer,
};
use domain::{CustomerId, ProductId};
use queue::SqsNotificationQueue;
use serde_json::json;
use storage::DynamoOrders;
use testkit::env::TestEnv;

type Service = OrderService<DynamoOrders, SqsNotificationQueue>;

fn service(env: &TestEnv, queue_url: &str, grace: Duration) -> Service {
    OrderService::new(
        DynamoOrders::new(env.client.clone(), env.table.as_str()),
        SqsNotificationQueue::new(env.sqs.clone(), queue_url),
        VatRate::kenya_standard(),
        HandOffPolicy {
            grace,
            ..HandOffPolicy::default()
        },
    )
}

fn request(product: ProductId, confirm: bool) -> OrderRequest {
    let line = RequestedLine {
        product_id: product,
        quantity: Quantity::new(1).expect("quantity"),
    };
    let address = DeliveryAddress::parse("Moi Avenue 1").expect("address");
    OrderRequest::new(vec![line], address, None, confirm).expect("valid")
}

fn customer() -> CustomerId {
    CustomerId::generate()
}

/// A queue URL on the local endpoint that does not exist: every send fails, as if the
/// function had crashed right after the commit.
/// The customer of [`customer`], as the change history records them.
fn customer_actor() -> domain::audit::Actor {
    domain::audit::Actor::account(customer(), "customer@example.com")
}

fn broken_queue(env: &TestEnv) -> String {
    format!(
        "{}/123456789012/{}-missing",
        testkit::env::moto_endpoint(),
        env.table
    )
}

#[tokio::test]
async fn a_confirmation_lost_after_commit_is_re_sent_by_the_reconciler() {
    let env = TestEnv::new().await;
    let queues = env.queues().await;
    let phone = env.product("Phone", "100.00", 100).await;

    // The orders function commits the order, then fails to send the message.
    let crashed = service(&env, &broken_queue(&env), Duration::ZERO);
    let placed = crashed
        .place(customer(), &request(phone, true), None)
        .await
        .expect("the order commits even though the send fails");
    assert_eq!(placed.order.status, OrderStatus::Confirmed);
    assert!(env.drain(&queues.notifications).await.is_empty(), "lost");

    // The next scheduled run finds it in the sparse index and sends it.
    let reconciler = service(&env, &queues.notifications, Duration::from_secs(60));
    let before_run = domain::Timestamp::now();
    let report = reconciler::run(&reconciler).await.expect("run");
    let after_run = domain::Timestamp::now();
    assert_eq!((report.resent, report.failed), (1, 0));
    assert_eq!(
        env.drain(&queues.notifications).await,
        [json!({"order_id": placed.order.id.to_string(), "event": "order.notify"})]
    );

    // Re-sends back off: the next run, right after, sends nothing more.
    let again = reconciler::run(&reconciler).await.expect("run");
    assert_eq!((again.resent, again.failed), (0, 0));
    assert!(env.drain(&queues.notifications).await.is_empty());
    let pending = reconciler
        .store()
        .order(placed.order.id)
        .await
        .expect("read")
        .expect("order");
    // The next re-send is scheduled grace × 2 after the run (bounded by instants read
    // around it, so the check does not depend on how long the test took).
    let due = pending.hand_off_due.expect("still awaiting the notifier");
    let backoff = Duration::from_secs(2 * 60);
    assert!(
        before_run.after(backoff) <= due && due <= after_run.after(backoff),
        "next re-send scheduled grace × 2 after the run: {due}"
    );
}

#[tokio::test]
async fn only_orders_with_something_to_tell_past_their_grace_period_are_re_sent() {
    let env = TestEnv::new().await;
    let queues = env.queues().await;
    let phone = env.product("Phone", "100.00", 100).await;
    let now_due = service(&env, &queues.notifications, Duration::ZERO);
    let later = service(&env, &queues.notifications, Duration::from_secs(3600));
    let me = customer();
    let viewer = Viewer {
        customer_id: me,
        admin: false,
    };

    let handed_off = later
        .place(me, &request(phone, true), None)
        .await
        .expect("placed");
    let pending = now_due
        .place(me, &request(phone, false), None)
        .await
        .expect("placed");
    let cancelled = now_due
        .place(me, &request(phone, true), None)
        .await
        .expect("placed");
    now_due
        .change_status(
            viewer,
            &customer_actor(),
            cancelled.order.id,
            OrderStatus::Cancelled,
        )
        .await
        .expect("cancelled");
    let due = now_due
        .place(me, &request(phone, true), None)
        .await
        .expect("placed");
    env.drain(&queues.notifications).await;

    let due_now = now_due
        .store()
        .due_hand_offs(domain::Timestamp::now(), 100)
        .await
        .expect("query");
    let ids: Vec<_> = due_now.iter().map(|p| p.order_id).collect();
    // The cancelled order owes its customer the cancellation; the confirmed one its
    // confirmation. The one still in its grace period and the pending one owe nothing yet.
    assert_eq!(
        ids,
        [cancelled.order.id, due.order.id],
        "not {:?}",
        [handed_off.order.id, pending.order.id]
    );

    let report = reconciler::run(&now_due).await.expect("run");
    assert_eq!((report.resent, report.failed), (2, 0));
    let notify = |id: domain::OrderId| json!({"order_id": id.to_string(), "event": "order.notify"});
    let mut resent = env.drain(&queues.notifications).await;
    resent.sort_by_key(|m| m["order_id"].as_str().unwrap_or_default().to_owned());
    let mut expected = [notify(cancelled.order.id), notify(due.order.id)];
    expected.sort_by_key(|m| m["order_id"].as_str().unwrap_or_default().to_owned());
    assert_eq!(resent, expected);
}

#[tokio::test]
async fn a_failing_queue_leaves_confirmations_due_for_the_next_run() {
    let env = TestEnv::new().await;
    let queues = env.queues().await;
    let phone = env.product("Phone", "100.00", 100).await;
    let broken = service(&env, &broken_queue(&env), Duration::ZERO);
    let placed = broken
        .place(customer(), &request(phone, true), None)
        .await
        .expect("placed");

    let report = reconciler::run(&broken).await.expect("run");
    assert_eq!((report.resent, report.failed), (0, 1));

    let fixed = service(&env, &queues.notifications, Duration::from_secs(60));
    let report = reconciler::run(&fixed).await.expect("run");
    assert_eq!((report.resent, report.failed), (1, 0));
    assert_eq!(
        env.drain(&queues.notifications).await,
        [json!({"order_id": placed.order.id.to_string(), "event": "order.notify"})]
    );
}

/// Rewrites `id`'s index keys to their form before the order indexes were sharded (one
/// partition per list), as a table written by an earlier release holds them.
async fn unshard(env: &TestEnv, id: domain::OrderId, status: OrderStatus, hand_off_due: bool) {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    use storage::keys;
    let key = keys::order(id);
    let mut update = env
        .client
        .update_item()
        .table_name(&env.table)
        .key(keys::PK, S(key.pk))
        .key(keys::SK, S(key.sk))
        .expression_attribute_names("#g2", keys::GSI2PK)
        .expression_attribute_names("#g3", keys::GSI3PK)
        .expression_attribute_values(":g2", S(keys::ORDER_LIST.into()))
        .expression_attribute_values(":g3", S(keys::orders_in_status_list(status)));
    let mut expression = "SET #g2 = :g2, #g3 = :g3".to_owned();
    update = update.expression_attribute_names("#g4", keys::GSI4PK);
    if hand_off_due {
        expression.push_str(", #g4 = :g4");
        update = update.expression_attribute_values(":g4", S(keys::UNSHARDED_HAND_OFFS_DUE.into()));
    } else {
        // That release kept no hand-off for it (a cancellation told nobody then).
        expression.push_str(" REMOVE #g4, #g4s, hand_off_due");
        update = update.expression_attribute_names("#g4s", keys::GSI4SK);
    }
    update
        .update_expression(expression)
        .send()
        .await
        .expect("rewritten to the unsharded keys");
}

/// The ids of the first page of `listing`, as the admin list shows them.
async fn listed(
    store: &DynamoOrders,
    listing: domain::order::OrderListing,
) -> Vec<domain::OrderId> {
    let page = domain::PageRequest {
        limit: domain::PageLimit::new(100).expect("limit"),
        cursor: None,
    };
    let page = store.list_orders(listing, page).await.expect("list");
    page.items.iter().map(|o| o.id).collect()
}

#[tokio::test]
async fn orders_from_before_sharding_are_filed_under_their_shards_and_their_hand_offs_sent() {
    use domain::order::OrderListing;
    use storage::UpgradeRun;

    let env = TestEnv::new().await;
    let queues = env.queues().await;
    let phone = env.product("Phone", "100.00", 100).await;
    let broken = service(&env, &broken_queue(&env), Duration::ZERO);
    let me = customer();
    // A confirmation whose hand-off was lost, and a cancelled order, both stored by the
    // release before sharding; then an order placed after the upgrade.
    let lost = broken
        .place(me, &request(phone, true), None)
        .await
        .expect("placed");
    unshard(&env, lost.order.id, OrderStatus::Confirmed, true).await;
    let cancelled = broken
        .place(me, &request(phone, false), None)
        .await
        .expect("placed");
    broken
        .change_status(
            Viewer {
                customer_id: me,
                admin: false,
            },
            &customer_actor(),
            cancelled.order.id,
            OrderStatus::Cancelled,
        )
        .await
        .expect("cancelled");
    unshard(&env, cancelled.order.id, OrderStatus::Cancelled, false).await;
    let reconciler = service(&env, &queues.notifications, Duration::from_secs(60));
    let fresh = reconciler
        .place(me, &request(phone, true), None)
        .await
        .expect("placed");
    env.drain(&queues.notifications).await;

    let store = reconciler.store();
    assert_eq!(
        listed(store, OrderListing::All).await,
        [fresh.order.id],
        "hidden"
    );
    let now = domain::Timestamp::now();
    let due = reconciler
        .store()
        .due_hand_offs(now, 100)
        .await
        .expect("due");
    assert!(
        due.is_empty(),
        "the lost hand-off is invisible to the sharded readers"
    );

    let filed = reconciler::upgrades::file_unsharded(reconciler.store())
        .await
        .expect("filed");
    assert_eq!(filed.filed, 2);
    let mut all = vec![fresh.order.id, cancelled.order.id, lost.order.id];
    all.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(listed(store, OrderListing::All).await, all);
    assert_eq!(
        listed(store, OrderListing::Status(OrderStatus::Cancelled)).await,
        [cancelled.order.id]
    );
    let report = reconciler::run(&reconciler).await.expect("run");
    assert_eq!((report.resent, report.failed), (1, 0));
    assert_eq!(
        env.drain(&queues.notifications).await,
        [json!({"order_id": lost.order.id.to_string(), "event": "order.notify"})]
    );
    assert_eq!(
        reconciler::upgrades::file_unsharded(reconciler.store())
            .await
            .expect("filed"),
        UpgradeRun {
            filed: 0,
            done: true
        },
        "nothing left: a second run is a no-op"
    );
}

/// Takes `id` off GSI5, as an order whose notification failed before GSI5 existed.
async fn unlist_failed(env: &TestEnv, id: domain::OrderId) {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    use storage::keys;
    let key = keys::order(id);
    env.client
        .update_item()
        .table_name(&env.table)
        .key(keys::PK, S(key.pk))
        .key(keys::SK, S(key.sk))
        .update_expression("REMOVE #p, #s")
        .expression_attribute_names("#p", keys::GSI5PK)
        .expression_attribute_names("#s", keys::GSI5SK)
        .send()
        .await
        .expect("taken off GSI5");
}

#[tokio::test]
async fn failed_notifications_stored_before_gsi5_are_filed_once_by_a_resumable_walk() {
    use domain::notification::NotificationStore;
    use domain::notification::{Channel, ChannelState, ChannelStatus, ErrorClass};
    use domain::order::OrderListing;
    use storage::UpgradeRun;
    use testkit::env::{RequestCounter, counted_client, dynamodb_endpoint};

    let env = TestEnv::new().await;
    let queues = env.queues().await;
    let phone = env.product("Phone", "100.00", 100).await;
    let orders = service(&env, &queues.notifications, Duration::from_secs(60));
    let store = orders.store();
    let me = customer();
    let mut failed = Vec::new();
    for i in 0..12 {
        let id = orders
            .place(me, &request(phone, true), None)
            .await
            .expect("placed")
            .order
            .id;
        // Two in three had their SMS or email refused under the earlier release.
        let channel = match i % 3 {
            0 => Channel::Sms,
            1 => Channel::Email,
            _ => continue,
        };
        let refused = ChannelState {
            status: ChannelStatus::Failed,
            attempts: 1,
            last_error: Some(ErrorClass::new("InvalidPhoneNumber")),
            version: 1,
            ..ChannelState::default()
        };
        assert!(
            store
                .save_channel(id, channel, 0, &refused)
                .await
                .expect("written")
        );
        unlist_failed(&env, id).await;
        failed.push(id);
    }
    env.drain(&queues.notifications).await;
    // The oldest also from before sharding.
    unshard(&env, failed[0], OrderStatus::Confirmed, true).await;
    assert!(
        listed(store, OrderListing::NotificationFailed)
            .await
            .is_empty()
    );

    // Filed under its shards, the unsharded one is listed as failed too.
    let unsharded = reconciler::upgrades::file_unsharded(store).await;
    assert_eq!(unsharded.expect("filed").filed, 1);
    assert_eq!(
        listed(store, OrderListing::NotificationFailed).await,
        [failed[0]]
    );

    // One order a shard a step, two steps a call: each call goes on where the last
    // stopped, until the walk has passed the oldest order.
    let requests = RequestCounter::default();
    let counted = DynamoOrders::new(
        counted_client(&dynamodb_endpoint(), requests.clone()),
        env.table.as_str(),
    );
    let (mut filed, mut calls) = (0, 0);
    loop {
        let run = counted
            .file_failed_notifications(2, 1)
            .await
            .expect("a walk step");
        filed += run.filed;
        calls += 1;
        if run.done {
            break;
        }
        assert!(calls < 100, "the walk ends");
    }
    assert!(calls > 1, "several calls: {calls}");
    assert_eq!(filed, failed.len() - 1, "each once");
    let mut newest_first = failed.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        listed(store, OrderListing::NotificationFailed).await,
        newest_first
    );

    // Done: a call (every reconciler run from now on) is one GetItem and changes nothing.
    let before = env.snapshot().await;
    let count = requests.count();
    assert_eq!(
        counted
            .file_failed_notifications(10, 100)
            .await
            .expect("done"),
        UpgradeRun {
            filed: 0,
            done: true
        }
    );
    assert_eq!(requests.count() - count, 1);
    assert_eq!(
        reconciler::upgrades::file_failed_notifications(store)
            .await
            .expect("done")
            .filed,
        0
    );
    assert_eq!(env.snapshot().await, before);
}

/// Rewrites category `id`'s GSI2 sort key to the form releases before the current one
/// wrote (`keys::legacy_category_sibling_order`), as a table written by them holds it.
async fn legacy_sibling_key(env: &TestEnv, category: &domain::category::Category) {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    use storage::keys;
    let key = keys::category(category.id);
    let legacy = keys::legacy_category_sibling_order(&category.name, category.id);
    env.client
        .update_item()
        .table_name(&env.table)
        .key(keys::PK, S(key.pk))
        .key(keys::SK, S(key.sk))
        .update_expression("SET #k = :k")
        .expression_attribute_names("#k", keys::GSI2SK)
        .expression_attribute_values(":k", S(legacy))
        .send()
        .await
        .expect("rewritten to the earlier sibling key");
}

/// The stored GSI2 sort key of category `id`.
async fn stored_sibling_key(env: &TestEnv, id: domain::CategoryId) -> String {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    use storage::keys;
    let key = keys::category(id);
    let item = env
        .client
        .get_item()
        .table_name(&env.table)
        .key(keys::PK, S(key.pk))
        .key(keys::SK, S(key.sk))
        .consistent_read(true)
        .send()
        .await
        .expect("read")
        .item
        .expect("the category");
    match item.get(keys::GSI2SK) {
        Some(S(sort_key)) => sort_key.clone(),
        other => panic!("no sibling key: {other:?}"),
    }
}

/// The names of the first page of `listing`, as `GET /api/v1/categories` lists them.
async fn listed_names(
    catalog: &storage::DynamoCatalog,
    listing: domain::catalog::CategoryListing,
) -> Vec<String> {
    use domain::CategoryStore;
    let page = domain::PageRequest {
        limit: domain::PageLimit::new(100).expect("limit"),
        cursor: None,
    };
    let page = catalog.list_categories(listing, page).await.expect("list");
    page.items
        .iter()
        .map(|c| c.name.as_str().to_owned())
        .collect()
}

/// `snapshot` without the upgrade's progress item and without every item's GSI2 sort
/// key: what the re-keying must leave byte-identical.
fn all_but_sibling_keys(snapshot: &[String]) -> Vec<String> {
    const FIELD: &str = "GSI2SK=S(\"";
    snapshot
        .iter()
        .filter(|item| !item.contains("PK=S(\"UPGRADE#"))
        .map(|item| match item.find(FIELD) {
            Some(start) => {
                let value = &item[start + FIELD.len()..];
                let end = value.find("\")").expect("the key's end") + 2;
                format!("{}{}", &item[..start], &value[end..])
            }
            None => item.clone(),
        })
        .collect()
}

#[tokio::test]
async fn categories_stored_with_the_earlier_sibling_key_are_re_keyed_once_and_silently() {
    use domain::CategoryStore;
    use domain::catalog::CategoryListing;
    use domain::category::{CategoryName, build_forest};
    use storage::{DynamoCatalog, UpgradeRun, keys};
    use testkit::env::{RequestCounter, admin_actor, counted_client, dynamodb_endpoint};

    let env = TestEnv::new().await;
    let catalog = env.catalog();
    let create = |name: &str, parent: Option<domain::CategoryId>| {
        let catalog = catalog.clone();
        let name = CategoryName::parse(name).expect("name");
        async move {
            catalog
                .create_category(name, parent, &admin_actor())
                .await
                .expect("created")
        }
    };
    // A table of an earlier release: siblings whose names begin one another, at the top
    // level and under a parent, all under the earlier key.
    let shop = create("Shop", None).await;
    let mut stored = vec![shop.clone()];
    for name in ["Ab", "A\"", "A", "A!", "A B"] {
        stored.push(create(name, None).await);
        stored.push(create(name, Some(shop.id)).await);
    }
    for category in &stored {
        legacy_sibling_key(&env, category).await;
    }
    let earlier = ["A B", "A!", "A\"", "A", "Ab"];
    assert_eq!(
        listed_names(&catalog, CategoryListing::ChildrenOf(shop.id)).await,
        earlier,
        "the earlier order: \"A B\" before \"A\""
    );
    let before = env.snapshot().await;

    // Three categories a call: the first re-keys three, the next the rest and is done.
    let requests = RequestCounter::default();
    let counted = DynamoCatalog::new(
        counted_client(&dynamodb_endpoint(), requests.clone()),
        env.table.as_str(),
    );
    let first = counted.rekey_category_siblings(3).await.expect("a step");
    assert_eq!(
        first,
        UpgradeRun {
            filed: 3,
            done: false
        }
    );
    // The progress item, the categories (one query), three updates, the progress.
    assert_eq!(requests.count(), 1 + 1 + 3 + 1);
    let count = requests.count();
    let rest = counted
        .rekey_category_siblings(3_000)
        .await
        .expect("a step");
    assert_eq!(
        rest,
        UpgradeRun {
            filed: stored.len() - 3,
            done: true
        }
    );
    let updates = u64::try_from(stored.len() - 3).expect("count");
    assert_eq!(requests.count() - count, 1 + 1 + updates + 1);

    // Every key is the current one, and the lists follow the tree.
    for category in &stored {
        assert_eq!(
            stored_sibling_key(&env, category.id).await,
            keys::category_sibling_order(&category.name, category.id)
        );
    }
    let tree = build_forest(catalog.subtree(None).await.expect("every category"));
    let tree_names = |nodes: &[domain::category::CategoryNode]| -> Vec<String> {
        nodes.iter().map(|n| n.name.as_str().to_owned()).collect()
    };
    let top = listed_names(&catalog, CategoryListing::Roots).await;
    assert_eq!(top, ["A", "A B", "A!", "A\"", "Ab", "Shop"]);
    assert_eq!(top, tree_names(&tree));
    let children = listed_names(&catalog, CategoryListing::ChildrenOf(shop.id)).await;
    assert_eq!(children, ["A", "A B", "A!", "A\"", "Ab"]);
    let shop_node = tree.iter().find(|n| n.id == shop.id).expect("Shop");
    assert_eq!(children, tree_names(&shop_node.children));

    // Nothing else changed: no history entry, no revision or `updated_at`; only the
    // progress item is new.
    let after = env.snapshot().await;
    assert_eq!(all_but_sibling_keys(&after), all_but_sibling_keys(&before));
    assert_eq!(after.len(), before.len() + 1);
    assert_ne!(after, before);

    // Done: a call (every reconciler run from now on) is one GetItem and changes nothing.
    let count = requests.count();
    assert_eq!(
        counted.rekey_category_siblings(3_000).await.expect("done"),
        UpgradeRun {
            filed: 0,
            done: true
        }
    );
    assert_eq!(requests.count() - count, 1);
    assert_eq!(
        reconciler::upgrades::rekey_category_siblings(&catalog)
            .await
            .expect("done")
            .filed,
        0
    );
    assert_eq!(env.snapshot().await, after);
}

#[tokio::test]
async fn a_table_of_this_release_needs_no_re_keying_and_then_costs_one_get_item_a_run() {
    use domain::CategoryStore;
    use domain::category::CategoryName;
    use storage::{DynamoCatalog, UpgradeRun};
    use testkit::env::{RequestCounter, admin_actor, counted_client, dynamodb_endpoint};

    let env = TestEnv::new().await;
    let catalog = env.catalog();
    let root = catalog
        .create_category(
            CategoryName::parse("A").expect("name"),
            None,
            &admin_actor(),
        )
        .await
        .expect("created");
    catalog
        .create_category(
            CategoryName::parse("A B").expect("name"),
            Some(root.id),
            &admin_actor(),
        )
        .await
        .expect("created");
    let before = env.snapshot().await;

    let requests = RequestCounter::default();
    let counted = DynamoCatalog::new(
        counted_client(&dynamodb_endpoint(), requests.clone()),
        env.table.as_str(),
    );
    let done = UpgradeRun {
        filed: 0,
        done: true,
    };
    assert_eq!(counted.rekey_category_siblings(1).await.expect("run"), done);
    // The progress item, the categories (one query), recording it done.
    assert_eq!(requests.count(), 3);
    let after = env.snapshot().await;
    let progress = |item: &&String| item.contains("PK=S(\"UPGRADE#");
    assert_eq!(after.iter().filter(progress).count(), 1);
    let rest: Vec<String> = after.iter().filter(|i| !progress(i)).cloned().collect();
    assert_eq!(rest, before, "only the progress item is new");

    let count = requests.count();
    assert_eq!(counted.rekey_category_siblings(1).await.expect("run"), done);
    assert_eq!(requests.count() - count, 1);
    assert_eq!(env.snapshot().await, after);
}
