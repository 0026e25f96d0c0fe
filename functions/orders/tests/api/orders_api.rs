//! The orders Lambda, driven with real API Gateway v2 events against moto (DynamoDB and
//! SQS).

use crate::support::{App, order_body};
use domain::ProductStore;
use serde_json::{Value, json};
use testkit::events::ApiRequest;

fn id_of(order: &Value) -> String {
    order["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn placing_an_order_prices_it_decrements_stock_and_hands_it_to_the_notifier() {
    let app = App::new().await;
    let phone = app.product("Phone X", "1499.00", 5).await;
    let case = app.product("Case", "250.50", 10).await;

    let before = app.requests.count();
    let response = app
        .place(&app.customer, &order_body(&[(phone, 2), (case, 3)]))
        .await;
    let round_trips = app.requests.count() - before;
    response.expect_status(201);
    let order = &response.body;

    assert_eq!(
        round_trips, 2,
        "one BatchGetItem and one TransactWriteItems"
    );
    assert_eq!(order["status"], "CONFIRMED");
    assert_eq!(order["customer_id"], app.customer_id());
    assert_eq!(order["currency"], "KES");
    assert_eq!(order["subtotal"], "3749.50");
    assert_eq!(order["tax_amount"], "599.92");
    assert_eq!(order["total_amount"], "4349.42");
    assert_eq!(order["items"][0]["product_id"], phone.to_string());
    assert_eq!(order["items"][0]["product_name"], "Phone X");
    assert_eq!(order["items"][0]["unit_price"], "1499.00");
    assert_eq!(order["items"][0]["quantity"], 2);
    assert_eq!(order["items"][0]["line_total"], "2998.00");
    assert!(order["items"][0]["sku"].as_str().is_some());
    assert_eq!(order["items"][1]["line_total"], "751.50");
    assert_eq!(order["delivery_address"], "Moi Avenue 1, Nairobi");
    assert_eq!(order["notes"], Value::Null);
    // Unpaid: what M-Pesa must collect, rounded up to whole shillings, and the Paybill
    // account number, derived from the order number.
    assert_eq!(order["payment_status"], "unpaid");
    assert_eq!(order["amount_paid"], "0.00");
    assert_eq!(order["amount_due"], "4350.00");
    assert_eq!(order["payments"], serde_json::json!([]));
    let number = order["order_number"].as_str().expect("number");
    assert_eq!(
        order["payment_reference"],
        format!("{}{}", &number[6..12], &number[13..])
    );
    assert_eq!(
        (order["sms_sent"].clone(), order["email_sent"].clone()),
        (json!(false), json!(false))
    );
    assert!(order["confirmed_at"].is_string());
    assert_eq!(order["cancelled_at"], Value::Null);
    let number = order["order_number"].as_str().expect("number");
    assert!(number.starts_with("ORD-") && number.len() == 19, "{number}");
    assert_eq!(
        response.header("location"),
        Some(format!("/api/v1/orders/{}", id_of(order)).as_str())
    );

    assert_eq!((app.stock(phone).await, app.stock(case).await), (3, 7));
    assert_eq!(
        app.messages().await,
        [json!({"order_id": id_of(order), "event": "order.confirmed"})]
    );

    // Prices are snapshotted: a later price change does not touch the order.
    app.env
        .catalog()
        .update_product(
            phone,
            domain::product::ProductChange {
                price: Some(domain::Money::parse_price("999.00").expect("price")),
                ..Default::default()
            },
            &testkit::env::admin_actor(),
        )
        .await
        .expect("price change");
    let again = app
        .send(ApiRequest::get(&format!("/api/v1/orders/{}", id_of(order))).bearer(&app.customer))
        .await;
    again.expect_status(200);
    assert_eq!(again.body["items"][0]["unit_price"], "1499.00");
    assert_eq!(again.body["total_amount"], "4349.42");
}

#[tokio::test]
async fn invalid_orders_get_422_naming_the_field_and_change_nothing() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 5).await;
    let before = app.env.snapshot().await;
    let p = phone.to_string();
    let cases = [
        (json!({"items": [], "delivery_address": "x"}), "items"),
        (
            json!({"items": [{"product_id": p, "quantity": 0}], "delivery_address": "x"}),
            "items[0].quantity",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": 1001}], "delivery_address": "x"}),
            "items[0].quantity",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": 1.5}], "delivery_address": "x"}),
            "items[0].quantity",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": -1}], "delivery_address": "x"}),
            "items[0].quantity",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": 1}, {"product_id": p, "quantity": 2}], "delivery_address": "x"}),
            "items[1].product_id",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": 1}]}),
            "delivery_address",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": 1}], "delivery_address": "  "}),
            "delivery_address",
        ),
        (
            json!({"items": [{"product_id": "01J00000000000000000000000", "quantity": 1}], "delivery_address": "x"}),
            "items[0].product_id",
        ),
        (
            json!({"items": [{"product_id": p, "quantity": 1}], "delivery_address": "x", "coupon": "FREE"}),
            "coupon",
        ),
        // `confirm` may be left out (true) but has no `null` (it once read as left out).
        (
            json!({"items": [{"product_id": p, "quantity": 1}], "delivery_address": "x", "confirm": null}),
            "confirm",
        ),
        // A line, or the whole body, written as an array of its fields is not an object
        // (it once placed the order).
        (
            json!({"items": [[p, 1]], "delivery_address": "x"}),
            "items[0]",
        ),
        (
            json!([[{"product_id": p, "quantity": 1}], "x", null]),
            "body",
        ),
    ];
    for (body, field) in cases {
        let response = app.place(&app.customer, &body).await;
        let problem = response.expect_problem(422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(
            fields.iter().any(|f| f.contains(field)),
            "{body}: {problem}"
        );
    }
    let fifty_one: Vec<Value> = (0..51)
        .map(|_| json!({"product_id": domain::ProductId::generate().to_string(), "quantity": 1}))
        .collect();
    app.place(
        &app.customer,
        &json!({"items": fifty_one, "delivery_address": "x"}),
    )
    .await
    .expect_problem(422);
    app.place(&app.customer, &json!({"items": "all"}))
        .await
        .expect_problem(422);
    // 2^64 units: a JSON integer no u64 holds.
    let huge = format!(
        r#"{{"items":[{{"product_id":"{p}","quantity":18446744073709551616}}],"delivery_address":"x"}}"#
    );
    let refused = app
        .send(
            ApiRequest::post("/api/v1/orders")
                .bearer(&app.customer)
                .header("content-type", "application/json")
                .raw_body(huge.into_bytes()),
        )
        .await;
    assert_eq!(
        refused.expect_problem(422)["errors"][0]["field"],
        "items[0].quantity"
    );
    app.send(
        ApiRequest::post("/api/v1/orders")
            .bearer(&app.customer)
            .header("content-type", "application/json")
            .raw_body(b"{\"items\": [".to_vec()),
    )
    .await
    .expect_problem(400);
    assert_eq!(
        app.env.snapshot().await,
        before,
        "refused orders change nothing"
    );
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn short_stock_is_a_409_listing_every_unavailable_line_and_changes_nothing() {
    let app = App::new().await;
    let plenty = app.product("Plenty", "10.00", 100).await;
    let few = app.product("Few", "10.00", 2).await;
    let retired = app.product("Retired", "10.00", 50).await;
    app.env
        .catalog()
        .update_product(
            retired,
            domain::product::ProductChange {
                is_active: Some(false),
                ..Default::default()
            },
            &testkit::env::admin_actor(),
        )
        .await
        .expect("deactivate");
    let before = app.env.snapshot().await;

    let response = app
        .place(
            &app.customer,
            &order_body(&[(plenty, 5), (few, 3), (retired, 1)]),
        )
        .await;
    let problem = response.expect_problem(409);
    assert_eq!(
        problem["unavailable"],
        json!([
            {"product_id": few.to_string(), "requested": 3, "available": 2},
            {"product_id": retired.to_string(), "requested": 1, "available": 0},
        ])
    );
    assert_eq!(app.env.snapshot().await, before);
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn a_pending_order_is_confirmed_later_and_only_once() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 5).await;
    let mut body = order_body(&[(phone, 1)]);
    body["confirm"] = json!(false);
    body["notes"] = json!("  call on arrival ");
    let order = app.placed(&app.customer, &body).await;
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["confirmed_at"], Value::Null);
    assert_eq!(order["notes"], "call on arrival");
    assert_eq!(app.stock(phone).await, 4, "a pending order holds its stock");
    assert!(
        app.messages().await.is_empty(),
        "no notification until confirmed"
    );

    let id = id_of(&order);
    app.action(&app.other, &id, "confirm")
        .await
        .expect_problem(404);
    let confirmed = app.action(&app.customer, &id, "confirm").await;
    confirmed.expect_status(200);
    assert_eq!(confirmed.body["status"], "CONFIRMED");
    assert!(confirmed.body["confirmed_at"].is_string());
    assert_eq!(
        app.messages().await,
        [json!({"order_id": id, "event": "order.confirmed"})]
    );
    app.action(&app.customer, &id, "confirm")
        .await
        .expect_problem(409);
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn cancelling_restores_stock_once_and_follows_who_may_cancel_what() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let case = app.product("Case", "5.00", 10).await;

    let order = app
        .placed(&app.customer, &order_body(&[(phone, 3), (case, 4)]))
        .await;
    let id = id_of(&order);
    assert_eq!((app.stock(phone).await, app.stock(case).await), (7, 6));
    app.action(&app.other, &id, "cancel")
        .await
        .expect_problem(404);
    let cancelled = app.action(&app.customer, &id, "cancel").await;
    cancelled.expect_status(200);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert!(cancelled.body["cancelled_at"].is_string());
    assert_eq!((app.stock(phone).await, app.stock(case).await), (10, 10));
    app.action(&app.customer, &id, "cancel")
        .await
        .expect_problem(409);
    assert_eq!(
        (app.stock(phone).await, app.stock(case).await),
        (10, 10),
        "restored once"
    );

    // An owner cannot cancel once the order is processing; an admin can.
    let order = app.placed(&app.customer, &order_body(&[(phone, 2)])).await;
    let id = id_of(&order);
    app.set_status(&app.admin, &id, "PROCESSING")
        .await
        .expect_status(200);
    let refused = app.action(&app.customer, &id, "cancel").await;
    assert!(
        refused.expect_problem(409)["detail"]
            .as_str()
            .expect("detail")
            .contains("admin"),
        "{:?}",
        refused.body
    );
    assert_eq!(app.stock(phone).await, 8);
    app.action(&app.admin, &id, "cancel")
        .await
        .expect_status(200);
    assert_eq!(app.stock(phone).await, 10);
}

#[tokio::test]
async fn admins_move_orders_along_the_workflow_only() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let id = id_of(&app.placed(&app.customer, &order_body(&[(phone, 1)])).await);
    app.messages().await;

    app.set_status(&app.customer, &id, "PROCESSING")
        .await
        .expect_problem(403);
    app.set_status(&app.admin, &id, "DELIVERED")
        .await
        .expect_problem(409);
    app.set_status(&app.admin, &id, "CONFIRMED")
        .await
        .expect_problem(409);
    app.set_status(&app.admin, &id, "processing")
        .await
        .expect_problem(422);
    app.send(
        ApiRequest::patch(&format!("/api/v1/orders/{id}/status"))
            .bearer(&app.admin)
            .json(&json!({})),
    )
    .await
    .expect_problem(422);
    // Not an object: refused, and the order stays where it was.
    let before = app.env.snapshot().await;
    app.send(
        ApiRequest::patch(&format!("/api/v1/orders/{id}/status"))
            .bearer(&app.admin)
            .json(&json!(["PROCESSING"])),
    )
    .await
    .expect_problem(422);
    assert_eq!(app.env.snapshot().await, before);
    for status in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let response = app.set_status(&app.admin, &id, status).await;
        response.expect_status(200);
        assert_eq!(response.body["status"], status);
    }
    app.set_status(&app.admin, &id, "CANCELLED")
        .await
        .expect_problem(409);
    app.action(&app.admin, &id, "cancel")
        .await
        .expect_problem(409);
    assert_eq!(
        app.stock(phone).await,
        9,
        "a delivered order keeps its stock"
    );
    // Shipped and delivered each hand the notifier the event that tells the customer.
    let mut events: Vec<String> = app
        .messages()
        .await
        .into_iter()
        .map(|m| m["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    events.sort();
    assert_eq!(events, ["order.delivered", "order.shipped"]);
}

#[tokio::test]
async fn customers_see_only_their_own_orders_admins_see_and_filter_all() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 100).await;
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(id_of(
            &app.placed(&app.customer, &order_body(&[(phone, 1)])).await,
        ));
    }
    let mut pending = order_body(&[(phone, 1)]);
    pending["confirm"] = json!(false);
    let theirs = id_of(&app.placed(&app.other, &pending).await);

    let get = |token: &str, path: &str| {
        let request = ApiRequest::get(path).bearer(token);
        app.send(request)
    };
    get(&app.other, &format!("/api/v1/orders/{}", mine[0]))
        .await
        .expect_problem(404);
    let as_admin = get(&app.admin, &format!("/api/v1/orders/{}", mine[0])).await;
    as_admin.expect_status(200);
    // Admins see where each notification stands; customers never do.
    let pending_channel =
        json!({"status": "pending", "attempts": 0, "last_error": null, "message_id": null});
    assert_eq!(
        as_admin.body["notifications"],
        json!({"sms": pending_channel, "email": pending_channel})
    );
    // And every message about the order: the confirmation's two so far.
    let pending_message = |channel: &str| {
        json!({"event": "order.confirmed", "channel": channel, "status": "pending",
            "attempts": 0, "last_error": null, "delivery": null, "sent_at": null})
    };
    assert_eq!(
        as_admin.body["messages"],
        json!([pending_message("sms"), pending_message("email")])
    );
    let as_owner = get(&app.customer, &format!("/api/v1/orders/{}", mine[0])).await;
    as_owner.expect_status(200);
    assert!(
        as_owner.body.get("notifications").is_none() && as_owner.body.get("messages").is_none(),
        "{}",
        as_owner.body
    );
    get(&app.customer, "/api/v1/orders/not-an-id")
        .await
        .expect_problem(404);
    get(&app.customer, "/api/v1/orders").await;

    let ids = |response: &testkit::events::ApiResponse| -> Vec<String> {
        response.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    };
    let own = get(&app.customer, "/api/v1/orders").await;
    own.expect_status(200);
    let newest_first: Vec<String> = mine.iter().rev().cloned().collect();
    assert_eq!(ids(&own), newest_first);
    assert_eq!(own.body["next_cursor"], Value::Null);

    let page1 = get(&app.customer, "/api/v1/orders?limit=2").await;
    assert_eq!(ids(&page1), newest_first[..2]);
    let cursor = page1.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let page2 = get(
        &app.customer,
        &format!("/api/v1/orders?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&page2), newest_first[2..]);
    get(&app.customer, "/api/v1/orders?cursor=garbage")
        .await
        .expect_problem(400);

    let all = get(&app.admin, "/api/v1/orders").await;
    assert_eq!(ids(&all).len(), 4);
    assert_eq!(ids(&all)[0], theirs, "newest first");
    let by_status = get(&app.admin, "/api/v1/orders?status=PENDING").await;
    assert_eq!(ids(&by_status), std::slice::from_ref(&theirs));
    let by_customer = get(
        &app.admin,
        &format!("/api/v1/orders?customer_id={}", app.customer_id()),
    )
    .await;
    assert_eq!(ids(&by_customer), newest_first);
    let both = get(
        &app.admin,
        &format!(
            "/api/v1/orders?customer_id={}&status=PENDING",
            app.customer_id()
        ),
    )
    .await;
    assert!(ids(&both).is_empty());
    get(
        &app.customer,
        &format!(
            "/api/v1/orders?customer_id={}",
            crate::support::other_identity().customer_id
        ),
    )
    .await
    .expect_problem(403);
    get(&app.admin, "/api/v1/orders?status=LOST")
        .await
        .expect_problem(400);
    get(&app.admin, "/api/v1/orders?limit=0")
        .await
        .expect_problem(400);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response_and_refuses_another_body() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let body = order_body(&[(phone, 2)]);

    let first = app
        .place_with_key(&app.customer, "checkout-42", &body)
        .await;
    first.expect_status(201);
    let retry = app
        .place_with_key(&app.customer, "checkout-42", &body)
        .await;
    retry.expect_status(201);
    assert_eq!(retry.body, first.body, "the first response, again");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.stock(phone).await, 8, "stock taken once");
    assert_eq!(app.messages().await.len(), 1, "one confirmation");

    let other_body = order_body(&[(phone, 3)]);
    let snapshot = app.env.snapshot().await;
    app.place_with_key(&app.customer, "checkout-42", &other_body)
        .await
        .expect_problem(409);
    assert_eq!(app.env.snapshot().await, snapshot);

    // Keys belong to one customer: another customer's identical key is a new order.
    let theirs = app.place_with_key(&app.other, "checkout-42", &body).await;
    theirs.expect_status(201);
    assert_ne!(theirs.body["id"], first.body["id"]);
    assert_eq!(app.stock(phone).await, 6);

    for bad in ["", "has space", &"k".repeat(65)] {
        app.place_with_key(&app.customer, bad, &body)
            .await
            .expect_problem(400);
    }
}

#[tokio::test]
async fn orders_need_a_token_and_known_routes_and_methods() {
    let app = App::new().await;
    app.send(ApiRequest::get("/api/v1/orders"))
        .await
        .expect_problem(401);
    app.send(ApiRequest::post("/api/v1/orders").json(&json!({})))
        .await
        .expect_problem(401);
    app.send(ApiRequest::delete("/api/v1/orders").bearer(&app.customer))
        .await
        .expect_problem(405);
    app.send(
        ApiRequest::get("/api/v1/orders/01J00000000000000000000000/cancel").bearer(&app.customer),
    )
    .await
    .expect_problem(405);
    app.send(ApiRequest::get("/api/v1/orders/01J00000000000000000000000").bearer(&app.customer))
        .await
        .expect_problem(404);
}
