//! Hostile input, kept as a regression suite: each request gets a problem+json 4xx and
//! leaves the table exactly as it was.

use domain::CategoryStore;
use domain::category::CategoryName;
use serde_json::json;
use testkit::env::TestApp as App;
use testkit::events::ApiRequest;

#[tokio::test]
async fn hostile_requests_are_4xx_problems_and_change_nothing() {
    let app = App::new(products::router).await;
    let category = app
        .env
        .catalog()
        .create_category(
            CategoryName::parse("Target").expect("name"),
            None,
            &testkit::env::admin_actor(),
        )
        .await
        .expect("category")
        .id
        .to_string();
    let product = app
        .send(
            ApiRequest::post("/api/v1/products")
                .bearer(&app.admin)
                .json(&json!({"name": "Kept", "price": "5.00", "stock_quantity": 3, "category_id": category})),
        )
        .await;
    product.expect_status(201);
    let product = product.body["id"].as_str().expect("id").to_owned();
    let before = app.env.snapshot().await;

    let post = |body: Vec<u8>| {
        ApiRequest::post("/api/v1/products")
            .bearer(&app.admin)
            .header("content-type", "application/json")
            .raw_body(body)
    };
    let valid = |name: &str, price: serde_json::Value| {
        serde_json::to_vec(
            &json!({"name": name, "price": price, "stock_quantity": 1, "category_id": category}),
        )
        .expect("json")
    };
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    let cases: Vec<(&str, ApiRequest, u16)> = vec![
        ("a 10 MB body", post(vec![b' '; 10 * 1024 * 1024]), 413),
        // Refused at the first value of the wrong shape, before any deep recursion.
        ("JSON nested 10 000 deep", post(nested), 422),
        (
            "a NUL byte in a name",
            post(valid("Ph\0ne", json!("5.00"))),
            422,
        ),
        (
            "a 10 000-character name",
            post(valid(&"x".repeat(10_000), json!("5.00"))),
            422,
        ),
        (
            "a price of 1e400",
            post(
                format!(
                    r#"{{"name":"x","price":1e400,"stock_quantity":1,"category_id":"{category}"}}"#
                )
                .into_bytes(),
            ),
            422,
        ),
        ("a price of -0.00", post(valid("x", json!("-0.00"))), 422),
        (
            "a 100 KB bearer token",
            ApiRequest::get(&format!("/api/v1/products/{product}")).bearer(&"a".repeat(100 * 1024)),
            401,
        ),
        (
            "a 5 KB path id",
            ApiRequest::get(&format!("/api/v1/products/{}", "A".repeat(5 * 1024))),
            404,
        ),
        ("limit=0", ApiRequest::get("/api/v1/products?limit=0"), 400),
        (
            "limit=-1",
            ApiRequest::get("/api/v1/products?limit=-1"),
            400,
        ),
        (
            "limit=abc",
            ApiRequest::get("/api/v1/products?limit=abc"),
            400,
        ),
        (
            "a random cursor",
            ApiRequest::get("/api/v1/products?cursor=bm90LWEtY3Vyc29y"),
            400,
        ),
        (
            "a forged cursor",
            ApiRequest::get("/api/v1/products?cursor=eyJQSyI6IlBST0RVQ1QjMSJ9"),
            400,
        ),
        (
            "a stock delta of 2^64",
            ApiRequest::patch(&format!("/api/v1/products/{product}"))
                .bearer(&app.admin)
                .header("content-type", "application/json")
                .raw_body(br#"{"stock_delta":18446744073709551616}"#.to_vec()),
            422,
        ),
        (
            "a stock of 1.5",
            ApiRequest::patch(&format!("/api/v1/products/{product}"))
                .bearer(&app.admin)
                .json(&json!({"stock_quantity": 1.5})),
            422,
        ),
    ];
    for (what, request, status) in cases {
        let response = app.send(request).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{what}: {}",
            response.body
        );
        response.expect_problem(status);
    }
    assert_eq!(
        app.env.snapshot().await,
        before,
        "hostile requests changed nothing"
    );
}
