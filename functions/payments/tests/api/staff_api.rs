//! Staff's payment routes through the function: the unmatched list and assigning from it,
//! the attention list, and every refusal leaving the table as it was.

use domain::order::{OrderStatus, PaymentStatus};
use domain::payment::Receipt;
use domain::payment_use_cases::PaybillNotice;
use domain::{Money, OrderId};
use serde_json::{Value, json};
use testkit::events::ApiRequest;

use crate::support::App;

fn paybill(receipt: &str, amount: &str, reference: &str) -> PaybillNotice {
    PaybillNotice {
        receipt: Receipt::parse(receipt).expect("receipt"),
        amount: Money::parse_bound(amount).expect("amount"),
        bill_ref_number: reference.into(),
        phone_number: Some("2547 ***** 678".into()),
        payer_name: Some("WANJIKU".into()),
        paid_at: None,
    }
}

async fn unmatched(app: &App, token: &str) -> Value {
    let response = app
        .send(ApiRequest::get("/api/v1/payments?status=unmatched").bearer(token))
        .await;
    response.expect_status(200);
    response.body.clone()
}

async fn attention(app: &App) -> Value {
    let response = app
        .send(ApiRequest::get("/api/v1/payments?status=attention").bearer(&app.env.admin_token()))
        .await;
    response.expect_status(200);
    response.body.clone()
}

async fn assign(app: &App, payment: &str, body: &Value) -> testkit::events::ApiResponse {
    app.send(
        ApiRequest::post(&format!("/api/v1/payments/{payment}/assign"))
            .bearer(&app.env.admin_token())
            .json(body),
    )
    .await
}

#[tokio::test]
async fn an_unmatched_payment_is_listed_then_assigned_once_and_confirms_the_order() {
    let app = App::new().await;
    let order = app.order("100.00").await;
    app.service()
        .paybill(&paybill("SLK4000001", "116.00", "NO SUCH ORDER"))
        .await
        .expect("kept");
    let admin = app.env.admin_token();
    let list = unmatched(&app, &admin).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    let payment = &items[0];
    assert_eq!(payment["receipt"], "SLK4000001");
    assert_eq!(payment["amount"], "116.00");
    assert_eq!(payment["method"], "mpesa_paybill");
    assert_eq!(payment["account_reference"], "NO SUCH ORDER");
    assert_eq!(list["next_cursor"], Value::Null);
    let id = payment["id"].as_str().expect("id").to_owned();

    // Refusals first: each changes nothing.
    let before = app.env.snapshot().await;
    let customer = app.env.customer_token();
    app.send(ApiRequest::get("/api/v1/payments?status=unmatched").bearer(&customer))
        .await
        .expect_problem(403);
    app.send(ApiRequest::get("/api/v1/payments?status=unmatched"))
        .await
        .expect_problem(401);
    for query in [
        "",
        "?status=paid",
        "?status=attention&limit=5",
        "?status=unmatched&limit=0",
    ] {
        app.send(ApiRequest::get(&format!("/api/v1/payments{query}")).bearer(&admin))
            .await
            .expect_problem(400);
    }
    let unknown_order = OrderId::generate().to_string();
    let problem = assign(&app, &id, &json!({"order_id": unknown_order})).await;
    assert_eq!(
        problem.expect_problem(422)["errors"][0]["field"],
        "order_id"
    );
    assign(&app, &id, &json!({"order_id": "ORD-1"}))
        .await
        .expect_problem(422);
    assign(&app, &id, &json!({})).await.expect_problem(422);
    assign(
        &app,
        &id,
        &json!({"order_id": order.id.to_string(), "amount": "1"}),
    )
    .await
    .expect_problem(422);
    app.send(
        ApiRequest::post(&format!("/api/v1/payments/{id}/assign"))
            .bearer(&admin)
            .header("content-type", "application/json")
            .raw_body(b"{\"order_id\":".to_vec()),
    )
    .await
    .expect_problem(400);
    assign(
        &app,
        "not-a-payment",
        &json!({"order_id": order.id.to_string()}),
    )
    .await
    .expect_problem(404);
    assign(
        &app,
        &OrderId::generate().to_string(),
        &json!({"order_id": order.id.to_string()}),
    )
    .await
    .expect_problem(404);
    app.send(
        ApiRequest::post(&format!("/api/v1/payments/{id}/assign"))
            .bearer(&customer)
            .json(&json!({"order_id": order.id.to_string()})),
    )
    .await
    .expect_problem(403);
    assert_eq!(
        app.env.snapshot().await,
        before,
        "a refusal changed the table"
    );

    let before = app.requests.count();
    let assigned = assign(&app, &id, &json!({"order_id": order.id.to_string()})).await;
    assigned.expect_status(200);
    assert_eq!(
        app.requests.count() - before,
        3,
        "the unmatched payment, the order, one transaction"
    );
    assert_eq!(assigned.body["order_id"], order.id.to_string());
    assert_eq!(assigned.body["payment"]["status"], "succeeded");
    assert_eq!(assigned.body["payment"]["receipt"], "SLK4000001");

    let paid = app.stored(order.id).await;
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
    assert_eq!(
        paid.status,
        OrderStatus::Confirmed,
        "paid in full: confirmed"
    );
    assert_eq!(
        unmatched(&app, &admin).await["items"],
        json!([]),
        "an assigned payment is no longer unmatched"
    );
    let entries = app.history(order.id).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"payment.assigned"), "{actions:?}");
    assert!(actions.contains(&"order.confirmed"), "{actions:?}");
    let assigned_entry = entries
        .iter()
        .find(|e| e.action.as_str() == "payment.assigned")
        .expect("entry");
    assert_eq!(
        assigned_entry.actor.email.as_deref(),
        Some("admin@example.com")
    );

    // Again: already assigned, nothing changes.
    let before = app.env.snapshot().await;
    assign(&app, &id, &json!({"order_id": order.id.to_string()}))
        .await
        .expect_problem(409);
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn two_concurrent_assignments_of_one_payment_apply_once() {
    let app = App::new().await;
    let first = app.order("100.00").await;
    let second = app.order("100.00").await;
    app.service()
        .paybill(&paybill("SLK4000002", "50.00", "TYPO"))
        .await
        .expect("kept");
    let id = unmatched(&app, &app.env.admin_token()).await["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (to_first, to_second) = (
        json!({"order_id": first.id.to_string()}),
        json!({"order_id": second.id.to_string()}),
    );
    let (a, b) = tokio::join!(assign(&app, &id, &to_first), assign(&app, &id, &to_second));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let paid =
        app.stored(first.id).await.payments.len() + app.stored(second.id).await.payments.len();
    assert_eq!(paid, 1, "the payment counts on exactly one order");
}

#[tokio::test]
async fn an_overpaid_order_is_listed_for_staff_with_the_payment_that_brought_the_excess() {
    let app = App::new().await;
    let order = app.order("100.00").await;
    let reference = order.payment_reference().to_string();
    app.service()
        .paybill(&paybill("SLK4000003", "116.00", &reference))
        .await
        .expect("paid");
    assert_eq!(attention(&app).await["items"], json!([]));
    app.service()
        .paybill(&paybill("SLK4000004", "20.00", &reference))
        .await
        .expect("paid again");
    let list = attention(&app).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["reason"], "overpaid");
    assert_eq!(items[0]["receipt"], "SLK4000004");
    assert_eq!(items[0]["order_id"], order.id.to_string());
    assert_eq!(items[0]["order_number"], order.order_number.to_string());
    assert_eq!(list["next_cursor"], Value::Null);
}
