//! Staff read names, not ids: every order in an admin's list names its customer (name and
//! e-mail, as they are now), and `?customer_email=` lists one customer's orders by the
//! e-mail staff know them by. Customers see neither.

use domain::CustomerStore;
use http_api::Identity;
use serde_json::{Value, json};
use testkit::events::ApiRequest;

use crate::support::{App, order_body};

/// A signed-in customer (their item in the table, as sign-in stores it) and their token.
async fn signed_in(app: &App, name: &str) -> (Value, String) {
    let id = app.env.customer_with_phone(name, None).await;
    let customer = app
        .env
        .customers()
        .customer(id)
        .await
        .expect("read")
        .expect("stored");
    let token = app.env.token_for(&Identity {
        customer_id: id.to_string(),
        email: customer.email.clone(),
        name: name.to_owned(),
        admin: false,
    });
    let card = json!({"id": id.to_string(), "name": name, "email": customer.email});
    (card, token)
}

#[tokio::test]
async fn admins_lists_name_each_orders_customer_and_filter_by_their_email() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 100).await;
    let (wanjiku, wanjiku_token) = signed_in(&app, "Wanjiku Kamau").await;
    let (otieno, otieno_token) = signed_in(&app, "Otieno Odhiambo").await;
    let mut hers = Vec::new();
    for _ in 0..2 {
        let order = app.placed(&wanjiku_token, &order_body(&[(phone, 1)])).await;
        hers.push(order["id"].clone());
    }
    let his = app.placed(&otieno_token, &order_body(&[(phone, 1)])).await["id"].clone();

    // Every order of the shop's list names who ordered, read in one batch.
    let before = app.requests.count();
    let all = app
        .send(ApiRequest::get("/api/v1/orders").bearer(&app.admin))
        .await;
    all.expect_status(200);
    let requests = app.requests.count() - before;
    assert_eq!(
        requests,
        u64::from(storage::keys::ORDER_INDEX_SHARDS) + 1,
        "the shards, then the page's customers"
    );
    for order in all.body["items"].as_array().expect("items") {
        let expected = if order["id"] == his {
            &otieno
        } else {
            &wanjiku
        };
        assert_eq!(&order["customer"], expected, "{order}");
    }

    // By e-mail, whatever its case: her orders only, each naming her.
    let email = wanjiku["email"].as_str().expect("email").to_uppercase();
    let before = app.requests.count();
    let by_email = app
        .send(ApiRequest::get(&format!("/api/v1/orders?customer_email={email}")).bearer(&app.admin))
        .await;
    by_email.expect_status(200);
    assert_eq!(
        app.requests.count() - before,
        3,
        "the e-mail's customer, their orders, their name"
    );
    let listed: Vec<&Value> = by_email.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| &o["id"])
        .collect();
    assert_eq!(listed, [&hers[1], &hers[0]], "newest first");
    assert!(
        by_email.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|o| o["customer"] == wanjiku)
    );
    let shipped = app
        .send(
            ApiRequest::get(&format!(
                "/api/v1/orders?customer_email={email}&status=SHIPPED"
            ))
            .bearer(&app.admin),
        )
        .await;
    shipped.expect_status(200);
    assert_eq!(shipped.body["items"], json!([]));

    // An e-mail nobody holds: an empty list, not an error.
    let nobody = app
        .send(
            ApiRequest::get("/api/v1/orders?customer_email=nobody@example.com").bearer(&app.admin),
        )
        .await;
    nobody.expect_status(200);
    assert_eq!(nobody.body["items"], json!([]));
    assert_eq!(nobody.body["next_cursor"], Value::Null);

    // Customers: no names of others, and no filter by e-mail.
    let own = app
        .send(ApiRequest::get("/api/v1/orders").bearer(&otieno_token))
        .await;
    own.expect_status(200);
    assert!(
        own.body["items"][0].get("customer").is_none(),
        "{}",
        own.body
    );
    app.send(
        ApiRequest::get(&format!("/api/v1/orders?customer_email={email}")).bearer(&otieno_token),
    )
    .await
    .expect_problem(403);
    for bad in [
        "/api/v1/orders?customer_email=",
        "/api/v1/orders?customer_email=a@b.c&notification_status=failed",
    ] {
        app.send(ApiRequest::get(bad).bearer(&app.admin))
            .await
            .expect_problem(400);
    }
}
