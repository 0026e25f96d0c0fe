//! The categories Lambda, driven with real API Gateway v2 events against moto.

use domain::catalog_use_cases::Catalog as UseCases;
use domain::product::{NewProduct, ProductName};
use domain::{CategoryId, Money};
use serde_json::{Value, json};
use testkit::env::TestApp as App;
use testkit::events::ApiRequest;

/// Category helpers on the test app.
trait Catalog {
    async fn create(&self, name: &str, parent: Option<&str>) -> Value;
    async fn create_id(&self, name: &str, parent: Option<&str>) -> String;
    async fn product(&self, name: &str, price: &str, category: &str) -> String;
}

async fn app() -> App {
    App::new(categories::router).await
}

impl Catalog for App {
    async fn create(&self, name: &str, parent: Option<&str>) -> Value {
        let mut body = json!({ "name": name });
        if let Some(parent) = parent {
            body["parent_id"] = json!(parent);
        }
        let response = self
            .send(
                ApiRequest::post("/api/v1/categories")
                    .bearer(&self.admin)
                    .json(&body),
            )
            .await;
        response.expect_status(201);
        response.body.clone()
    }

    async fn create_id(&self, name: &str, parent: Option<&str>) -> String {
        self.create(name, parent).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Adds a product through the real store (the products Lambda has its own tests).
    async fn product(&self, name: &str, price: &str, category: &str) -> String {
        let new = NewProduct {
            name: ProductName::parse(name).expect("name"),
            description: None,
            sku: None,
            price: Money::parse_price(price).expect("price"),
            stock_quantity: 5,
            category_id: category.parse::<CategoryId>().expect("id"),
        };
        UseCases::new(&self.env.catalog())
            .create_product(new, &testkit::env::admin_actor())
            .await
            .expect("product")
            .id
            .to_string()
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn creates_a_hierarchy_with_paths_levels_and_ancestors() {
    let app = app().await;
    let root = app.create("Electronics", None).await;
    let root_id = root["id"].as_str().expect("id");
    assert_eq!(root["level"], 0);
    assert_eq!(root["parent_id"], Value::Null);
    assert_eq!(root["path"], json!([root_id]));
    assert_eq!(root["slug"], "electronics");

    let child = app.create_id("Phones & Tablets", Some(root_id)).await;
    let response = app
        .send(
            ApiRequest::post("/api/v1/categories")
                .bearer(&app.admin)
                .json(&json!({"name": "Smartphones", "parent_id": child})),
        )
        .await;
    response.expect_status(201);
    let leaf = &response.body;
    let leaf_id = leaf["id"].as_str().expect("id");
    assert_eq!(
        response.header("location"),
        Some(format!("/api/v1/categories/{leaf_id}").as_str())
    );
    assert_eq!(leaf["level"], 2);
    assert_eq!(leaf["path"], json!([root_id, child, leaf_id]));
    for field in ["created_at", "updated_at"] {
        assert!(
            leaf[field].as_str().is_some_and(|t| t.ends_with('Z')),
            "{field} is RFC 3339 UTC"
        );
    }

    let shown = app.get(&format!("/api/v1/categories/{leaf_id}")).await;
    shown.expect_status(200);
    assert_eq!(shown.body["parent_id"], json!(child));
    assert_eq!(
        shown.body["ancestors"],
        json!([
            {"id": root_id, "name": "Electronics", "slug": "electronics"},
            {"id": child, "name": "Phones & Tablets", "slug": "phones-tablets"}
        ])
    );
}

#[tokio::test]
async fn tree_sorts_siblings_by_name_and_can_start_at_a_subtree() {
    let app = app().await;
    let home = app.create_id("home", None).await;
    let books = app.create_id("Books", None).await;
    app.create_id("Zebra prints", Some(&books)).await;
    let fiction = app.create_id("fiction", Some(&books)).await;
    app.create_id("Crime", Some(&fiction)).await;
    app.create_id("Kitchen", Some(&home)).await;

    let tree = app.get("/api/v1/categories/tree").await;
    tree.expect_status(200);
    assert_eq!(names(&tree.body), ["Books", "home"]);
    assert_eq!(
        names(&tree.body[0]["children"]),
        ["fiction", "Zebra prints"]
    );
    assert_eq!(names(&tree.body[0]["children"][0]["children"]), ["Crime"]);
    assert_eq!(tree.body[0]["children"][0]["children"][0]["level"], 2);
    assert_eq!(tree.body[0]["slug"], "books");

    let subtree = app
        .get(&format!("/api/v1/categories/tree?root_id={fiction}"))
        .await;
    subtree.expect_status(200);
    assert_eq!(names(&subtree.body), ["fiction"]);
    assert_eq!(names(&subtree.body[0]["children"]), ["Crime"]);

    app.get("/api/v1/categories/tree?root_id=nope")
        .await
        .expect_problem(400);
    app.get(&format!(
        "/api/v1/categories/tree?root_id={}",
        CategoryId::generate()
    ))
    .await
    .expect_problem(404);
}

#[tokio::test]
async fn flat_lists_page_through_children_and_roots() {
    let app = app().await;
    let parent = app.create_id("Groceries", None).await;
    for name in ["Tea", "Coffee", "Sugar", "Flour", "Rice"] {
        app.create_id(name, Some(&parent)).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/categories?parent_id={parent}&limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).await;
        page.expect_status(200);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(names(&page.body["items"]));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["Coffee", "Flour", "Rice", "Sugar", "Tea"],
        "children by name, each once"
    );

    let roots = app.get("/api/v1/categories?parent_id=root").await;
    assert_eq!(names(&roots.body["items"]), ["Groceries"]);
    let all = app.get("/api/v1/categories?limit=100").await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(6));
    assert_eq!(all.body["next_cursor"], Value::Null);

    app.get("/api/v1/categories?limit=0")
        .await
        .expect_problem(400);
    app.get("/api/v1/categories?limit=101")
        .await
        .expect_problem(400);
    app.get("/api/v1/categories?parent_id=garbage")
        .await
        .expect_problem(400);
    app.get("/api/v1/categories?cursor=not-a-cursor")
        .await
        .expect_problem(400);
    // A cursor of another list is refused, not passed to DynamoDB.
    let other = app
        .get(&format!("/api/v1/categories?parent_id={parent}&limit=1"))
        .await;
    let foreign = other.body["next_cursor"].as_str().expect("more pages");
    app.get(&format!(
        "/api/v1/categories?parent_id=root&cursor={foreign}"
    ))
    .await
    .expect_problem(400);
}

/// Every page of `list` (a `GET /api/v1/categories…` path with its query), `limit` at a
/// time: the names in the order listed.
async fn paged_names(app: &App, list: &str, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{list}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).await;
        page.expect_status(200);
        seen.extend(names(&page.body["items"]));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn flat_lists_of_siblings_follow_the_trees_order() {
    let app = app().await;
    // Names that begin another name, followed by the characters that sort below `#`
    // (space, `!`, `"`), by `#` itself and by a letter; created out of order.
    let siblings = ["Ab", "A#", "A\"", "a", "A!", "A B", "Z"];
    let parent = app.create_id("Shop", None).await;
    for name in siblings {
        app.create_id(name, None).await;
        app.create_id(name, Some(&parent)).await;
    }

    let tree = app.get("/api/v1/categories/tree").await;
    tree.expect_status(200);
    let top = names(&tree.body);
    assert_eq!(top, ["a", "A B", "A!", "A\"", "A#", "Ab", "Shop", "Z"]);
    let shop = tree
        .body
        .as_array()
        .and_then(|roots| roots.iter().find(|node| node["name"] == "Shop"));
    let children = names(&shop.expect("Shop in the tree")["children"]);
    assert_eq!(children, ["a", "A B", "A!", "A\"", "A#", "Ab", "Z"]);

    let roots = "/api/v1/categories?parent_id=root";
    let of_shop = format!("/api/v1/categories?parent_id={parent}");
    let page = app.get(&format!("{roots}&limit=100")).await;
    assert_eq!(names(&page.body["items"]), top, "one page");
    let page = app.get(&format!("{of_shop}&limit=100")).await;
    assert_eq!(names(&page.body["items"]), children, "one page");
    for limit in [1, 2, 3] {
        assert_eq!(paged_names(&app, roots, limit).await, top, "limit {limit}");
        assert_eq!(
            paged_names(&app, &of_shop, limit).await,
            children,
            "limit {limit}"
        );
    }
}

#[tokio::test]
async fn sibling_names_are_unique_regardless_of_case() {
    let app = app().await;
    let root = app.create_id("Fashion", None).await;
    app.create_id("Shoes", Some(&root)).await;
    let bags = app.create_id("Bags", Some(&root)).await;
    let before = app.env.snapshot().await;

    let duplicate = json!({"name": "  SHOES ", "parent_id": root});
    let response = app
        .send(
            ApiRequest::post("/api/v1/categories")
                .bearer(&app.admin)
                .json(&duplicate),
        )
        .await;
    response.expect_problem(409);
    let rename = json!({"name": "shoes"});
    app.send(
        ApiRequest::patch(&format!("/api/v1/categories/{bags}"))
            .bearer(&app.admin)
            .json(&rename),
    )
    .await
    .expect_problem(409);
    assert_eq!(
        app.env.snapshot().await,
        before,
        "refused requests change nothing"
    );

    // The same name elsewhere is fine, and a renamed category frees its old name.
    app.create_id("Shoes", None).await;
    let renamed = app
        .send(
            ApiRequest::patch(&format!("/api/v1/categories/{bags}"))
                .bearer(&app.admin)
                .json(&json!({"name": "Handbags"})),
        )
        .await;
    renamed.expect_status(200);
    assert_eq!(renamed.body["name"], "Handbags");
    assert_eq!(renamed.body["slug"], "handbags");
    app.create_id("bags", Some(&root)).await;
}

#[tokio::test]
async fn bad_input_gets_the_contract_errors_and_changes_nothing() {
    let app = app().await;
    let root = app.create_id("Root", None).await;
    let before = app.env.snapshot().await;
    let post = || ApiRequest::post("/api/v1/categories").bearer(&app.admin);

    let missing = app.send(post().json(&json!({}))).await;
    assert_eq!(missing.expect_problem(422)["errors"][0]["field"], "name");
    let blank = app.send(post().json(&json!({"name": "   "}))).await;
    assert_eq!(blank.expect_problem(422)["errors"][0]["field"], "name");
    let wrong_type = app.send(post().json(&json!({"name": 42}))).await;
    assert_eq!(wrong_type.expect_problem(422)["errors"][0]["field"], "name");
    let unknown_parent = app
        .send(post().json(&json!({"name": "x", "parent_id": CategoryId::generate().to_string()})))
        .await;
    assert_eq!(
        unknown_parent.expect_problem(422)["errors"][0]["field"],
        "parent_id"
    );
    let bad_parent = app
        .send(post().json(&json!({"name": "x", "parent_id": "nope"})))
        .await;
    assert_eq!(
        bad_parent.expect_problem(422)["errors"][0]["field"],
        "parent_id"
    );
    let unknown_field = app
        .send(post().json(&json!({"name": "x", "colour": "red"})))
        .await;
    unknown_field.expect_problem(422);

    app.send(
        post()
            .header("content-type", "application/json")
            .raw_body(b"{\"name\":".to_vec()),
    )
    .await
    .expect_problem(400);
    app.send(
        post()
            .header("content-type", "text/plain")
            .raw_body(b"name=x".to_vec()),
    )
    .await
    .expect_problem(415);
    app.send(post().raw_body(b"{\"name\":\"x\"}".to_vec()))
        .await
        .expect_problem(415);
    let huge = json!({"name": "x".repeat(70 * 1024)});
    app.send(post().json(&huge)).await.expect_problem(413);

    let patch =
        |id: &str| ApiRequest::patch(&format!("/api/v1/categories/{id}")).bearer(&app.admin);
    app.send(patch(&root).json(&json!({"name": ""})))
        .await
        .expect_problem(422);
    // `null` is not "leave the name": schemathesis found it answered 200 (the move went
    // through and the null was ignored).
    let refused = app
        .send(patch(&root).json(&json!({"name": null, "parent_id": null})))
        .await;
    assert_eq!(refused.expect_problem(422)["errors"][0]["field"], "name");
    app.send(patch(&CategoryId::generate().to_string()).json(&json!({"name": "y"})))
        .await
        .expect_problem(404);

    assert_eq!(app.env.snapshot().await, before);

    // A body written as the array of its fields is not an object (it once moved the
    // category to the top level).
    let child = app.create_id("Child", Some(&root)).await;
    let before = app.env.snapshot().await;
    for array in [json!([null, null]), json!(["x", null]), json!([])] {
        let refused = app.send(patch(&child).json(&array)).await;
        assert_eq!(refused.expect_problem(422)["errors"][0]["field"], "body");
        app.send(post().json(&array)).await.expect_problem(422);
    }
    // Bytes that are not UTF-8 (API Gateway hands them over base64-encoded): malformed.
    app.send(
        post()
            .header("content-type", "application/json")
            .raw_body(b"{\"name\":\"\xff\xfe\"}".to_vec()),
    )
    .await
    .expect_problem(400);

    assert_eq!(app.env.snapshot().await, before);

    app.get(&format!("/api/v1/categories/{}", CategoryId::generate()))
        .await
        .expect_problem(404);
    app.get("/api/v1/categories/not-an-id")
        .await
        .expect_problem(404);
    app.send(ApiRequest::new("PUT", &format!("/api/v1/categories/{root}")).bearer(&app.admin))
        .await
        .expect_problem(405);
    app.send(ApiRequest::delete("/api/v1/categories/tree").bearer(&app.admin))
        .await
        .expect_problem(405);
    app.get("/api/v1/nowhere").await.expect_problem(404);
}

#[tokio::test]
async fn writes_need_an_admin_token() {
    let app = app().await;
    let before = app.env.snapshot().await;
    let body = json!({"name": "Toys"});

    let anonymous = app
        .send(ApiRequest::post("/api/v1/categories").json(&body))
        .await;
    anonymous.expect_problem(401);
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer"))
    );
    let customer = app
        .send(
            ApiRequest::post("/api/v1/categories")
                .bearer(&app.customer)
                .json(&body),
        )
        .await;
    customer.expect_problem(403);
    app.send(
        ApiRequest::post("/api/v1/categories")
            .bearer("not.a.jwt")
            .json(&body),
    )
    .await
    .expect_problem(401);
    app.send(
        ApiRequest::post("/api/v1/categories")
            .header("authorization", "Basic YTpi")
            .json(&body),
    )
    .await
    .expect_problem(401);
    assert_eq!(app.env.snapshot().await, before);

    // Reads are public; a bad token on a public route is still refused.
    app.get("/api/v1/categories/tree").await.expect_status(200);
    app.send(ApiRequest::get("/api/v1/categories/tree").bearer("garbage"))
        .await
        .expect_problem(401);
}

#[tokio::test]
async fn moving_a_category_carries_its_subtree_and_products() {
    let app = app().await;
    let electronics = app.create_id("Electronics", None).await;
    let phones = app.create_id("Phones", Some(&electronics)).await;
    let smart = app.create_id("Smartphones", Some(&phones)).await;
    let gadgets = app.create_id("Gadgets", None).await;
    let in_phones = app.product("Charger", "500.00", &phones).await;
    let in_smart = app.product("Tecno Spark", "15000.00", &smart).await;
    app.product("TV", "30000.00", &electronics).await;

    let moved = app
        .send(
            ApiRequest::patch(&format!("/api/v1/categories/{phones}"))
                .bearer(&app.admin)
                .json(&json!({"parent_id": gadgets})),
        )
        .await;
    moved.expect_status(200);
    assert_eq!(moved.body["path"], json!([gadgets, phones]));
    assert_eq!(moved.body["parent_id"], json!(gadgets));
    assert_eq!(moved.body["level"], 1);

    let leaf = app.get(&format!("/api/v1/categories/{smart}")).await;
    assert_eq!(leaf.body["path"], json!([gadgets, phones, smart]));
    assert_eq!(leaf.body["level"], 2);
    assert_eq!(leaf.body["ancestors"][0]["name"], "Gadgets");

    let under_gadgets = app
        .get(&format!("/api/v1/categories/{gadgets}/products"))
        .await;
    let mut ids: Vec<&str> = under_gadgets.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    ids.sort();
    let mut expected = vec![in_phones.as_str(), in_smart.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    let smart_product = under_gadgets.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["id"] == in_smart.as_str())
        .cloned()
        .expect("moved product");
    assert_eq!(
        smart_product["category_path"],
        json!([gadgets, phones, smart])
    );
    let left_behind = app
        .get(&format!("/api/v1/categories/{electronics}/products"))
        .await;
    assert_eq!(names(&left_behind.body["items"]), ["TV"]);

    // The old parent no longer counts the moved child: it can be emptied and deleted.
    let tree = app.get("/api/v1/categories/tree").await;
    assert_eq!(names(&tree.body), ["Electronics", "Gadgets"]);
    assert_eq!(tree.body[0]["children"], json!([]));

    // Back to the top level, with a rename, in one request.
    let to_top = app
        .send(
            ApiRequest::patch(&format!("/api/v1/categories/{phones}"))
                .bearer(&app.admin)
                .json(&json!({"parent_id": null, "name": "Mobile"})),
        )
        .await;
    to_top.expect_status(200);
    assert_eq!(to_top.body["path"], json!([phones]));
    assert_eq!(to_top.body["name"], "Mobile");
    let leaf = app.get(&format!("/api/v1/categories/{smart}")).await;
    assert_eq!(leaf.body["path"], json!([phones, smart]));
    assert_eq!(leaf.body["level"], 1);
}

#[tokio::test]
async fn refuses_moves_into_its_own_subtree_or_onto_a_taken_name() {
    let app = app().await;
    let a = app.create_id("A", None).await;
    let b = app.create_id("B", Some(&a)).await;
    let c = app.create_id("C", Some(&b)).await;
    app.create_id("B", None).await;
    let before = app.env.snapshot().await;
    let patch = |id: &str, body: Value| {
        ApiRequest::patch(&format!("/api/v1/categories/{id}"))
            .bearer(&app.admin)
            .json(&body)
    };

    app.send(patch(&a, json!({"parent_id": a})))
        .await
        .expect_problem(409);
    app.send(patch(&a, json!({"parent_id": c})))
        .await
        .expect_problem(409);
    app.send(patch(&b, json!({"parent_id": null})))
        .await
        .expect_problem(409);
    let unknown = app
        .send(patch(
            &b,
            json!({"parent_id": CategoryId::generate().to_string()}),
        ))
        .await;
    assert_eq!(
        unknown.expect_problem(422)["errors"][0]["field"],
        "parent_id"
    );
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn refuses_moves_larger_than_one_transaction() {
    let app = app().await;
    let big = app.create_id("Big", None).await;
    let target = app.create_id("Target", None).await;
    for i in 0..storage::MAX_MOVE_ITEMS {
        app.product(&format!("Item {i}"), "1.00", &big).await;
    }
    let before = app.env.snapshot().await;
    let response = app
        .send(
            ApiRequest::patch(&format!("/api/v1/categories/{big}"))
                .bearer(&app.admin)
                .json(&json!({"parent_id": target})),
        )
        .await;
    let problem = response.expect_problem(409);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 100")),
        "{problem}"
    );
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn deletes_only_empty_categories() {
    let app = app().await;
    let root = app.create_id("Root", None).await;
    let child = app.create_id("Child", Some(&root)).await;
    let with_product = app.create_id("Stocked", None).await;
    app.product("Thing", "10.00", &with_product).await;
    let delete =
        |id: &str| ApiRequest::delete(&format!("/api/v1/categories/{id}")).bearer(&app.admin);

    app.send(delete(&root)).await.expect_problem(409);
    app.send(delete(&with_product)).await.expect_problem(409);
    app.send(ApiRequest::delete(&format!("/api/v1/categories/{child}")).bearer(&app.customer))
        .await
        .expect_problem(403);

    let gone = app.send(delete(&child)).await;
    gone.expect_status(204);
    assert!(gone.raw.is_empty());
    app.get(&format!("/api/v1/categories/{child}"))
        .await
        .expect_problem(404);
    app.send(delete(&child)).await.expect_problem(404);
    app.send(delete(&root)).await.expect_status(204);
    // Names are free again.
    app.create_id("Root", None).await;
}

#[tokio::test]
async fn lists_products_of_a_subtree_and_their_average_price() {
    let app = app().await;
    let root = app.create_id("Root", None).await;
    let child = app.create_id("Child", Some(&root)).await;
    let empty = app.create_id("Empty", None).await;
    app.product("Direct", "100.00", &root).await;
    app.product("Nested one", "200.00", &child).await;
    app.product("Nested two", "50.01", &child).await;

    let all = app
        .get(&format!("/api/v1/categories/{root}/products"))
        .await;
    all.expect_status(200);
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(3));
    let direct = app
        .get(&format!(
            "/api/v1/categories/{root}/products?include_descendants=false"
        ))
        .await;
    assert_eq!(names(&direct.body["items"]), ["Direct"]);
    let page = app
        .get(&format!("/api/v1/categories/{root}/products?limit=2"))
        .await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(2));
    let next = page.body["next_cursor"].as_str().expect("a second page");
    let rest = app
        .get(&format!(
            "/api/v1/categories/{root}/products?limit=2&cursor={next}"
        ))
        .await;
    assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let cheap = app
        .get(&format!("/api/v1/categories/{root}/products?max_price=100"))
        .await;
    let mut cheap_names = names(&cheap.body["items"]);
    cheap_names.sort();
    assert_eq!(cheap_names, ["Direct", "Nested two"]);

    let average = app
        .get(&format!("/api/v1/categories/{root}/average-price"))
        .await;
    average.expect_status(200);
    assert_eq!(
        average.body,
        json!({"category_id": root, "product_count": 3, "average_price": "116.67"})
    );
    let child_average = app
        .get(&format!("/api/v1/categories/{child}/average-price"))
        .await;
    assert_eq!(child_average.body["average_price"], "125.01");
    let none = app
        .get(&format!("/api/v1/categories/{empty}/average-price"))
        .await;
    assert_eq!(
        none.body,
        json!({"category_id": empty, "product_count": 0, "average_price": null})
    );
    app.get(&format!(
        "/api/v1/categories/{}/average-price",
        CategoryId::generate()
    ))
    .await
    .expect_problem(404);
    app.get(&format!(
        "/api/v1/categories/{}/products",
        CategoryId::generate()
    ))
    .await
    .expect_problem(404);
}

#[tokio::test]
async fn concurrent_creations_all_land_and_duplicates_lose_exactly_once() {
    let app = app().await;
    let parent = app.create_id("Parent", None).await;
    let post = |name: String| {
        let (router, token, parent) = (app.router.clone(), app.admin.clone(), parent.clone());
        tokio::spawn(async move {
            ApiRequest::post("/api/v1/categories")
                .bearer(&token)
                .json(&json!({"name": name, "parent_id": parent}))
                .send(&router)
                .await
                .status
                .as_u16()
        })
    };
    let distinct: Vec<_> = (0..8).map(|i| post(format!("Child {i}"))).collect();
    let same: Vec<_> = (0..6).map(|_| post("Twin".to_owned())).collect();
    let mut distinct_statuses = Vec::new();
    for handle in distinct {
        distinct_statuses.push(handle.await.expect("task"));
    }
    let mut same_statuses = Vec::new();
    for handle in same {
        same_statuses.push(handle.await.expect("task"));
    }
    assert!(
        distinct_statuses.iter().all(|s| *s == 201),
        "{distinct_statuses:?}"
    );
    assert_eq!(
        same_statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{same_statuses:?}"
    );
    assert!(
        same_statuses.iter().all(|s| *s == 201 || *s == 409),
        "{same_statuses:?}"
    );

    let children = app
        .get(&format!("/api/v1/categories?parent_id={parent}&limit=100"))
        .await;
    assert_eq!(children.body["items"].as_array().map(Vec::len), Some(9));
    // The parent counted every child: it cannot be deleted.
    app.send(ApiRequest::delete(&format!("/api/v1/categories/{parent}")).bearer(&app.admin))
        .await
        .expect_problem(409);
}
