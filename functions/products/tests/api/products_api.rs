//! The products Lambda, driven with real API Gateway v2 events against moto.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::category::CategoryName;
use domain::{CategoryId, CategoryStore, ProductId};
use http_api::AppState;
use serde_json::{Value, json};
use storage::DynamoCatalog;
use testkit::env::TestApp as App;
use testkit::env::{RequestCounter, counted_client, dynamodb_endpoint};
use testkit::events::{ApiRequest, ApiResponse};

/// Product helpers on the test app.
trait Catalog {
    async fn category(&self, name: &str, parent: Option<&str>) -> String;
    async fn create(&self, body: Value) -> Value;
    async fn create_simple(&self, name: &str, price: &str, stock: u32, category: &str) -> String;
    async fn patch(&self, id: &str, body: Value) -> ApiResponse;
    async fn mark_ordered(&self, id: &str);
}

async fn app() -> App {
    App::new(products::router).await
}

impl Catalog for App {
    /// A category made through the real store (the categories Lambda has its own tests).
    async fn category(&self, name: &str, parent: Option<&str>) -> String {
        let parent = parent.map(|p| p.parse::<CategoryId>().expect("id"));
        let name = CategoryName::parse(name).expect("name");
        self.env
            .catalog()
            .create_category(name, parent, &testkit::env::admin_actor())
            .await
            .expect("category")
            .id
            .to_string()
    }

    async fn create(&self, body: Value) -> Value {
        let response = self
            .send(
                ApiRequest::post("/api/v1/products")
                    .bearer(&self.admin)
                    .json(&body),
            )
            .await;
        response.expect_status(201);
        response.body.clone()
    }

    async fn create_simple(&self, name: &str, price: &str, stock: u32, category: &str) -> String {
        let body =
            json!({"name": name, "price": price, "stock_quantity": stock, "category_id": category});
        self.create(body).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    async fn patch(&self, id: &str, body: Value) -> ApiResponse {
        self.send(
            ApiRequest::patch(&format!("/api/v1/products/{id}"))
                .bearer(&self.admin)
                .json(&body),
        )
        .await
    }

    /// Marks a product as ordered, as the orders service does in an order's transaction.
    async fn mark_ordered(&self, id: &str) {
        let key = storage::keys::product(id.parse::<ProductId>().expect("id"));
        self.env
            .client
            .update_item()
            .table_name(&self.env.table)
            .set_key(Some(HashMap::from([
                ("PK".to_owned(), AttributeValue::S(key.pk)),
                ("SK".to_owned(), AttributeValue::S(key.sk)),
            ])))
            .update_expression("SET ever_ordered = :t")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .send()
            .await
            .expect("marked");
    }
}

fn names(page: &Value) -> Vec<String> {
    let mut names: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn creates_and_shows_a_product_with_exact_money() {
    let app = app().await;
    let root = app.category("Electronics", None).await;
    let phones = app.category("Phones", Some(&root)).await;
    let response = app
        .send(
            ApiRequest::post("/api/v1/products")
                .bearer(&app.admin)
                .json(&json!({
                    "name": "  Tecno Spark 20 ",
                    "description": "6.6\" screen",
                    "sku": "tec-spark20",
                    "price": "15999.5",
                    "stock_quantity": 40,
                    "category_id": phones
                })),
        )
        .await;
    response.expect_status(201);
    let product = &response.body;
    let id = product["id"].as_str().expect("id");
    assert_eq!(
        response.header("location"),
        Some(format!("/api/v1/products/{id}").as_str())
    );
    assert_eq!(product["name"], "Tecno Spark 20");
    assert_eq!(product["price"], "15999.50");
    assert_eq!(product["stock_quantity"], 40);
    assert_eq!(product["sku"], "tec-spark20");
    assert_eq!(product["category_id"], json!(phones));
    assert_eq!(product["category_path"], json!([root, phones]));
    assert_eq!(product["is_active"], true);

    let shown = app.get(&format!("/api/v1/products/{id}")).await;
    shown.expect_status(200);
    assert_eq!(&shown.body, product);

    let whole_number = app
        .create(json!({"name": "Mouse", "price": 1499, "stock_quantity": 0, "category_id": phones}))
        .await;
    assert_eq!(whole_number["price"], "1499.00");
    assert_eq!(whole_number["description"], Value::Null);
    assert_eq!(whole_number["sku"], Value::Null);
}

#[tokio::test]
async fn refuses_invalid_products_with_field_errors_and_changes_nothing() {
    let app = app().await;
    let category = app.category("Any", None).await;
    let existing = app.create_simple("Kept", "5.00", 1, &category).await;
    let before = app.env.snapshot().await;
    let post = |body: Value| {
        ApiRequest::post("/api/v1/products")
            .bearer(&app.admin)
            .json(&body)
    };
    let field_of = |r: &ApiResponse| {
        r.body["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let cases = [
        (
            json!({"name": "x", "price": "10.001", "stock_quantity": 1, "category_id": category}),
            "price",
        ),
        (
            json!({"name": "x", "price": 10.5, "stock_quantity": 1, "category_id": category}),
            "price",
        ),
        (
            json!({"name": "x", "price": "0", "stock_quantity": 1, "category_id": category}),
            "price",
        ),
        (
            json!({"name": "x", "price": "-5", "stock_quantity": 1, "category_id": category}),
            "price",
        ),
        (
            json!({"name": "x", "price": "5", "stock_quantity": -1, "category_id": category}),
            "stock_quantity",
        ),
        (
            json!({"name": "x", "price": "5", "stock_quantity": "many", "category_id": category}),
            "stock_quantity",
        ),
        (
            json!({"name": "", "price": "5", "stock_quantity": 1, "category_id": category}),
            "name",
        ),
        (
            json!({"name": "x", "price": "5", "stock_quantity": 1, "category_id": "nope"}),
            "category_id",
        ),
        (
            json!({"name": "x", "price": "5", "stock_quantity": 1, "category_id": CategoryId::generate().to_string()}),
            "category_id",
        ),
        (
            json!({"name": "x", "price": "5", "stock_quantity": 1, "category_id": category, "sku": "has space"}),
            "sku",
        ),
    ];
    for (body, field) in cases {
        let response = app.send(post(body.clone())).await;
        response.expect_problem(422);
        assert_eq!(field_of(&response), field, "{body}");
    }
    let all_missing = app.send(post(json!({}))).await;
    assert_eq!(
        all_missing.expect_problem(422)["errors"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    app.send(post(json!({"name": "x", "price": "5", "stock_quantity": 1, "category_id": category, "weight": 3}))).await.expect_problem(422);
    // The array of a product's fields is not an object, on create and on change.
    let array = json!(["x", null, null, "5", 1, category]);
    let refused = app.send(post(array.clone())).await;
    assert_eq!(field_of(&refused), "body");
    refused.expect_problem(422);
    app.send(
        ApiRequest::patch(&format!("/api/v1/products/{existing}"))
            .bearer(&app.admin)
            .json(&json!([null, null, null, "1.00"])),
    )
    .await
    .expect_problem(422);
    // Fields without `null` in the schema may be left out, never sent as null: `null`
    // is not "leave it" (it used to read as absent and answer 200).
    for field in [
        "name",
        "price",
        "stock_quantity",
        "stock_delta",
        "stock_buckets",
        "category_id",
        "is_active",
    ] {
        let refused = app.patch(&existing, json!({ field: null })).await;
        let problem = refused.expect_problem(422);
        assert_eq!(field_of(&refused), field);
        assert_eq!(problem["errors"][0]["message"], "must not be null");
    }
    app.send(
        ApiRequest::post("/api/v1/products")
            .bearer(&app.admin)
            .header("content-type", "application/json")
            .raw_body(b"{\"name\": ".to_vec()),
    )
    .await
    .expect_problem(400);
    app.send(
        ApiRequest::post("/api/v1/products")
            .bearer(&app.customer)
            .json(&json!({})),
    )
    .await
    .expect_problem(403);
    app.send(ApiRequest::post("/api/v1/products").json(&json!({})))
        .await
        .expect_problem(401);
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn skus_are_unique_regardless_of_case_and_freed_on_change() {
    let app = app().await;
    let category = app.category("Any", None).await;
    let body = |sku: &str| json!({"name": "x", "price": "5", "stock_quantity": 1, "category_id": category, "sku": sku});
    let first = app.create(body("ABC-1")).await;
    let first_id = first["id"].as_str().expect("id");
    let before = app.env.snapshot().await;
    app.send(
        ApiRequest::post("/api/v1/products")
            .bearer(&app.admin)
            .json(&body("abc-1")),
    )
    .await
    .expect_problem(409);
    assert_eq!(app.env.snapshot().await, before);

    let second = app.create(body("XYZ-9")).await;
    let second_id = second["id"].as_str().expect("id");
    app.patch(second_id, json!({"sku": "Abc-1"}))
        .await
        .expect_problem(409);

    let changed = app.patch(first_id, json!({"sku": "NEW-1"})).await;
    changed.expect_status(200);
    assert_eq!(changed.body["sku"], "NEW-1");
    let taken_over = app.patch(second_id, json!({"sku": "abc-1"})).await;
    taken_over.expect_status(200);
    assert_eq!(taken_over.body["sku"], "abc-1");
    // XYZ-9 was released by that change; clearing a SKU releases it too.
    app.create(body("xyz-9")).await;
    app.patch(first_id, json!({"sku": null}))
        .await
        .expect_status(200);
    app.create(body("new-1")).await;
}

#[tokio::test]
async fn stock_is_set_or_adjusted_atomically_and_never_below_zero() {
    let app = app().await;
    let category = app.category("Any", None).await;
    let id = app.create_simple("Kettle", "2499.00", 10, &category).await;

    let adjusted = app.patch(&id, json!({"stock_delta": -3})).await;
    adjusted.expect_status(200);
    assert_eq!(adjusted.body["stock_quantity"], 7);
    let before = app.env.snapshot().await;
    let problem = app.patch(&id, json!({"stock_delta": -8})).await;
    problem.expect_problem(409);
    assert_eq!(
        app.env.snapshot().await,
        before,
        "a refused decrement changes nothing"
    );
    app.patch(&id, json!({"stock_quantity": 5, "stock_delta": 1}))
        .await
        .expect_problem(422);
    app.patch(&id, json!({"stock_quantity": -1}))
        .await
        .expect_problem(422);
    assert_eq!(
        app.patch(&id, json!({"stock_quantity": 20})).await.body["stock_quantity"],
        20
    );

    // 30 concurrent decrements of 1 against 20 units: exactly 20 succeed.
    let requests = (0..30).map(|_| {
        let (router, token, id) = (app.router.clone(), app.admin.clone(), id.clone());
        async move {
            let request = ApiRequest::patch(&format!("/api/v1/products/{id}")).bearer(&token);
            request
                .json(&json!({"stock_delta": -1}))
                .send(&router)
                .await
        }
    });
    let responses = futures_join_all(requests).await;
    let ok = responses.iter().filter(|r| r.status == 200).count();
    let refused = responses.iter().filter(|r| r.status == 409).count();
    assert_eq!((ok, refused), (20, 10));
    assert_eq!(
        app.get(&format!("/api/v1/products/{id}")).await.body["stock_quantity"],
        0
    );
}

#[tokio::test]
async fn stock_splits_over_buckets_and_reads_and_changes_as_one_total() {
    let app = app().await;
    let category = app.category("Flash", None).await;
    let id = app.create_simple("Phone", "9999.00", 10, &category).await;
    let path = format!("/api/v1/products/{id}");
    assert_eq!(app.get(&path).await.body["stock_buckets"], 1);

    let split = app.patch(&id, json!({"stock_buckets": 4})).await;
    split.expect_status(200);
    assert_eq!(
        (&split.body["stock_quantity"], &split.body["stock_buckets"]),
        (&json!(10), &json!(4))
    );
    assert_eq!(app.get(&path).await.body["stock_quantity"], 10);

    // Changes spread over the buckets; the total reads back exactly.
    for (body, total) in [
        (json!({"stock_delta": -7}), 3),
        (json!({"stock_quantity": 25}), 25),
        (json!({"stock_delta": 1}), 26),
        (json!({"stock_buckets": 32}), 26),
        (json!({"stock_buckets": 2, "stock_delta": -6}), 20),
    ] {
        let changed = app.patch(&id, body.clone()).await;
        changed.expect_status(200);
        assert_eq!(changed.body["stock_quantity"], total, "{body}");
        assert_eq!(app.get(&path).await.body["stock_quantity"], total, "{body}");
    }
    let problem = app.patch(&id, json!({"stock_delta": -21})).await;
    problem.expect_problem(409);

    // Lists show the total too, and `in_stock` filters on it.
    let other = app.create_simple("Case", "10.00", 0, &category).await;
    app.patch(&other, json!({"stock_buckets": 3}))
        .await
        .expect_status(200);
    let listed = app.get("/api/v1/products?in_stock=true").await;
    listed.expect_status(200);
    let items = listed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", listed.body);
    assert_eq!(
        (
            &items[0]["id"],
            &items[0]["stock_quantity"],
            &items[0]["stock_buckets"]
        ),
        (&json!(id), &json!(20), &json!(2))
    );

    // Out of range: a field error, and nothing changes.
    let before = app.env.snapshot().await;
    for bad in [json!(0), json!(33), json!(-1), json!(2.5)] {
        let refused = app.patch(&id, json!({ "stock_buckets": bad })).await;
        refused.expect_problem(422);
    }
    assert_eq!(app.env.snapshot().await, before);

    // Deleting a product never ordered removes its buckets with it.
    app.send(ApiRequest::delete(&path).bearer(&app.admin))
        .await
        .expect_status(204);
    app.get(&path).await.expect_problem(404);
}

/// Runs the futures concurrently on the test's runtime.
async fn futures_join_all<F: std::future::Future<Output = ApiResponse> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<ApiResponse> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn updates_fields_and_moves_products_between_categories() {
    let app = app().await;
    let a = app.category("A", None).await;
    let b = app.category("B", None).await;
    let b_child = app.category("B child", Some(&b)).await;
    let id = app.create_simple("Old name", "10.00", 1, &a).await;
    let updated = app
        .patch(&id, json!({"name": "New name", "price": "12.50", "description": "Now better", "category_id": b_child}))
        .await;
    updated.expect_status(200);
    assert_eq!(updated.body["name"], "New name");
    assert_eq!(updated.body["price"], "12.50");
    assert_eq!(updated.body["description"], "Now better");
    assert_eq!(updated.body["category_path"], json!([b, b_child]));
    assert_eq!(
        names(
            &app.get(&format!("/api/v1/products?category_id={b}"))
                .await
                .body
        ),
        ["New name"]
    );
    assert!(
        names(
            &app.get(&format!("/api/v1/products?category_id={a}"))
                .await
                .body
        )
        .is_empty()
    );
    // The old category no longer counts it.
    app.env
        .catalog()
        .delete_category(a.parse().expect("id"), &testkit::env::admin_actor())
        .await
        .expect("A is empty now");

    let cleared = app.patch(&id, json!({"description": null})).await;
    assert_eq!(cleared.body["description"], Value::Null);
    let unknown = app
        .patch(
            &id,
            json!({"category_id": CategoryId::generate().to_string()}),
        )
        .await;
    assert_eq!(
        unknown.expect_problem(422)["errors"][0]["field"],
        "category_id"
    );
    app.patch(&ProductId::generate().to_string(), json!({"name": "x"}))
        .await
        .expect_problem(404);
    let unchanged = app.patch(&id, json!({})).await;
    unchanged.expect_status(200);
    assert_eq!(unchanged.body["name"], "New name");
}

#[tokio::test]
async fn filters_and_pages_the_catalog() {
    let app = app().await;
    let electronics = app.category("Electronics", None).await;
    let phones = app.category("Phones", Some(&electronics)).await;
    let food = app.category("Food", None).await;
    app.create_simple("Smart Phone", "15000.00", 3, &phones)
        .await;
    app.create_simple("Feature phone", "2000.00", 0, &phones)
        .await;
    app.create_simple("Laptop", "60000.00", 2, &electronics)
        .await;
    app.create_simple("Tea", "385.50", 100, &food).await;
    let hidden = app.create_simple("Old phone", "100.00", 1, &phones).await;
    app.patch(&hidden, json!({"is_active": false}))
        .await
        .expect_status(200);

    let query = |q: &str| ApiRequest::get(&format!("/api/v1/products?{q}")).send(&app.router);
    assert_eq!(
        names(&query("").await.body),
        ["Feature phone", "Laptop", "Smart Phone", "Tea"]
    );
    assert_eq!(
        names(&query("q=PHONE").await.body),
        ["Feature phone", "Smart Phone"]
    );
    assert_eq!(
        names(&query("in_stock=true&q=phone").await.body),
        ["Smart Phone"]
    );
    assert_eq!(
        names(&query("min_price=2000&max_price=15000").await.body),
        ["Feature phone", "Smart Phone"]
    );
    assert_eq!(
        names(&query(&format!("category_id={electronics}")).await.body),
        ["Feature phone", "Laptop", "Smart Phone"]
    );
    assert_eq!(
        names(
            &query(&format!(
                "category_id={electronics}&include_descendants=false"
            ))
            .await
            .body
        ),
        ["Laptop"]
    );
    assert!(
        names(
            &query(&format!("category_id={}", CategoryId::generate()))
                .await
                .body
        )
        .is_empty()
    );

    // Inactive products: admins only.
    let admin_view = app
        .send(ApiRequest::get("/api/v1/products?include_inactive=true&q=old").bearer(&app.admin))
        .await;
    assert_eq!(names(&admin_view.body), ["Old phone"]);
    app.send(ApiRequest::get("/api/v1/products?include_inactive=true").bearer(&app.customer))
        .await
        .expect_problem(403);
    query("include_inactive=true").await.expect_problem(401);
    app.get(&format!("/api/v1/products/{hidden}"))
        .await
        .expect_problem(404);
    let admin_sees = app
        .send(ApiRequest::get(&format!("/api/v1/products/{hidden}")).bearer(&app.admin))
        .await;
    assert_eq!(admin_sees.body["is_active"], false);

    for bad in [
        "min_price=abc",
        "max_price=1.001",
        "min_price=10&max_price=5",
        "in_stock=yes",
        "limit=0",
        "category_id=bad",
        "cursor=%%%",
    ] {
        query(bad).await.expect_problem(400);
    }

    // Paging with a filter: every match exactly once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = query(&format!("limit=1&q=e{cursor}")).await;
        page.expect_status(200);
        seen.extend(names(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["Feature phone", "Smart Phone", "Tea"]);
}

/// A page of the public list reads the page, one more and a quarter: hidden products
/// crowding that read cost one read more (of up to 200 items), never a wrong page.
#[tokio::test]
async fn a_page_reads_little_more_than_itself_and_reads_on_past_hidden_products() {
    let app = app().await;
    let phones = app.category("Phones", None).await;
    let mut listed = Vec::new();
    for i in 0..10 {
        let name = format!("Phone {i}");
        listed.push((app.create_simple(&name, "100.00", 1, &phones).await, name));
    }
    // The list's order: by id.
    listed.sort();
    let counter = RequestCounter::default();
    let counted = products::router(AppState {
        services: DynamoCatalog::new(
            counted_client(&dynamodb_endpoint(), counter.clone()),
            app.env.table.as_str(),
        ),
        verifier: app.env.verifier.clone(),
    });
    let (counter, counted) = (&counter, &counted);
    let page = |query: String| async move {
        let before = counter.count();
        let page = ApiRequest::get(&format!("/api/v1/products?{query}"))
            .send(counted)
            .await;
        page.expect_status(200);
        let reads = counter.count() - before;
        (
            names(&page.body),
            page.body["next_cursor"].as_str().map(str::to_owned),
            reads,
        )
    };
    let names_of = |at: &[usize]| {
        let mut names: Vec<String> = at.iter().map(|&i| listed[i].1.clone()).collect();
        names.sort();
        names
    };

    // Nothing hidden: one query (and the page's stock, one BatchGetItem).
    let (first, cursor, reads) = page("limit=3".into()).await;
    assert_eq!((first, reads), (names_of(&[0, 1, 2]), 1 + 1));
    assert!(cursor.is_some());

    // Hide the 2nd to 7th: the first read (4 + 2 items) keeps one, a second reads on.
    for (id, _) in &listed[1..7] {
        app.patch(id, json!({"is_active": false}))
            .await
            .expect_status(200);
    }
    let (first, cursor, reads) = page("limit=3".into()).await;
    assert_eq!((first, reads), (names_of(&[0, 7, 8]), 2 + 1));
    let (rest, end, reads) = page(format!("limit=3&cursor={}", cursor.expect("more"))).await;
    assert_eq!((rest, end, reads), (names_of(&[9]), None, 1 + 1));
}

#[tokio::test]
async fn deletes_unordered_products_and_deactivates_ordered_ones() {
    let app = app().await;
    let category = app.category("Any", None).await;
    let body = |name: &str, sku: &str| json!({"name": name, "price": "5", "stock_quantity": 1, "category_id": category, "sku": sku});
    let unordered = app.create(body("Unordered", "U-1")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let ordered = app.create(body("Ordered", "O-1")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.mark_ordered(&ordered).await;
    let delete =
        |id: &str| ApiRequest::delete(&format!("/api/v1/products/{id}")).bearer(&app.admin);

    app.send(ApiRequest::delete(&format!("/api/v1/products/{unordered}")).bearer(&app.customer))
        .await
        .expect_problem(403);
    app.send(delete(&unordered)).await.expect_status(204);
    app.get(&format!("/api/v1/products/{unordered}"))
        .await
        .expect_problem(404);
    app.send(delete(&unordered)).await.expect_problem(404);
    app.create(body("Reuses SKU", "u-1")).await;

    app.send(delete(&ordered)).await.expect_status(204);
    app.get(&format!("/api/v1/products/{ordered}"))
        .await
        .expect_problem(404);
    let kept = app
        .send(ApiRequest::get(&format!("/api/v1/products/{ordered}")).bearer(&app.admin))
        .await;
    kept.expect_status(200);
    assert_eq!(kept.body["is_active"], false);
    app.send(
        ApiRequest::post("/api/v1/products")
            .bearer(&app.admin)
            .json(&body("Clash", "o-1")),
    )
    .await
    .expect_problem(409);
}

#[tokio::test]
async fn concurrent_creations_in_one_category_all_land() {
    let app = app().await;
    let category = app.category("Busy", None).await;
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let (router, token, category) = (app.router.clone(), app.admin.clone(), category.clone());
            tokio::spawn(async move {
                let body = json!({"name": format!("P{i}"), "price": "1.00", "stock_quantity": 1, "category_id": category});
                ApiRequest::post("/api/v1/products").bearer(&token).json(&body).send(&router).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for handle in handles {
        let response = handle.await.expect("task");
        response.expect_status(201);
        ids.push(response.body["id"].as_str().expect("id").to_owned());
    }
    let listed = app
        .get(&format!(
            "/api/v1/products?category_id={category}&limit=100"
        ))
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(10));

    // The category counted all ten: it empties only when the last one goes.
    let category_id: CategoryId = category.parse().expect("id");
    for (i, id) in ids.iter().enumerate() {
        let refused = app
            .env
            .catalog()
            .delete_category(category_id, &testkit::env::admin_actor())
            .await;
        assert!(
            matches!(refused, Err(domain::CatalogError::CategoryNotEmpty)),
            "{i}: {refused:?}"
        );
        app.send(ApiRequest::delete(&format!("/api/v1/products/{id}")).bearer(&app.admin))
            .await
            .expect_status(204);
    }
    app.env
        .catalog()
        .delete_category(category_id, &testkit::env::admin_actor())
        .await
        .expect("empty now");
}
