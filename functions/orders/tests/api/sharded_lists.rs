//! The shop-wide order lists are spread over `ORDER_INDEX_SHARDS` index partitions
//! (storage/src/keys.rs): one page is one parallel query per shard, merged newest first
//! behind the same opaque cursor, so clients page exactly as before; a customer's own list
//! stays one query.

use std::collections::BTreeSet;

use crate::support::{App, order_body};
use serde_json::Value;
use storage::keys::{ORDER_INDEX_SHARDS, OrderShard};
use testkit::events::{ApiRequest, ApiResponse};

fn ids(response: &ApiResponse) -> Vec<String> {
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Follows `path`'s cursors to the end as `token`: every id, and the DynamoDB requests of
/// each page.
async fn every_page(app: &App, token: &str, path: &str) -> (Vec<String>, Vec<u64>) {
    let (mut all, mut round_trips) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let before = app.requests.count();
        let page = app.send(ApiRequest::get(&url).bearer(token)).await;
        page.expect_status(200);
        let shown = ids(&page);
        // An admin's page is one query per shard, and one read of its orders' customers
        // (none for an empty page): counted here as the index queries alone.
        let customers = u64::from(!shown.is_empty() && token == app.admin);
        round_trips.push(app.requests.count() - before - customers);
        all.extend(shown);
        match &page.body["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => return (all, round_trips),
        }
    }
}

#[tokio::test]
async fn admin_lists_merge_every_shard_newest_first_behind_one_cursor() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 100).await;
    let mut placed = Vec::new();
    for _ in 0..24 {
        let order = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
        placed.push(order["id"].as_str().expect("id").to_owned());
    }
    let cancelled: Vec<String> = placed.iter().step_by(3).cloned().collect();
    for id in &cancelled {
        app.action(&app.customer, id, "cancel")
            .await
            .expect_status(200);
    }
    let shards: BTreeSet<OrderShard> = placed
        .iter()
        .map(|id| OrderShard::of(id.parse().expect("order id")))
        .collect();
    assert!(shards.len() > 1, "the orders spread over several shards");

    let newest_first = |mut ids: Vec<String>| {
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids
    };
    // Pages of 6 hold every order once, newest first; each page is one query per shard.
    // (A shard holding more than its share of a page makes that page shorter, never
    // skips an order: storage's merge tests pin that.)
    let (all, round_trips) = every_page(&app, &app.admin, "/api/v1/orders?limit=6").await;
    assert_eq!(all, newest_first(placed.clone()));
    assert!(
        round_trips.len() >= 4,
        "24 orders need at least 4 pages of 6"
    );
    assert!(
        round_trips
            .iter()
            .all(|r| *r == u64::from(ORDER_INDEX_SHARDS))
    );
    // One page of 100: nine orders read per shard (a shard holding nine of the 24 has a
    // chance below one in a million), so every order on one page, and no cursor.
    let (one_page, round_trips) = every_page(&app, &app.admin, "/api/v1/orders?limit=100").await;
    assert_eq!(one_page, all);
    assert_eq!(round_trips, vec![u64::from(ORDER_INDEX_SHARDS)]);

    let (by_status, _) =
        every_page(&app, &app.admin, "/api/v1/orders?status=CANCELLED&limit=3").await;
    assert_eq!(by_status, newest_first(cancelled.clone()));
    let kept: Vec<String> = placed
        .iter()
        .filter(|id| !cancelled.contains(id))
        .cloned()
        .collect();
    let (confirmed, _) =
        every_page(&app, &app.admin, "/api/v1/orders?status=CONFIRMED&limit=5").await;
    assert_eq!(confirmed, newest_first(kept));

    let (own, own_round_trips) = every_page(&app, &app.customer, "/api/v1/orders?limit=100").await;
    assert_eq!(own, newest_first(placed));
    assert_eq!(
        own_round_trips,
        vec![1],
        "a customer's own list is one query"
    );
}

#[tokio::test]
async fn a_cursor_belongs_to_its_list() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    for _ in 0..3 {
        app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    }
    let page = app
        .send(ApiRequest::get("/api/v1/orders?status=CONFIRMED&limit=1").bearer(&app.admin))
        .await;
    let cursor = page.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    for foreign in [
        format!("/api/v1/orders?limit=1&cursor={cursor}"),
        format!("/api/v1/orders?status=CANCELLED&limit=1&cursor={cursor}"),
    ] {
        app.send(ApiRequest::get(&foreign).bearer(&app.admin))
            .await
            .expect_problem(400);
    }
    app.send(
        ApiRequest::get(&format!(
            "/api/v1/orders?status=CONFIRMED&limit=1&cursor={cursor}"
        ))
        .bearer(&app.admin),
    )
    .await
    .expect_status(200);
}
