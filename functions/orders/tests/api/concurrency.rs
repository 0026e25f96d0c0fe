//! Concurrency proofs against the local stack (DynamoDB Local isolates transactions; no
//! request is serialised for them): no oversell under contention, cancels restore stock
//! exactly once, one order per idempotency key, and a `TransactionConflict` retried.
//! A refused order is one of the 409s the contract allows — out of stock with its
//! `unavailable` lines, or the plain "retry it" conflict of a race lost every time — and
//! the assertions reject any other body.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{App, order_body};
use domain::order::OrderError;
use futures::future::join_all;
use serde_json::{Value, json};
use testkit::contention::Contention;
use testkit::env::dynamodb_endpoint;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_orders_for_the_last_ten_units_never_oversell() {
    let app = Arc::new(App::new().await);
    let last_ten = app.product("Last ten", "100.00", 10).await;

    // 40 customers' orders of one unit each race for 10 units; every fourth order placed,
    // numbered as the answers arrive (the first included, so there is always one), is
    // cancelled at once, giving its unit back to the race.
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks = (0..40).map(|_| {
        let (app, answered) = (app.clone(), answered.clone());
        tokio::spawn(async move {
            let response = app
                .place(&app.customer, &order_body(&[(last_ten, 1)]))
                .await;
            match response.status.as_u16() {
                201 if answered.fetch_add(1, Ordering::SeqCst) % 4 == 0 => {
                    let id = response.body["id"].as_str().expect("id").to_owned();
                    let cancel = app.action(&app.customer, &id, "cancel").await;
                    cancel.expect_status(200);
                    "cancelled"
                }
                201 => "placed",
                // The two 409s the contract allows here, and nothing else.
                409 => {
                    let problem = response.expect_problem(409);
                    assert_eq!(problem["type"], "/problems/conflict", "{problem}");
                    match problem.get("unavailable") {
                        // Out of stock: the one line, none left.
                        Some(unavailable) => {
                            let line = json!([{
                                "product_id": last_ten.to_string(),
                                "requested": 1,
                                "available": 0,
                            }]);
                            assert_eq!(unavailable, &line, "{problem}");
                            "refused"
                        }
                        // Enough stock came back every time the service read again, but
                        // another order took it first each time: a plain conflict that
                        // says to retry, with no other member.
                        None => {
                            assert_eq!(
                                problem["detail"],
                                OrderError::ConcurrentChange.to_string(),
                                "{problem}"
                            );
                            let members = problem.as_object().map(|o| o.len());
                            assert_eq!(members, Some(4), "type, title, status, detail: {problem}");
                            "raced"
                        }
                    }
                }
                other => panic!("unexpected {other}: {}", response.body),
            }
        })
    });
    let outcomes: Vec<&str> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let count = |what: &str| outcomes.iter().filter(|o| **o == what).count();
    let (placed, cancelled) = (count("placed"), count("cancelled"));
    let (refused, raced) = (count("refused"), count("raced"));
    assert_eq!(placed + cancelled + refused + raced, 40);

    let stock = app.stock(last_ten).await;
    assert!(placed <= 10, "oversold: {placed} orders hold units");
    assert_eq!(
        stock as usize,
        10 - placed,
        "stock = 10 - units held by live orders"
    );
    assert!(
        cancelled > 0 && refused + raced > 0,
        "the race was contended: {outcomes:?}"
    );

    // The orders the admin sees agree: live orders hold exactly the missing units.
    let list = app
        .send(
            testkit::events::ApiRequest::get("/api/v1/orders?status=CONFIRMED&limit=100")
                .bearer(&app.admin),
        )
        .await;
    list.expect_status(200);
    assert_eq!(list.body["items"].as_array().expect("items").len(), placed);
    let cancelled_list = app
        .send(
            testkit::events::ApiRequest::get("/api/v1/orders?status=CANCELLED&limit=100")
                .bearer(&app.admin),
        )
        .await;
    assert_eq!(
        cancelled_list.body["items"]
            .as_array()
            .expect("items")
            .len(),
        cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_cancels_restore_stock_once() {
    let app = Arc::new(App::new().await);
    let phone = app.product("Phone", "100.00", 10).await;
    for _ in 0..5 {
        let order = app.placed(&app.customer, &order_body(&[(phone, 3)])).await;
        let id = order["id"].as_str().expect("id").to_owned();
        let cancels = (0..2).map(|_| {
            let (app, id) = (app.clone(), id.clone());
            tokio::spawn(async move {
                app.action(&app.customer, &id, "cancel")
                    .await
                    .status
                    .as_u16()
            })
        });
        let mut statuses: Vec<u16> = join_all(cancels)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409]);
        assert_eq!(app.stock(phone).await, 10, "restored exactly once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_sent_concurrently_creates_one_order() {
    let app = Arc::new(App::new().await);
    let phone = app.product("Phone", "100.00", 100).await;
    let body = order_body(&[(phone, 2)]);
    let tasks = (0..10).map(|_| {
        let (app, body) = (app.clone(), body.clone());
        tokio::spawn(async move {
            let response = app.place_with_key(&app.customer, "same-click", &body).await;
            (response.status.as_u16(), response.body.clone())
        })
    });
    let responses: Vec<(u16, Value)> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let first = &responses[0].1;
    for (status, body) in &responses {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body, first, "every retry sees the first response");
    }
    assert_eq!(app.stock(phone).await, 98, "one order's stock");
    let list = app
        .send(testkit::events::ApiRequest::get("/api/v1/orders").bearer(&app.customer))
        .await;
    assert_eq!(list.body["items"], json!([first.clone()]));
    assert_eq!(app.messages().await.len(), 1, "one confirmation");
}

/// DynamoDB cancels a transaction with `TransactionConflict` while another transaction is
/// changing one of its items (DynamoDB Local never does: `testkit::contention` stands in
/// for the other writer). The orders service draws the stock buckets again and retries a
/// few times.
#[tokio::test]
async fn a_transaction_conflict_is_retried_and_the_order_placed_once() {
    let contention = Contention::start(&dynamodb_endpoint(), 2).await;
    let app = App::reaching_dynamodb_at(contention.endpoint()).await;
    let phone = app.product("Phone", "100.00", 5).await;

    let placed = app.place(&app.customer, &order_body(&[(phone, 2)])).await;
    placed.expect_status(201);
    assert_eq!(contention.conflicts_answered(), 2);
    assert_eq!(app.stock(phone).await, 3, "taken once");
    assert_eq!(app.messages().await.len(), 1, "one confirmation");
}

#[tokio::test]
async fn conflicts_that_outlast_the_retries_are_a_409_and_change_nothing() {
    let contention = Contention::start(&dynamodb_endpoint(), 100).await;
    let app = App::reaching_dynamodb_at(contention.endpoint()).await;
    let phone = app.product("Phone", "100.00", 5).await;
    let before = app.env.snapshot().await;

    let refused = app.place(&app.customer, &order_body(&[(phone, 2)])).await;
    refused.expect_problem(409);
    // The service drew again (after growing pauses) until its budget ran out, long before
    // the hundred conflicts the forwarder had in store.
    let tries = contention.conflicts_answered();
    assert!(tries > 1 && tries < 100, "{tries} tries");
    assert_eq!(app.env.snapshot().await, before);
    assert!(app.messages().await.is_empty());
}
