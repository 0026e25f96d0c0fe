//! Every catalog change made through the API records exactly one history entry, in the
//! same transaction; refused changes record none; the history reads newest first, whole or
//! per entity, and is for admins only.

use std::collections::{BTreeMap, HashSet};

use domain::category::CategoryName;
use domain::product::{NewProduct, ProductName};
use domain::{CategoryStore, Money};
use serde_json::{Value, json};
use testkit::contention::Contention;
use testkit::env::{admin_identity, dynamodb_endpoint};
use testkit::events::ApiRequest;

use crate::support::{Shop, retention};

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect()
}

fn change(entry: &Value, field: &str) -> (Value, Value) {
    let c = &entry["changes"][field];
    (c["from"].clone(), c["to"].clone())
}

#[tokio::test]
async fn an_entry_expires_after_the_configured_retention() {
    let shop = Shop::new().await;
    let category = shop.category("Phones", None).await;
    let entries = shop.history_of("category", &category).await;
    assert_eq!(entries.len(), 1, "one creation");
    let id = entries[0]["id"].as_str().expect("id");
    let at = domain::Timestamp::parse(entries[0]["at"].as_str().expect("at")).expect("at");
    let expiry = shop.env.audit_entry_expiry(id.parse().expect("id")).await;
    assert_eq!(expiry, retention().expires_at(at));
    assert_eq!(expiry, at.unix_seconds() + 30 * 86_400);
}

#[tokio::test]
async fn each_catalog_change_records_one_entry_with_who_when_and_what() {
    let shop = Shop::new().await;
    let a = shop.category("Phones", None).await;
    let b = shop.category("Tablets", None).await;
    let c = shop.category("Android", Some(&a)).await;
    shop.admin(
        "PATCH",
        &format!("/api/v1/categories/{c}"),
        Some(json!({"name": "Android phones"})),
    )
    .await
    .expect_status(200);
    shop.admin(
        "PATCH",
        &format!("/api/v1/categories/{c}"),
        Some(json!({"parent_id": b})),
    )
    .await
    .expect_status(200);

    let p = shop.product("Pixel", 3, &c).await;
    let at = |path: &str| format!("/api/v1/products/{p}{path}");
    for body in [
        json!({"name": "Pixel 9", "price": "1299.50"}),
        json!({"stock_delta": 5}),
        json!({"stock_quantity": 2}),
        json!({"is_active": false}),
    ] {
        shop.admin("PATCH", &at(""), Some(body))
            .await
            .expect_status(200);
    }
    shop.admin("DELETE", &at(""), None).await.expect_status(204);
    shop.admin("DELETE", &format!("/api/v1/categories/{c}"), None)
        .await
        .expect_status(204);

    let category = shop.history_of("category", &c).await;
    assert_eq!(
        actions(&category),
        [
            "category.deleted",
            "category.moved",
            "category.renamed",
            "category.created"
        ]
    );
    assert_eq!(
        change(&category[1], "parent_id"),
        (json!(a), json!(b)),
        "a move: old and new parent"
    );
    assert_eq!(
        change(&category[2], "name"),
        (json!("Android"), json!("Android phones"))
    );
    assert_eq!(change(&category[3], "parent_id"), (Value::Null, json!(a)));
    // Each entry names the category as it was then, so staff read a name, never an id.
    let labels: Vec<&Value> = category.iter().map(|e| &e["entity_label"]).collect();
    assert_eq!(
        labels,
        [
            "Android phones",
            "Android phones",
            "Android phones",
            "Android"
        ]
    );

    let product = shop.history_of("product", &p).await;
    assert_eq!(
        actions(&product),
        [
            "product.deleted",
            "product.deactivated",
            "product.stock_changed",
            "product.stock_changed",
            "product.updated",
            "product.created"
        ]
    );
    let updated = &product[4];
    assert_eq!(
        change(updated, "price"),
        (json!("1499.00"), json!("1299.50"))
    );
    assert_eq!(change(updated, "name"), (json!("Pixel"), json!("Pixel 9")));
    assert_eq!(updated["changes"].as_object().expect("changes").len(), 2);
    assert_eq!(
        change(&product[3], "stock_quantity"),
        (json!(3), json!(8)),
        "a delta: old and new quantity"
    );
    assert_eq!(change(&product[2], "stock_quantity"), (json!(8), json!(2)));
    assert_eq!(
        change(&product[1], "is_active"),
        (json!(true), json!(false))
    );
    assert_eq!(change(&product[0], "name"), (json!("Pixel 9"), Value::Null));
    let labels: Vec<&Value> = product.iter().map(|e| &e["entity_label"]).collect();
    assert_eq!(
        labels,
        [
            "Pixel 9", "Pixel 9", "Pixel 9", "Pixel 9", "Pixel 9", "Pixel"
        ]
    );

    let admin = admin_identity();
    for entry in category.iter().chain(&product) {
        assert_eq!(entry["actor"]["id"], admin.customer_id);
        assert_eq!(entry["actor"]["email"], admin.email);
        assert!(entry["at"].as_str().expect("at").ends_with('Z'));
    }
    assert!(
        category
            .iter()
            .all(|e| e["entity_type"] == "category" && e["entity_id"] == c)
    );

    // The shop's history holds each of them once, newest first, with the other two
    // categories' creations.
    let all = shop.history("", 4).await;
    assert_eq!(all.len(), category.len() + product.len() + 2);
    let ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().expect("id")).collect();
    let mut newest_first = ids.clone();
    newest_first.sort_by(|x, y| y.cmp(x));
    assert_eq!(ids, newest_first);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}

#[tokio::test]
async fn refused_and_empty_changes_leave_the_table_and_history_byte_identical() {
    let shop = Shop::new().await;
    let parent = shop.category("Phones", None).await;
    let child = shop.category("Android", Some(&parent)).await;
    let p = shop.product("Pixel", 3, &child).await;
    let before = shop.env.snapshot().await;

    let product = format!("/api/v1/products/{p}");
    // 409: a category with children; stock below zero; a duplicate sibling name.
    shop.admin("DELETE", &format!("/api/v1/categories/{parent}"), None)
        .await
        .expect_problem(409);
    shop.admin("PATCH", &product, Some(json!({"stock_delta": -4})))
        .await
        .expect_problem(409);
    shop.admin(
        "POST",
        "/api/v1/categories",
        Some(json!({"name": "android", "parent_id": parent})),
    )
    .await
    .expect_problem(409);
    // 422: a bad price; 404: no such product.
    shop.admin("PATCH", &product, Some(json!({"price": "-1"})))
        .await
        .expect_problem(422);
    shop.admin(
        "PATCH",
        &format!("/api/v1/products/{}", domain::ProductId::generate()),
        Some(json!({"price": "10"})),
    )
    .await
    .expect_problem(404);
    // 403: a customer.
    let as_customer = ApiRequest::patch(&product)
        .bearer(&shop.customer)
        .json(&json!({"price": "1.00"}));
    shop.send(as_customer, &product).await.expect_problem(403);
    // A change to what the product already is: answered, but nothing to record.
    shop.admin("PATCH", &product, Some(json!({"name": "Pixel"})))
        .await
        .expect_status(200);

    assert_eq!(shop.env.snapshot().await, before);
}

#[tokio::test]
async fn splitting_the_stock_is_one_entry_and_a_spread_change_records_the_totals() {
    let shop = Shop::new().await;
    let category = shop.category("Flash sale", None).await;
    let p = shop.product("Phone", 10, &category).await;
    let path = format!("/api/v1/products/{p}");
    for body in [
        json!({"stock_buckets": 4}),
        json!({"stock_delta": -3}),
        json!({"stock_buckets": 2, "stock_quantity": 12}),
    ] {
        shop.admin("PATCH", &path, Some(body))
            .await
            .expect_status(200);
    }
    let entries = shop.history_of("product", &p).await;
    assert_eq!(
        actions(&entries),
        [
            "product.updated",
            "product.stock_changed",
            "product.updated",
            "product.created"
        ]
    );
    assert_eq!(
        change(&entries[3], "stock_buckets"),
        (Value::Null, json!(1))
    );
    assert_eq!(change(&entries[2], "stock_buckets"), (json!(1), json!(4)));
    assert_eq!(entries[2]["changes"].as_object().expect("changes").len(), 1);
    assert_eq!(change(&entries[1], "stock_quantity"), (json!(10), json!(7)));
    assert_eq!(change(&entries[0], "stock_buckets"), (json!(4), json!(2)));
    assert_eq!(change(&entries[0], "stock_quantity"), (json!(7), json!(12)));
}

#[tokio::test]
async fn sixty_concurrent_stock_deltas_chain_exactly_from_the_first_quantity_to_the_last() {
    const DELTAS: u32 = 60;
    let shop = Shop::new().await;
    let category = shop.category("Flash sale", None).await;
    let p = shop.product("Phone", 0, &category).await;
    let path = format!("/api/v1/products/{p}");
    // Each delta is sent until it is applied: the service retries lost races itself for
    // a while, then answers 409 "retry it", as the API tells clients to.
    let delta = || async {
        for _ in 0..20 {
            let response = shop
                .admin("PATCH", &path, Some(json!({"stock_delta": 1})))
                .await;
            if response.status != 409 {
                return response;
            }
        }
        panic!("a delta still refused after 20 tries");
    };
    let responses = futures::future::join_all((0..DELTAS).map(|_| delta())).await;
    for response in &responses {
        response.expect_status(200);
    }
    let product = shop.send(ApiRequest::get(&path), &path).await;
    assert_eq!(product.body["stock_quantity"], DELTAS);

    let changes: Vec<(u64, u64)> = shop
        .history_of("product", &p)
        .await
        .iter()
        .filter(|e| e["action"] == "product.stock_changed")
        .map(|e| {
            let (from, to) = change(e, "stock_quantity");
            (from.as_u64().expect("from"), to.as_u64().expect("to"))
        })
        .collect();
    assert_eq!(changes.len(), DELTAS as usize, "one entry per delta");
    let chain: BTreeMap<u64, u64> = changes.into_iter().collect();
    assert_eq!(chain.len(), DELTAS as usize, "no two entries start alike");
    let mut quantity = 0;
    while let Some(next) = chain.get(&quantity) {
        assert_eq!(*next, quantity + 1);
        quantity = *next;
    }
    assert_eq!(
        quantity,
        u64::from(DELTAS),
        "the chain reaches the last quantity"
    );
}

#[tokio::test]
async fn a_transaction_that_fails_leaves_neither_the_change_nor_its_entry() {
    // Every transaction the writers send is cancelled (a conflicting writer that never
    // lets go); reads pass.
    let contention = Contention::start(&dynamodb_endpoint(), usize::MAX).await;
    let shop = Shop::reaching_dynamodb_at(contention.endpoint()).await;
    let store = shop.env.catalog();
    let actor = testkit::env::admin_actor();
    let name = |s: &str| CategoryName::parse(s).expect("name");
    let category = store
        .create_category(name("Phones"), None, &actor)
        .await
        .expect("category");
    let empty = store
        .create_category(name("Empty"), None, &actor)
        .await
        .expect("category");
    let product = domain::catalog_use_cases::Catalog::new(&store)
        .create_product(
            NewProduct {
                name: ProductName::parse("Pixel").expect("name"),
                description: None,
                sku: None,
                price: Money::parse_price("10").expect("price"),
                stock_quantity: 5,
                category_id: category.id,
            },
            &actor,
        )
        .await
        .expect("product");
    let before = shop.env.snapshot().await;
    let history = shop.history("", 100).await;
    assert_eq!(history.len(), 3);

    shop.admin(
        "PATCH",
        &format!("/api/v1/products/{}", product.id),
        Some(json!({"stock_delta": 1})),
    )
    .await
    .expect_problem(409);
    shop.admin("DELETE", &format!("/api/v1/categories/{}", empty.id), None)
        .await
        .expect_problem(409);
    shop.admin(
        "POST",
        "/api/v1/categories",
        Some(json!({"name": "Tablets"})),
    )
    .await
    .expect_problem(409);

    assert!(contention.conflicts_answered() >= 3);
    assert_eq!(shop.env.snapshot().await, before);
    assert_eq!(shop.history("", 100).await, history);
}

#[tokio::test]
async fn each_admin_write_costs_a_bounded_number_of_requests() {
    let shop = Shop::new().await;
    let counted = |before: u64| shop.writes.count() - before;

    let n = shop.writes.count();
    let root = shop.category("Phones", None).await;
    assert_eq!(
        counted(n),
        1,
        "create a top-level category: one transaction"
    );
    let n = shop.writes.count();
    let other = shop.category("Tablets", None).await;
    let child = shop.category("Android", Some(&root)).await;
    assert_eq!(
        counted(n) - 1,
        2,
        "create a child: read the parent, one transaction"
    );
    let n = shop.writes.count();
    shop.admin(
        "PATCH",
        &format!("/api/v1/categories/{child}"),
        Some(json!({"name": "Android phones"})),
    )
    .await
    .expect_status(200);
    assert_eq!(counted(n), 2, "rename: read, one transaction");
    let p = shop.product("Pixel", 3, &child).await;
    let n = shop.writes.count();
    shop.admin(
        "PATCH",
        &format!("/api/v1/categories/{child}"),
        Some(json!({"parent_id": other})),
    )
    .await
    .expect_status(200);
    assert_eq!(
        counted(n),
        5,
        "move: read it and the new parent, query its subtree's categories and products, one transaction"
    );
    let product = format!("/api/v1/products/{p}");
    for (body, what) in [
        (json!({"price": "10.00", "name": "Pixel 9"}), "update"),
        (json!({"stock_delta": -1}), "stock delta"),
        (json!({"stock_quantity": 9}), "stock level"),
    ] {
        let n = shop.writes.count();
        shop.admin("PATCH", &product, Some(body))
            .await
            .expect_status(200);
        assert_eq!(counted(n), 2, "{what}: read, one transaction");
    }
    let n = shop.writes.count();
    shop.admin("PATCH", &product, Some(json!({"category_id": root})))
        .await
        .expect_status(200);
    assert_eq!(
        counted(n),
        3,
        "move a product: read it and its new category, one transaction"
    );
    let n = shop.writes.count();
    shop.admin("DELETE", &product, None)
        .await
        .expect_status(204);
    assert_eq!(counted(n), 2, "delete a product: read, one transaction");
    let n = shop.writes.count();
    shop.admin("DELETE", &format!("/api/v1/categories/{child}"), None)
        .await
        .expect_status(204);
    assert_eq!(counted(n), 2, "delete a category: read, one transaction");
    let p = shop.product("Kept", 3, &root).await;
    let n = shop.reads.count();
    let entries = shop.history_of("product", &p).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(shop.reads.count() - n, 1, "one entity's history: one query");
    let n = shop.reads.count();
    let page = shop
        .send(
            ApiRequest::get("/api/v1/audit?limit=5").bearer(&shop.admin),
            "/api/v1/audit",
        )
        .await;
    page.expect_status(200);
    assert_eq!(
        shop.reads.count() - n,
        u64::from(storage::keys::ORDER_INDEX_SHARDS),
        "the shop's history: one query per shard, in parallel"
    );
}

#[tokio::test]
async fn the_shops_history_pages_through_every_entry_exactly_once() {
    let shop = Shop::new().await;
    let mut created = HashSet::new();
    for i in 0..45 {
        created.insert(shop.category(&format!("Category {i}"), None).await);
    }
    for limit in [1, 7, 100] {
        let entries = shop.history("", limit).await;
        let subjects: Vec<String> = entries
            .iter()
            .map(|e| e["entity_id"].as_str().expect("id").to_owned())
            .collect();
        assert_eq!(subjects.len(), created.len(), "limit {limit}");
        assert_eq!(subjects.iter().cloned().collect::<HashSet<_>>(), created);
        let ids: Vec<&str> = entries
            .iter()
            .map(|e| e["id"].as_str().expect("id"))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] > w[1]),
            "newest first, limit {limit}"
        );
    }
}

#[tokio::test]
async fn only_admins_read_the_history_and_bad_parameters_are_400s() {
    let shop = Shop::new().await;
    let audit = "/api/v1/audit";
    shop.send(ApiRequest::get(audit), audit)
        .await
        .expect_problem(401);
    let n = shop.reads.count();
    shop.send(ApiRequest::get(audit).bearer(&shop.customer), audit)
        .await
        .expect_problem(403);
    assert_eq!(shop.reads.count(), n, "refused before any read");
    let id = domain::ProductId::generate();
    for query in [
        "entity_type=product".to_owned(),
        format!("entity_id={id}"),
        format!("entity_type=customer&entity_id={id}"),
        "entity_type=product&entity_id=nope".to_owned(),
        "limit=0".to_owned(),
        "limit=101".to_owned(),
        "cursor=garbage".to_owned(),
        "colour=red".to_owned(),
    ] {
        let path = format!("{audit}?{query}");
        shop.send(ApiRequest::get(&path).bearer(&shop.admin), audit)
            .await
            .expect_problem(400);
    }
    // Entries are never changed through the API: the route takes GET only.
    shop.send(ApiRequest::new("DELETE", audit).bearer(&shop.admin), audit)
        .await
        .expect_problem(405);
}
