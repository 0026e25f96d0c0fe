//! A flash sale: one product's stock split over buckets. A storm of orders on one product
//! sells exactly the stock and refuses only once none is left; a line no bucket can serve
//! alone takes from several in its one transaction; cancelling puts the units back where
//! they came from (bucket 0 when that bucket is gone); a product stored before buckets
//! keeps selling and moves its stock into bucket 0 on its first order.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use domain::product::{ProductChange, StockChange};
use domain::stock_buckets::BucketCount;
use domain::{ProductId, ProductStore};
use futures::future::join_all;
use serde_json::json;

use crate::support::{App, order_body};

/// Staff split `product`'s stock over `count` buckets.
async fn split(app: &App, product: ProductId, count: i64) {
    let change = ProductChange {
        stock_buckets: Some(BucketCount::new(count).expect("count")),
        ..ProductChange::default()
    };
    app.env
        .catalog()
        .update_product(product, change, &testkit::env::admin_actor())
        .await
        .expect("split");
}

fn key_of(key: storage::keys::PrimaryKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("PK".to_owned(), AttributeValue::S(key.pk)),
        ("SK".to_owned(), AttributeValue::S(key.sk)),
    ])
}

/// What each bucket of `product` holds, bucket 0 first, read from the table (every bucket
/// a product may have, so a stray one would show).
async fn buckets(app: &App, product: ProductId) -> Vec<i64> {
    let mut keys = KeysAndAttributes::builder().consistent_read(true);
    for n in 0..32 {
        keys = keys.keys(key_of(storage::keys::stock_bucket(product, n)));
    }
    let found = app
        .env
        .client
        .batch_get_item()
        .request_items(&app.env.table, keys.build().expect("keys"))
        .send()
        .await
        .expect("read")
        .responses
        .and_then(|mut r| r.remove(&app.env.table))
        .unwrap_or_default();
    let number = |item: &HashMap<String, AttributeValue>, name: &str| -> i64 {
        match item.get(name) {
            Some(AttributeValue::N(n)) => n.parse().expect("number"),
            other => panic!("bucket without {name}: {other:?}"),
        }
    };
    let mut held: Vec<(i64, i64)> = found
        .iter()
        .map(|item| (number(item, "bucket"), number(item, "stock_quantity")))
        .collect();
    held.sort_unstable();
    held.into_iter().map(|(_, units)| units).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_2000_orders_sells_exactly_the_1500_units_and_refuses_only_when_none_is_left() {
    let app = Arc::new(App::new().await);
    let phone = app.product("Flash phone", "9999.00", 1500).await;
    split(&app, phone, 16).await;
    assert_eq!(
        buckets(&app, phone).await,
        vec![94; 12]
            .into_iter()
            .chain(vec![93; 4])
            .collect::<Vec<_>>()
    );

    // 2,000 buyers at once; the emulator (one process on this machine) is given at most
    // 100 of their requests at any moment, as many Lambda instances might send.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(100));
    let orders = (0..2000).map(|_| {
        let (app, in_flight) = (app.clone(), in_flight.clone());
        tokio::spawn(async move {
            let _turn = in_flight.acquire().await.expect("semaphore");
            app.place(&app.customer, &order_body(&[(phone, 1)])).await
        })
    });
    let (mut placed, mut refused) = (0, 0);
    for response in join_all(orders).await {
        let response = response.expect("task");
        match response.status.as_u16() {
            201 => placed += 1,
            409 => {
                // Out of stock, and only then: the read that refused it found none left
                // (stock only goes down in the storm, so none was left from then on).
                let problem = response.expect_problem(409);
                let line = json!([{
                    "product_id": phone.to_string(),
                    "requested": 1,
                    "available": 0,
                }]);
                assert_eq!(problem.get("unavailable"), Some(&line), "{problem}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", response.body),
        }
    }
    assert_eq!((placed, refused), (1500, 500));
    let left = buckets(&app, phone).await;
    assert_eq!(left.len(), 16);
    assert!(
        left.iter().all(|units| *units == 0),
        "none oversold: {left:?}"
    );
    assert_eq!(app.stock(phone).await, 0);
}

#[tokio::test]
async fn a_line_no_bucket_can_serve_alone_takes_from_several_and_a_cancel_puts_them_back() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 9).await;
    split(&app, phone, 3).await;
    assert_eq!(buckets(&app, phone).await, [3, 3, 3]);

    // 10 of 9: refused, naming the 9 there are, and nothing changes.
    let before = app.env.snapshot().await;
    let refused = app.place(&app.customer, &order_body(&[(phone, 10)])).await;
    let problem = refused.expect_problem(409);
    let line = json!([{"product_id": phone.to_string(), "requested": 10, "available": 9}]);
    assert_eq!(problem.get("unavailable"), Some(&line), "{problem}");
    assert_eq!(app.env.snapshot().await, before);

    // 7 of 3 + 3 + 3: placed from the three buckets, in one transaction (two requests:
    // the read and the transaction).
    let requests = app.requests.count();
    let order = app.placed(&app.customer, &order_body(&[(phone, 7)])).await;
    assert_eq!(app.requests.count() - requests, 2);
    let mut left = buckets(&app, phone).await;
    assert_eq!(left.iter().sum::<i64>(), 2);
    left.sort_unstable();
    assert!(left == [0, 0, 2] || left == [0, 1, 1], "{left:?}");

    // Cancelled: every unit back in the bucket it came from.
    let id = order["id"].as_str().expect("id");
    app.action(&app.customer, id, "cancel")
        .await
        .expect_status(200);
    assert_eq!(buckets(&app, phone).await, [3, 3, 3]);
    assert_eq!(app.stock(phone).await, 9);
}

#[tokio::test]
async fn a_cancel_after_staff_lowered_the_count_puts_the_units_of_a_bucket_gone_into_bucket_0() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 9).await;
    split(&app, phone, 3).await;
    let order = app.placed(&app.customer, &order_body(&[(phone, 7)])).await;
    split(&app, phone, 1).await;
    assert_eq!(buckets(&app, phone).await, [2]);

    let id = order["id"].as_str().expect("id");
    app.action(&app.customer, id, "cancel")
        .await
        .expect_status(200);
    assert_eq!(buckets(&app, phone).await, [9]);
}

#[tokio::test]
async fn placing_reads_a_products_buckets_with_it_once_the_function_has_seen_their_count() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 160).await;
    split(&app, phone, 16).await;

    // The first order this instance places on the product learns its count: one more read.
    let requests = app.requests.count();
    app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    assert_eq!(app.requests.count() - requests, 3);
    // From then on: the read and the transaction.
    let requests = app.requests.count();
    app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    assert_eq!(app.requests.count() - requests, 2);
    assert_eq!(app.stock(phone).await, 158);
}

/// Makes `product` look as products stored before buckets did: its stock on its own item.
async fn as_stored_before_buckets(app: &App, product: ProductId) {
    let units = buckets(app, product).await.iter().sum::<i64>();
    app.env
        .client
        .update_item()
        .table_name(&app.env.table)
        .set_key(Some(key_of(storage::keys::product(product))))
        .update_expression("SET stock_quantity = :units REMOVE stock_buckets")
        .expression_attribute_values(":units", AttributeValue::N(units.to_string()))
        .send()
        .await
        .expect("legacy product");
    app.env
        .client
        .delete_item()
        .table_name(&app.env.table)
        .set_key(Some(key_of(storage::keys::stock_bucket(product, 0))))
        .send()
        .await
        .expect("no bucket");
}

#[tokio::test]
async fn a_product_stored_before_buckets_keeps_selling_and_its_older_orders_cancel_into_it() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let older = app.placed(&app.customer, &order_body(&[(phone, 2)])).await;
    as_stored_before_buckets(&app, phone).await;
    assert!(buckets(&app, phone).await.is_empty());
    assert_eq!(app.stock(phone).await, 8, "read from the product item");

    // An order from before buckets, cancelled while the product still holds its stock:
    // the units go back onto the product.
    let id = older["id"].as_str().expect("id");
    app.action(&app.customer, id, "cancel")
        .await
        .expect_status(200);
    assert_eq!(app.stock(phone).await, 10);
    assert!(buckets(&app, phone).await.is_empty());

    // Its first order moves the stock into bucket 0 and takes from there.
    app.placed(&app.customer, &order_body(&[(phone, 3)])).await;
    assert_eq!(buckets(&app, phone).await, [7]);
    let product = app
        .env
        .catalog()
        .product(phone)
        .await
        .expect("read")
        .expect("product");
    assert_eq!(
        (product.stock_quantity, product.stock_buckets),
        (7, BucketCount::ONE)
    );

    // Staff's stock change on such a product moves it too.
    let other = app.product("Case", "10.00", 4).await;
    as_stored_before_buckets(&app, other).await;
    let change = ProductChange {
        stock: Some(StockChange::Adjust(2)),
        ..ProductChange::default()
    };
    let changed = app
        .env
        .catalog()
        .update_product(other, change, &testkit::env::admin_actor())
        .await
        .expect("stock change");
    assert_eq!(changed.stock_quantity, 6);
    assert_eq!(buckets(&app, other).await, [6]);
}
