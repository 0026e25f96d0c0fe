//! DynamoDB stopping mid-run: requests fail with a 503 problem that says when to retry,
//! nothing is half-written, and the function recovers on its own once DynamoDB is back.

use testkit::env::dynamodb_endpoint;
use testkit::events::ApiRequest;
use testkit::outage::Outage;

use crate::support::{App, order_body};

#[tokio::test]
async fn an_unreachable_table_is_a_503_that_changes_nothing_and_then_recovers() {
    let outage = Outage::start(&dynamodb_endpoint()).await;
    let app = App::reaching_dynamodb_at(&outage.endpoint()).await;
    let phone = app.product("Phone", "100.00", 5).await;
    let first = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    let first_id = first["id"].as_str().expect("id").to_owned();
    app.messages().await;
    let before = app.env.snapshot().await;

    outage.cut().await;
    let refused = app.place(&app.customer, &order_body(&[(phone, 2)])).await;
    let problem = refused.expect_problem(503).clone();
    assert_eq!(problem["type"], "/problems/service-unavailable");
    assert_eq!(refused.header("retry-after"), Some("2"));
    app.action(&app.customer, &first_id, "cancel")
        .await
        .expect_problem(503);
    app.send(ApiRequest::get("/api/v1/orders").bearer(&app.customer))
        .await
        .expect_problem(503);
    assert_eq!(app.env.snapshot().await, before, "nothing half-written");
    assert!(app.messages().await.is_empty(), "nothing handed off");

    outage.restore().await;
    app.placed(&app.customer, &order_body(&[(phone, 2)])).await;
    assert_eq!(
        app.stock(phone).await,
        2,
        "5 - 1 - 2: each order taken once"
    );
}
