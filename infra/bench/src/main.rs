//! `bench`: DynamoDB round trips and in-process latency of the catalog and order routes.
//!
//! Seeds a catalog (63 categories in three levels, 300 products) on DynamoDB Local at
//! `AWS_ENDPOINT_URL_DYNAMODB` (queues and email on moto at `MOTO_ENDPOINT`), then sends
//! each scenario's requests through the real routers as API Gateway v2 events, one at a
//! time, and prints a Markdown table: DynamoDB requests per API request (exact, counted by
//! an SDK interceptor) and p50/p95 latency on loopback. The round trips are what carries
//! over to AWS; the latencies are this machine's and the emulator's. Run through
//! `make bench`.
//!
//! The M-Pesa rows run the orders function's `POST /orders/{id}/pay` and the payments
//! function's STK callback route against the M-Pesa stand-in in process
//! ([`bench::payments`]); their latency includes that call to the stand-in (the prompt,
//! the status query), which *own time* does not subtract.
//!
//! `BENCH_ONLY=text` keeps the route rows whose name contains `text` (everything is still
//! seeded; the notifier's rows and the callbacks' check are left out), to profile one
//! route: `perf record` of `cargo run --profile perf -p bench`.
//!
//! The last rows are the notifier's ([`notifier`]): SQS events of confirmed orders handed to
//! its batch handler, with the local SMS stand-in and SES on the emulator.

mod notifier;

use std::time::{Duration, Instant};

use axum::Router;
use bench::payments::Mpesa;
use bench::wire::{WireTimer, counted_sqs_client, timed_client, timed_sqs_client};
use domain::catalog_use_cases::Catalog;
use domain::category::CategoryName;
use domain::product::{NewProduct, ProductName};
use domain::{CategoryId, CategoryStore, Money, ProductStore};
use http_api::AppState;
use serde_json::json;
use storage::DynamoCatalog;
use testkit::env::{RequestCounter, TestEnv};
use testkit::events::ApiRequest;

const ROOTS: usize = 3;
const CHILDREN: usize = 4;
const PRODUCTS: usize = 300;
const RUNS: usize = 100;

struct Scenario {
    name: &'static str,
    router: Router,
    request: Box<dyn Fn(usize) -> ApiRequest>,
}

/// `RUNS + 5` unpaid `PENDING` orders of `customer`, placed through the orders router
/// with `body`: one per request of a scenario that may act on an order once.
async fn pending_orders(
    orders: &Router,
    customer: &str,
    body: &serde_json::Value,
    what: &str,
) -> Vec<String> {
    eprintln!("placing {} orders {what}…", RUNS + 5);
    let mut ids = Vec::with_capacity(RUNS + 5);
    for _ in 0..RUNS + 5 {
        let response = ApiRequest::post("/api/v1/orders")
            .bearer(customer)
            .json(body)
            .send(orders)
            .await;
        ids.push(response.body["id"].as_str().expect("order id").to_owned());
    }
    ids
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The seeded catalog: [`ROOTS`] trees of categories [`CHILDREN`] wide and three deep,
/// and [`PRODUCTS`] products spread over the leaves.
struct Seeded {
    roots: Vec<CategoryId>,
    middles: Vec<CategoryId>,
    leaves: Vec<CategoryId>,
    product_ids: Vec<domain::ProductId>,
}

async fn seed_catalog(store: &DynamoCatalog, actor: &domain::audit::Actor) -> Seeded {
    let name = |s: String| CategoryName::parse(&s).unwrap_or_else(|e| panic!("{e}"));

    eprintln!(
        "seeding {PRODUCTS} products in {} categories…",
        ROOTS * (1 + CHILDREN + CHILDREN * CHILDREN)
    );
    let mut roots = Vec::new();
    let mut leaves: Vec<CategoryId> = Vec::new();
    let mut middles = Vec::new();
    for r in 0..ROOTS {
        let root = store
            .create_category(name(format!("Root {r}")), None, actor)
            .await
            .expect("root")
            .id;
        roots.push(root);
        for c in 0..CHILDREN {
            let child = store
                .create_category(name(format!("Child {r}.{c}")), Some(root), actor)
                .await
                .expect("child")
                .id;
            middles.push(child);
            for g in 0..CHILDREN {
                let leaf = store
                    .create_category(name(format!("Leaf {r}.{c}.{g}")), Some(child), actor)
                    .await
                    .expect("leaf")
                    .id;
                leaves.push(leaf);
            }
        }
    }
    let mut product_ids = Vec::new();
    for i in 0..PRODUCTS {
        let product = NewProduct {
            name: ProductName::parse(&format!("Item {i}")).expect("name"),
            description: None,
            sku: Some(domain::product::Sku::parse(&format!("SKU-{i}")).expect("sku")),
            price: Money::parse_price(&format!("{}.{:02}", 10 + i * 7, i % 100)).expect("price"),
            stock_quantity: 1_000_000,
            category_id: leaves[i % leaves.len()],
        };
        product_ids.push(
            Catalog::new(store)
                .create_product(product, actor)
                .await
                .expect("product")
                .id,
        );
    }

    Seeded {
        roots,
        middles,
        leaves,
        product_ids,
    }
}

#[tokio::main]
async fn main() {
    let env = TestEnv::new().await;
    let endpoint = testkit::env::dynamodb_endpoint();
    let counter = RequestCounter::default();
    let wire = WireTimer::default();
    let dynamodb = timed_client(&endpoint, counter.clone(), &wire);
    let store = DynamoCatalog::new(dynamodb.clone(), env.table.as_str());
    let actor = testkit::env::admin_actor();
    let Seeded {
        roots,
        middles,
        leaves,
        product_ids,
    } = seed_catalog(&store, &actor).await;

    let state = AppState {
        services: store.clone(),
        verifier: env.verifier.clone(),
    };
    let categories = categories::router(state.clone());
    let history = audit::router(state.clone());
    let products = products::router(state);
    let admin = env.admin_token();
    let root = roots[0];
    let movable = leaves[0];
    let (from, to) = (middles[0], middles[1]);
    let first_product = product_ids[0];
    let admin_for_post = admin.clone();
    let admin_for_patch = admin.clone();
    let admin_for_move = admin.clone();
    let admin_for_orders = admin.clone();
    let (admin_for_history, admin_for_entity) = (admin.clone(), admin.clone());
    let first_leaf = leaves[1];

    // Orders: the service on the counted client, confirmations to a queue of its own.
    let queues = env.queues().await;
    let service = std::sync::Arc::new(domain::order::OrderService::new(
        storage::DynamoOrders::new(dynamodb.clone(), env.table.as_str()),
        queue::SqsNotificationQueue::new(
            timed_sqs_client(&testkit::env::moto_endpoint(), &wire),
            queues.notifications.clone(),
        ),
        domain::order::VatRate::kenya_standard(),
        domain::order::HandOffPolicy::default(),
    ));
    // M-Pesa, standing in, for the prompts the orders function sends and the callbacks the
    // payments function takes (its SQS sends counted: they are the callbacks').
    let payments_sqs = RequestCounter::default();
    let mpesa = Mpesa::start(
        dynamodb.clone(),
        env.table.as_str(),
        queue::SqsNotificationQueue::new(
            counted_sqs_client(&testkit::env::moto_endpoint(), payments_sqs.clone(), &wire),
            queues.notifications.clone(),
        ),
        env.verifier.clone(),
    )
    .await;
    let orders = orders::router(AppState {
        services: orders::Orders {
            orders: service,
            payments: mpesa.service.clone(),
        },
        verifier: env.verifier.clone(),
    });
    let customer = env.customer_token();
    let three_lines = json!({
        "items": [
            {"product_id": product_ids[1], "quantity": 1},
            {"product_id": product_ids[2], "quantity": 2},
            {"product_id": product_ids[3], "quantity": 3},
        ],
        "delivery_address": "Moi Avenue 1, Nairobi",
    });
    let mut pending_body = three_lines.clone();
    pending_body["confirm"] = json!(false);
    let to_cancel = pending_orders(&orders, &customer, &pending_body, "to cancel").await;
    let one_order = to_cancel[0].clone();
    // M-Pesa: unpaid orders to prompt for, one per request; and prompted ones, whose STK
    // callbacks (the stand-in's success, as it posted them) the payments function applies.
    let phone = json!({"phone_number": "0712345678"});
    let to_pay = pending_orders(&orders, &customer, &pending_body, "to pay").await;
    let prompted = pending_orders(&orders, &customer, &pending_body, "to prompt").await;
    for id in &prompted {
        ApiRequest::post(&format!("/api/v1/orders/{id}/pay"))
            .bearer(&customer)
            .json(&phone)
            .send(&orders)
            .await
            .expect_status(202);
    }
    let stk_callbacks = mpesa.stk_callbacks(prompted.len()).await;
    let sends_before_callbacks = payments_sqs.count();
    let (c6, c7) = (customer.clone(), customer.clone());
    let (c1, c2, c3, c4, c5) = (
        customer.clone(),
        customer.clone(),
        customer.clone(),
        customer.clone(),
        customer.clone(),
    );
    let (body1, body2) = (three_lines.clone(), three_lines);
    // A product split over 16 stock buckets for a flash sale, ordered once before the runs
    // so the orders function knows its count (the first order an instance places on a
    // product it has not seen split reads its other buckets once more).
    let flash_product = *product_ids.last().expect("a product");
    let split = domain::product::ProductChange {
        stock_buckets: Some(domain::stock_buckets::BucketCount::new(16).expect("count")),
        ..Default::default()
    };
    store
        .update_product(flash_product, split, &actor)
        .await
        .expect("split");
    let flash_body = json!({"items": [{"product_id": flash_product.to_string(), "quantity": 1}], "delivery_address": "Moi Avenue 1, Nairobi"});
    ApiRequest::post("/api/v1/orders")
        .bearer(&customer)
        .json(&flash_body)
        .send(&orders)
        .await
        .expect_status(201);
    let c8 = customer.clone();

    let scenarios = vec![
        Scenario {
            name: "GET /categories/tree (63 categories)",
            router: categories.clone(),
            request: Box::new(|_| ApiRequest::get("/api/v1/categories/tree")),
        },
        Scenario {
            name: "GET /categories/{id} (with ancestors)",
            router: categories.clone(),
            request: Box::new(move |_| ApiRequest::get(&format!("/api/v1/categories/{movable}"))),
        },
        Scenario {
            name: "GET /categories/{root}/products?limit=20",
            router: categories.clone(),
            request: Box::new(move |_| {
                ApiRequest::get(&format!("/api/v1/categories/{root}/products?limit=20"))
            }),
        },
        Scenario {
            name: "GET /categories/{root}/average-price (100 products)",
            router: categories.clone(),
            request: Box::new(move |_| {
                ApiRequest::get(&format!("/api/v1/categories/{root}/average-price"))
            }),
        },
        Scenario {
            name: "GET /products?limit=20",
            router: products.clone(),
            request: Box::new(|_| ApiRequest::get("/api/v1/products?limit=20")),
        },
        Scenario {
            name: "GET /products?q=item 1&limit=20 (filtered)",
            router: products.clone(),
            request: Box::new(|_| ApiRequest::get("/api/v1/products?q=item%201&limit=20")),
        },
        Scenario {
            name: "GET /products/{id}",
            router: products.clone(),
            request: Box::new(move |_| {
                ApiRequest::get(&format!("/api/v1/products/{first_product}"))
            }),
        },
        Scenario {
            name: "POST /products",
            router: products.clone(),
            request: Box::new(move |i| {
                ApiRequest::post("/api/v1/products")
                    .bearer(&admin_for_post)
                    .json(&json!({
                        "name": format!("New {i}"), "sku": format!("NEW-{i}"), "price": "99.99",
                        "stock_quantity": 5, "category_id": first_leaf
                    }))
            }),
        },
        Scenario {
            name: "PATCH /products/{id} {stock_delta: -1} (audited: read + transaction with its history entry)",
            router: products.clone(),
            request: Box::new(move |_| {
                ApiRequest::patch(&format!("/api/v1/products/{first_product}"))
                    .bearer(&admin_for_patch)
                    .json(&json!({"stock_delta": -1}))
            }),
        },
        Scenario {
            name: "PATCH /categories/{id} move (1 category + ~5 products)",
            router: categories.clone(),
            request: Box::new(move |i| {
                let parent = if i % 2 == 0 { to } else { from };
                ApiRequest::patch(&format!("/api/v1/categories/{movable}"))
                    .bearer(&admin_for_move)
                    .json(&json!({"parent_id": parent}))
            }),
        },
        Scenario {
            name: "GET /audit?limit=20 (the shop's history: 16 shards in parallel, merged)",
            router: history.clone(),
            request: Box::new(move |_| {
                ApiRequest::get("/api/v1/audit?limit=20").bearer(&admin_for_history)
            }),
        },
        Scenario {
            name: "GET /audit?entity_type=product&entity_id=… (one product's history)",
            router: history,
            request: Box::new(move |_| {
                ApiRequest::get(&format!(
                    "/api/v1/audit?entity_type=product&entity_id={first_product}&limit=20"
                ))
                .bearer(&admin_for_entity)
            }),
        },
        Scenario {
            name: "POST /orders (3 lines, confirmed; then 1 SQS send)",
            router: orders.clone(),
            request: Box::new(move |_| ApiRequest::post("/api/v1/orders").bearer(&c1).json(&body1)),
        },
        Scenario {
            name: "POST /orders (1 line of a product split over 16 stock buckets; then 1 SQS send)",
            router: orders.clone(),
            request: Box::new(move |_| {
                ApiRequest::post("/api/v1/orders")
                    .bearer(&c8)
                    .json(&flash_body)
            }),
        },
        Scenario {
            name: "POST /orders retried with the same Idempotency-Key",
            router: orders.clone(),
            request: Box::new(move |_| {
                ApiRequest::post("/api/v1/orders")
                    .bearer(&c2)
                    .header("Idempotency-Key", "bench-retry")
                    .json(&body2)
            }),
        },
        Scenario {
            name: "GET /orders?limit=20 (customer, newest first)",
            router: orders.clone(),
            request: Box::new(move |_| ApiRequest::get("/api/v1/orders?limit=20").bearer(&c3)),
        },
        Scenario {
            name: "GET /orders?limit=20 (admin: 16 shards queried in parallel, merged; the page's customers)",
            router: orders.clone(),
            request: Box::new(move |_| {
                ApiRequest::get("/api/v1/orders?limit=20").bearer(&admin_for_orders)
            }),
        },
        Scenario {
            name: "GET /orders/{id}",
            router: orders.clone(),
            request: Box::new(move |_| {
                ApiRequest::get(&format!("/api/v1/orders/{one_order}")).bearer(&c4)
            }),
        },
        Scenario {
            name: "POST /orders/{id}/cancel (3 lines restocked)",
            router: orders.clone(),
            request: Box::new(move |i| {
                ApiRequest::post(&format!("/api/v1/orders/{}/cancel", to_cancel[i])).bearer(&c5)
            }),
        },
        Scenario {
            name: "POST /orders/{id}/pay (3-line pending order: read + write of the pending payment, 1 STK push to the M-Pesa stand-in, transaction of its checkout id)",
            router: orders.clone(),
            request: Box::new(move |i| {
                ApiRequest::post(&format!("/api/v1/orders/{}/pay", to_pay[i]))
                    .bearer(&c6)
                    .json(&phone)
            }),
        },
        Scenario {
            name: "POST /payments/callbacks/{token}/stk (success: 1 status query to the M-Pesa stand-in, then checkout claim read + order read + transaction confirming the order; then 1 SQS send)",
            router: mpesa.callbacks.clone(),
            request: Box::new(move |i| {
                ApiRequest::post(&Mpesa::stk_path())
                    .header("content-type", "application/json")
                    .raw_body(stk_callbacks[i].clone())
            }),
        },
    ];

    println!("| scenario | DynamoDB requests per call | p50 ms | p95 ms | own time p50 / p99 ms |");
    println!("|---|---|---|---|---|");
    // `BENCH_ONLY=text`: only the scenarios whose name contains it (for profiling one).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for scenario in scenarios.into_iter().filter(|s| s.name.contains(&only)) {
        for i in 0..5 {
            (scenario.request)(RUNS + i).send(&scenario.router).await;
        }
        let before = counter.count();
        let mut times = Vec::with_capacity(RUNS);
        let mut own = Vec::with_capacity(RUNS);
        for i in 0..RUNS {
            let request = (scenario.request)(i);
            let waited = wire.waited();
            let started = Instant::now();
            let response = request.send(&scenario.router).await;
            let took = started.elapsed();
            times.push(took);
            own.push(took.saturating_sub(wire.waited() - waited));
            assert!(
                response.status.is_success(),
                "{}: {} {}",
                scenario.name,
                response.status,
                response.body
            );
        }
        let calls = (counter.count() - before) as f64 / RUNS as f64;
        times.sort();
        own.sort();
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.2} / {:.2} |",
            scenario.name,
            calls,
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&own, 0.5),
            percentile(&own, 0.99)
        );
    }
    if !only.is_empty() {
        return;
    }
    // The callbacks did what their row says: every prompted order paid and confirmed, one
    // hand-off each to the notifier's queue.
    for id in &prompted {
        let order = ApiRequest::get(&format!("/api/v1/orders/{id}"))
            .bearer(&c7)
            .send(&orders)
            .await;
        let (status, paid) = (&order.body["status"], &order.body["payment_status"]);
        assert!(
            status == "CONFIRMED" && paid == "paid",
            "order {id} after its callback: {status}, {paid}"
        );
    }
    let sends = payments_sqs.count() - sends_before_callbacks;
    assert_eq!(
        sends,
        prompted.len() as u64,
        "the callbacks' SQS sends (one per confirmed order)"
    );
    for (name, calls, p50, p95) in notifier::rows(&env, &endpoint).await {
        println!("| {name} | {calls:.1} per message | {p50:.1} | {p95:.1} | — |");
    }
}
