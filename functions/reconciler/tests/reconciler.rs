//! The reconciler against moto: a confirmation lost between the order's commit and the
//! send (the orders function crashed, or SQS failed) reaches the queue on the next run.

use std::time::Duration;

use devkit::testing::TestEnv;
use domain::order::{
    DeliveryAddress, HandOffPolicy, OrderRequest, OrderService, OrderStatus, OrderStore, Quantity,
    RequestedLine, VatRate, Viewer,
};
use domain::{CustomerId, ProductId};
use queue::SqsNotificationQueue;
use serde_json::json;
use storage::DynamoOrders;

type Service = OrderService<DynamoOrders, SqsNotificationQueue>;

fn service(env: &TestEnv, queue_url: &str, grace: Duration) -> Service {
    OrderService::new(
        DynamoOrders::new(env.catalog()),
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
fn broken_queue(env: &TestEnv) -> String {
    format!(
        "{}/123456789012/{}-missing",
        devkit::testing::moto_endpoint(),
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
    let report = reconciler::run(&reconciler).await.expect("run");
    assert_eq!((report.resent, report.failed), (1, 0));
    assert_eq!(
        env.drain(&queues.notifications).await,
        [json!({"order_id": placed.order.id.to_string(), "event": "order.confirmed"})]
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
    assert!(
        pending.hand_off_due.expect("still awaiting the notifier") > domain::Timestamp::now(),
        "next re-send scheduled later"
    );
}

#[tokio::test]
async fn only_confirmed_orders_past_their_grace_period_are_re_sent() {
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
        .change_status(viewer, cancelled.order.id, OrderStatus::Cancelled)
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
    assert_eq!(
        ids,
        [due.order.id],
        "not {:?}",
        [handed_off.order.id, pending.order.id, cancelled.order.id]
    );

    let report = reconciler::run(&now_due).await.expect("run");
    assert_eq!((report.resent, report.failed), (1, 0));
    assert_eq!(
        env.drain(&queues.notifications).await,
        [json!({"order_id": due.order.id.to_string(), "event": "order.confirmed"})]
    );
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
        [json!({"order_id": placed.order.id.to_string(), "event": "order.confirmed"})]
    );
}
