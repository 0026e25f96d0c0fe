//! `POST /orders/{id}/pay`: an M-Pesa prompt for what is due, 202 with the pending payment;
//! a second prompt while one waits, a cancelled or settled order: 409; no or a bad phone
//! number: 422; another customer's order: 404. Refused requests change nothing.

use serde_json::json;
use testkit::events::ApiRequest;

use crate::support::{App, order_body};

async fn pay(
    app: &App,
    token: &str,
    id: &str,
    body: Option<serde_json::Value>,
) -> testkit::events::ApiResponse {
    let request = ApiRequest::post(&format!("/api/v1/orders/{id}/pay")).bearer(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    app.send(request).await
}

#[tokio::test]
async fn a_prompt_for_what_is_due_is_202_and_a_second_one_waits_for_it() {
    let app = App::new().await;
    let phone = app.product("Phone X", "1000.50", 5).await;
    let mut body = order_body(&[(phone, 1)]);
    body["confirm"] = json!(false);
    let order = app.placed(&app.customer, &body).await;
    let id = order["id"].as_str().expect("id");
    assert_eq!(order["amount_due"], "1161.00");

    let before = app.requests.count();
    let response = pay(
        &app,
        &app.customer,
        id,
        Some(json!({"phone_number": "0712 345 678"})),
    )
    .await;
    let round_trips = app.requests.count() - before;
    response.expect_status(202);
    let payment = &response.body;
    assert_eq!(payment["method"], "mpesa_prompt");
    assert_eq!(payment["status"], "pending");
    assert_eq!(payment["amount"], "1161.00");
    assert_eq!(payment["phone_number"], "+254712345678");
    assert!(
        payment["checkout_request_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("ws_CO_"))
    );
    assert_eq!(
        round_trips, 3,
        "one read of the order, the pending payment's write, the write of M-Pesa's acceptance"
    );

    let shown = app
        .send(ApiRequest::get(&format!("/api/v1/orders/{id}")).bearer(&app.customer))
        .await;
    assert_eq!(shown.body["payment_status"], "pending");
    assert_eq!(shown.body["payments"][0]["id"], payment["id"]);

    let before = app.env.snapshot().await;
    let again = pay(&app, &app.customer, id, None).await;
    again.expect_problem(409);
    assert_eq!(
        app.env.snapshot().await,
        before,
        "a refused prompt changes nothing"
    );
}

#[tokio::test]
async fn refused_prompts_say_why_and_change_nothing() {
    let app = App::new().await;
    let phone = app.product("Phone X", "100.00", 5).await;
    let order = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let before = app.env.snapshot().await;

    // The token's customer has no phone on a stored profile, and none is given.
    let problem = pay(&app, &app.customer, &id, None)
        .await
        .expect_problem(422)
        .clone();
    assert_eq!(problem["errors"][0]["field"], "phone_number");
    let problem = pay(
        &app,
        &app.customer,
        &id,
        Some(json!({"phone_number": "12345"})),
    )
    .await
    .expect_problem(422)
    .clone();
    assert_eq!(problem["errors"][0]["field"], "phone_number");
    pay(
        &app,
        &app.customer,
        &id,
        Some(json!({"phone": "0712345678"})),
    )
    .await
    .expect_problem(422);
    pay(
        &app,
        &app.other,
        &id,
        Some(json!({"phone_number": "0712345678"})),
    )
    .await
    .expect_problem(404);
    pay(
        &app,
        &app.customer,
        "01JDA0Z9Y8X7W6V5T4S3R2Q1P0",
        Some(json!({})),
    )
    .await
    .expect_problem(404);
    assert_eq!(app.env.snapshot().await, before);

    app.action(&app.customer, &id, "cancel")
        .await
        .expect_status(200);
    let before = app.env.snapshot().await;
    pay(
        &app,
        &app.customer,
        &id,
        Some(json!({"phone_number": "0712345678"})),
    )
    .await
    .expect_problem(409);
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn an_admin_prompts_the_customers_phone() {
    let app = App::new().await;
    let phone = app.product("Phone X", "100.00", 5).await;
    let order = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    let id = order["id"].as_str().expect("id");
    let response = pay(
        &app,
        &app.admin,
        id,
        Some(json!({"phone_number": "+254 110 000 001"})),
    )
    .await;
    response.expect_status(202);
    assert_eq!(response.body["phone_number"], "+254110000001");
}

#[tokio::test]
async fn cancelling_a_paid_order_asks_mpesa_for_the_refund_right_after() {
    let app = App::new().await;
    let phone = app.product("Phone X", "100.00", 5).await;
    let order = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    let id = order["id"].as_str().expect("id");
    pay(
        &app,
        &app.customer,
        id,
        Some(json!({"phone_number": "0712345678"})),
    )
    .await
    .expect_status(202);
    // M-Pesa's callback, handed to the payments service as the payments function does.
    let stk = format!(
        "/api/v1/payments/callbacks/{}/stk",
        crate::support::CALLBACK_TOKEN
    );
    let body = &app.callbacks.wait_for(&stk, 1).await[0];
    let callback = mpesa::StkCallback::parse(body).expect("callback");
    app.payments
        .stk_callback(&domain::payment_use_cases::StkNotice {
            checkout_request_id: callback.checkout_request_id.clone(),
            receipt: callback.paid.as_ref().map(|p| p.receipt.clone()),
            amount: callback.paid.as_ref().map(|p| p.amount),
        })
        .await
        .expect("paid");

    let cancelled = app.action(&app.customer, id, "cancel").await;
    cancelled.expect_status(200);
    assert_eq!(cancelled.body["payment_status"], "refund_pending");
    assert_eq!(
        cancelled.body["payments"][0]["reversal"]["status"],
        "requested"
    );
    // The reversal went to M-Pesa after the commit: its result comes back to our route.
    let result = format!(
        "/api/v1/payments/callbacks/{}/reversal/result",
        crate::support::CALLBACK_TOKEN
    );
    let posted = app.callbacks.wait_for(&result, 1).await;
    let reversal = mpesa::ReversalResult::parse(&posted[0]).expect("result");
    assert!(reversal.result_code.is_success());
}

#[tokio::test]
async fn admins_list_orders_by_payment_status() {
    let app = App::new().await;
    let phone = app.product("Phone X", "100.00", 5).await;
    let unpaid = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    let paid = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    let reference = paid["payment_reference"].as_str().expect("reference");
    app.payments
        .paybill(&domain::payment_use_cases::PaybillNotice {
            receipt: domain::payment::Receipt::parse("SLK0000301").expect("receipt"),
            amount: domain::Money::parse_price("116.00").expect("amount"),
            bill_ref_number: reference.to_owned(),
            phone_number: None,
            payer_name: None,
            paid_at: None,
        })
        .await
        .expect("paid");
    let list = |status: &'static str, token: String| {
        let app = &app;
        async move {
            app.send(
                ApiRequest::get(&format!("/api/v1/orders?payment_status={status}")).bearer(&token),
            )
            .await
        }
    };
    let ids = |response: &testkit::events::ApiResponse| -> Vec<String> {
        response.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|o| o["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let listed = list("paid", app.admin.clone()).await;
    listed.expect_status(200);
    assert_eq!(
        ids(&listed),
        vec![paid["id"].as_str().expect("id").to_owned()]
    );
    assert_eq!(listed.body["items"][0]["payment_status"], "paid");
    let listed = list("unpaid", app.admin.clone()).await;
    assert_eq!(
        ids(&listed),
        vec![unpaid["id"].as_str().expect("id").to_owned()]
    );
    assert!(ids(&list("refunded", app.admin.clone()).await).is_empty());

    list("paid", app.customer.clone()).await.expect_problem(403);
    list("owing", app.admin.clone()).await.expect_problem(400);
    app.send(
        ApiRequest::get("/api/v1/orders?payment_status=paid&status=CONFIRMED").bearer(&app.admin),
    )
    .await
    .expect_problem(400);
}
