//! `GET /orders?notification_status=failed` (admins): the orders with a `failed` SMS or
//! email, newest first, from the sparse, sharded GSI5 (one query per shard, like the
//! other shop-wide lists). Channel states are written here through the storage adapter the
//! notifier uses (`NotificationStore::save_channel`, against DynamoDB Local), so an order
//! enters and leaves the list by the very write that records its channels; the notifier's
//! own tests drive the same writes from real sends.

use std::collections::BTreeSet;

use domain::OrderId;
use domain::notification::{Channel, ChannelState, ChannelStatus, ErrorClass, NotificationStore};
use serde_json::Value;
use storage::keys::{ORDER_INDEX_SHARDS, OrderShard};
use testkit::events::{ApiRequest, ApiResponse};

use crate::support::{App, order_body};

const FAILED: &str = "/api/v1/orders?notification_status=failed";

fn ids(response: &ApiResponse) -> Vec<String> {
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .collect()
}

fn newest_first(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

/// Places `count` orders as the customer; their ids, oldest first.
async fn place(app: &App, count: usize) -> Vec<String> {
    let phone = app.product("Phone", "100.00", 1000).await;
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let order = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
        ids.push(order["id"].as_str().expect("id").to_owned());
    }
    ids
}

/// Writes `status` as `channel`'s state over the stored `current` one, as the notifier
/// does (conditioned on its version); the state written.
async fn record(
    app: &App,
    order: &str,
    channel: Channel,
    current: &ChannelState,
    status: ChannelStatus,
) -> ChannelState {
    let id: OrderId = order.parse().expect("order id");
    let next = ChannelState {
        status,
        attempts: current.attempts + 1,
        last_error: (status == ChannelStatus::Failed)
            .then(|| ErrorClass::new("InvalidPhoneNumber")),
        version: current.version + 1,
        ..ChannelState::default()
    };
    assert!(
        app.service
            .store()
            .save_channel(id, channel, current.version, &next)
            .await
            .expect("written"),
        "the version matched"
    );
    next
}

/// The first page of the failed list as the admin, and its DynamoDB requests.
async fn failed_page(app: &App, query: &str) -> (ApiResponse, u64) {
    let before = app.requests.count();
    let page = app
        .send(ApiRequest::get(&format!("{FAILED}{query}")).bearer(&app.admin))
        .await;
    (page, app.requests.count() - before)
}

async fn failed_ids(app: &App) -> Vec<String> {
    let (page, _) = failed_page(app, "&limit=100").await;
    page.expect_status(200);
    assert_eq!(page.body["next_cursor"], Value::Null);
    ids(&page)
}

#[tokio::test]
async fn an_order_is_listed_while_a_channel_is_failed_and_leaves_when_none_is() {
    let app = App::new().await;
    let placed = place(&app, 5).await;
    let [sms_failed, all_sent, email_failed, both_failed, retrying] =
        <[String; 5]>::try_from(placed).expect("five");
    let fresh = ChannelState::default();

    let sms = record(
        &app,
        &sms_failed,
        Channel::Sms,
        &fresh,
        ChannelStatus::Failed,
    )
    .await;
    record(
        &app,
        &sms_failed,
        Channel::Email,
        &fresh,
        ChannelStatus::Sent,
    )
    .await;
    record(&app, &all_sent, Channel::Sms, &fresh, ChannelStatus::Sent).await;
    record(&app, &all_sent, Channel::Email, &fresh, ChannelStatus::Sent).await;
    record(
        &app,
        &email_failed,
        Channel::Sms,
        &fresh,
        ChannelStatus::Skipped,
    )
    .await;
    let email = record(
        &app,
        &email_failed,
        Channel::Email,
        &fresh,
        ChannelStatus::Failed,
    )
    .await;
    let both_sms = record(
        &app,
        &both_failed,
        Channel::Sms,
        &fresh,
        ChannelStatus::Failed,
    )
    .await;
    let both_email = record(
        &app,
        &both_failed,
        Channel::Email,
        &fresh,
        ChannelStatus::Failed,
    )
    .await;
    // A transient failure leaves the channel pending (to be retried): not `failed`.
    let id: OrderId = retrying.parse().expect("id");
    let pending = ChannelState {
        attempts: 1,
        last_error: Some(ErrorClass::new("http_5xx")),
        version: 2,
        ..ChannelState::default()
    };
    assert!(
        app.service
            .store()
            .save_channel(id, Channel::Sms, 0, &pending)
            .await
            .expect("written")
    );

    let (page, requests) = failed_page(&app, "").await;
    page.expect_status(200);
    assert_eq!(
        ids(&page),
        newest_first(vec![
            sms_failed.clone(),
            email_failed.clone(),
            both_failed.clone()
        ])
    );
    assert_eq!(page.body["next_cursor"], Value::Null);
    assert_eq!(
        requests,
        u64::from(ORDER_INDEX_SHARDS) + 1,
        "one query per shard, and one read of the page's customers"
    );
    // The items are the orders as admins see them, channel states included.
    let shown = page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["id"] == sms_failed.as_str())
        .expect("listed");
    assert_eq!(shown["notifications"]["sms"]["status"], "failed");
    assert_eq!(
        shown["notifications"]["sms"]["last_error"],
        "invalid_phone_number"
    );
    assert_eq!(shown["notifications"]["email"]["status"], "sent");

    // A stale write (another delivery wrote first) changes nothing, the index included.
    let before = app.env.snapshot().await;
    assert!(
        !app.service
            .store()
            .save_channel(
                sms_failed.parse().expect("id"),
                Channel::Sms,
                0,
                &ChannelState::default()
            )
            .await
            .expect("refused"),
        "version 0 no longer matches"
    );
    assert_eq!(app.env.snapshot().await, before);

    // Failed channels leave `failed` (a re-send the notifier does not make, but the
    // storage supports): the order leaves the list once no channel is failed.
    record(&app, &sms_failed, Channel::Sms, &sms, ChannelStatus::Sent).await;
    record(
        &app,
        &email_failed,
        Channel::Email,
        &email,
        ChannelStatus::Skipped,
    )
    .await;
    let sent = record(
        &app,
        &both_failed,
        Channel::Sms,
        &both_sms,
        ChannelStatus::Sent,
    )
    .await;
    assert_eq!(
        failed_ids(&app).await,
        std::slice::from_ref(&both_failed),
        "its email is still failed"
    );
    // Failing again lists it once more; both channels final and not failed: gone.
    let sms_again = record(
        &app,
        &both_failed,
        Channel::Sms,
        &sent,
        ChannelStatus::Failed,
    )
    .await;
    assert_eq!(failed_ids(&app).await, std::slice::from_ref(&both_failed));
    record(
        &app,
        &both_failed,
        Channel::Email,
        &both_email,
        ChannelStatus::Sent,
    )
    .await;
    assert_eq!(failed_ids(&app).await, std::slice::from_ref(&both_failed));
    record(
        &app,
        &both_failed,
        Channel::Sms,
        &sms_again,
        ChannelStatus::Skipped,
    )
    .await;
    assert!(failed_ids(&app).await.is_empty());

    // Every order is still in the other lists, untouched.
    let all = app
        .send(ApiRequest::get("/api/v1/orders?limit=100").bearer(&app.admin))
        .await;
    all.expect_status(200);
    assert_eq!(ids(&all).len(), 5);
}

/// Follows the failed list's cursors to the end: every id, and each page's requests.
async fn every_failed_page(app: &App, limit: u32) -> (Vec<String>, Vec<u64>) {
    let (mut all, mut requests) = (Vec::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("&limit={limit}&cursor={c}"),
            None => format!("&limit={limit}"),
        };
        let (page, count) = failed_page(app, &query).await;
        page.expect_status(200);
        let shown = ids(&page);
        // One query per shard, and one read of the page's customers (none when empty).
        assert!(count >= u64::from(!shown.is_empty()));
        requests.push(count - u64::from(!shown.is_empty()));
        all.extend(shown);
        match &page.body["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => return (all, requests),
        }
    }
}

#[tokio::test]
async fn paging_through_failed_orders_across_shards_returns_each_exactly_once() {
    let app = App::new().await;
    let placed = place(&app, 30).await;
    let fresh = ChannelState::default();
    let mut failed = Vec::new();
    for (i, id) in placed.iter().enumerate() {
        // Two in three fail, alternating the channel; the rest are sent.
        let (sms, email) = match i % 3 {
            0 => (ChannelStatus::Failed, ChannelStatus::Sent),
            1 => (ChannelStatus::Skipped, ChannelStatus::Failed),
            _ => (ChannelStatus::Sent, ChannelStatus::Sent),
        };
        record(&app, id, Channel::Sms, &fresh, sms).await;
        record(&app, id, Channel::Email, &fresh, email).await;
        if i % 3 != 2 {
            failed.push(id.clone());
        }
    }
    let shards: BTreeSet<OrderShard> = failed
        .iter()
        .map(|id| OrderShard::of(id.parse().expect("order id")))
        .collect();
    assert!(shards.len() > 1, "the failed orders spread over shards");

    let (all, requests) = every_failed_page(&app, 3).await;
    assert_eq!(all, newest_first(failed.clone()), "each once, newest first");
    assert!(requests.len() >= 7, "20 orders need at least 7 pages of 3");
    assert!(
        requests.iter().all(|r| *r == u64::from(ORDER_INDEX_SHARDS)),
        "{requests:?}"
    );
    let (one_page, requests) = every_failed_page(&app, 100).await;
    assert_eq!(one_page, all);
    assert_eq!(requests, [u64::from(ORDER_INDEX_SHARDS)]);
}

#[tokio::test]
async fn only_admins_may_ask_and_only_for_failed_on_its_own() {
    let app = App::new().await;
    let placed = place(&app, 3).await;
    let fresh = ChannelState::default();
    for id in &placed {
        record(&app, id, Channel::Sms, &fresh, ChannelStatus::Failed).await;
    }
    let all_page = app
        .send(ApiRequest::get("/api/v1/orders?limit=1").bearer(&app.admin))
        .await;
    let all_cursor = all_page.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let (failed_first, _) = failed_page(&app, "&limit=1").await;
    let failed_cursor = failed_first.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let customer = app.customer_id();

    let before = app.env.snapshot().await;
    let refused: Vec<(String, Option<&str>, u16)> = vec![
        // Anonymous.
        (FAILED.to_owned(), None, 401),
        // Customers may not use the admin filter, not even on their own orders.
        (FAILED.to_owned(), Some(&app.customer), 403),
        (
            format!("{FAILED}&customer_id={customer}"),
            Some(&app.customer),
            403,
        ),
        (FAILED.to_owned(), Some(&app.other), 403),
        // Any other value, for anyone.
        (
            "/api/v1/orders?notification_status=sent".to_owned(),
            Some(&app.admin),
            400,
        ),
        (
            "/api/v1/orders?notification_status=FAILED".to_owned(),
            Some(&app.admin),
            400,
        ),
        (
            "/api/v1/orders?notification_status=".to_owned(),
            Some(&app.admin),
            400,
        ),
        (
            "/api/v1/orders?notification_status=pending".to_owned(),
            Some(&app.customer),
            400,
        ),
        // Not combined with the other filters.
        (format!("{FAILED}&status=CONFIRMED"), Some(&app.admin), 400),
        (
            format!("{FAILED}&customer_id={customer}"),
            Some(&app.admin),
            400,
        ),
        // A cursor belongs to its list.
        (
            format!("{FAILED}&limit=1&cursor={all_cursor}"),
            Some(&app.admin),
            400,
        ),
        (
            format!("/api/v1/orders?limit=1&cursor={failed_cursor}"),
            Some(&app.admin),
            400,
        ),
        (
            format!("/api/v1/orders?status=CONFIRMED&limit=1&cursor={failed_cursor}"),
            Some(&app.admin),
            400,
        ),
        (format!("{FAILED}&limit=0"), Some(&app.admin), 400),
    ];
    for (path, token, status) in &refused {
        let request = ApiRequest::get(path);
        let request = match token {
            Some(token) => request.bearer(token),
            None => request,
        };
        let requests = app.requests.count();
        let response = app.send(request).await;
        let problem = response.expect_problem(*status);
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{path}"
        );
        assert_eq!(
            app.requests.count(),
            requests,
            "{path}: no DynamoDB request"
        );
        if *status == 401 {
            assert!(response.header("www-authenticate").is_some());
        }
    }
    assert_eq!(app.env.snapshot().await, before, "nothing changed");
    let detail = app
        .send(ApiRequest::get("/api/v1/orders?notification_status=sent").bearer(&app.admin))
        .await;
    assert!(
        detail.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("failed")),
        "the detail names the one value: {}",
        detail.body
    );

    // The failed list's own cursor goes on.
    let (next, _) = failed_page(&app, &format!("&limit=1&cursor={failed_cursor}")).await;
    next.expect_status(200);
    assert_eq!(ids(&next).len(), 1);
}
