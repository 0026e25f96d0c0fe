//! `make load`: a bounded load run over HTTP against a running local stack. `CONCURRENCY`
//! customers place orders of 1–3 units of one product for `SECONDS` seconds, as fast as
//! the stack answers; then the stock invariant is checked: the product's stock is exactly
//! its starting stock minus the units of every order that was placed (201), and never
//! below zero. Prints throughput, latency and the status counts; exits non-zero if the
//! invariant breaks or a request gets a 5xx.
//!
//! usage: load BASE_URL ADMIN_TOKEN CUSTOMER_TOKEN [CONCURRENCY=20] [SECONDS=30] [STOCK=4000]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Outcome {
    status: u16,
    units: u64,
    took: Duration,
}

async fn post(http: &reqwest::Client, url: &str, token: &str, body: &Value) -> (u16, Value) {
    match http.post(url).bearer_auth(token).json(body).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(err) => (0, json!({ "error": err.to_string() })),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, admin, customer, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: load BASE_URL ADMIN_TOKEN CUSTOMER_TOKEN [CONCURRENCY] [SECONDS] [STOCK]"
        );
        std::process::exit(2);
    };
    let number =
        |i: usize, default: u64| rest.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (concurrency, seconds, stock) = (number(0, 20), number(1, 30), number(2, 4000));
    let http = reqwest::Client::new();

    let (status, category) = post(
        &http,
        &format!("{base}/categories"),
        admin,
        &json!({
            "name": format!("Load {}", std::process::id())
        }),
    )
    .await;
    assert_eq!(status, 201, "category: {category}");
    let (status, product) = post(
        &http,
        &format!("{base}/products"),
        admin,
        &json!({
            "name": "Flash-sale phone", "price": "9999.00", "stock_quantity": stock,
            "category_id": category["id"],
        }),
    )
    .await;
    assert_eq!(status, 201, "product: {product}");
    let product_id = product["id"].as_str().unwrap_or_default().to_owned();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (http, base, customer, product_id) = (
            http.clone(),
            base.clone(),
            customer.clone(),
            product_id.clone(),
        );
        workers.spawn(async move {
            let mut outcomes = Vec::new();
            let mut n = worker;
            while Instant::now() < deadline {
                let units = 1 + n % 3;
                n += 1;
                let body = json!({
                    "items": [{"product_id": product_id, "quantity": units}],
                    "delivery_address": "Moi Avenue 1, Nairobi",
                });
                let sent = Instant::now();
                let (status, _) = post(&http, &format!("{base}/orders"), &customer, &body).await;
                outcomes.push(Outcome {
                    status,
                    units,
                    took: sent.elapsed(),
                });
            }
            outcomes
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = workers.join_next().await {
        outcomes.extend(done.unwrap_or_default());
    }
    let elapsed = started.elapsed();

    let Ok(answer) = http
        .get(format!("{base}/products/{product_id}"))
        .send()
        .await
    else {
        eprintln!("load: the product could not be read back");
        std::process::exit(1);
    };
    let left = answer
        .json::<Value>()
        .await
        .ok()
        .and_then(|p| p["stock_quantity"].as_u64())
        .unwrap_or(u64::MAX);
    let placed_units: u64 = outcomes
        .iter()
        .filter(|o| o.status == 201)
        .map(|o| o.units)
        .sum();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for o in &outcomes {
        *statuses.entry(o.status).or_default() += 1;
    }
    let mut times: Vec<Duration> = outcomes.iter().map(|o| o.took).collect();
    times.sort();
    let at = |p: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((times.len().max(1) - 1) as f64 * p).round() as usize;
        times.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = outcomes.len() as f64 / elapsed.as_secs_f64();
    println!(
        "| concurrency | seconds | requests | requests/s | p50 ms | p99 ms | statuses | stock: start − placed = left |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {concurrency} | {:.1} | {} | {rate:.1} | {:.1} | {:.1} | {statuses:?} | {stock} − {placed_units} = {left} |",
        elapsed.as_secs_f64(),
        outcomes.len(),
        at(0.5),
        at(0.99),
    );
    let server_errors = outcomes
        .iter()
        .filter(|o| o.status == 0 || o.status >= 500)
        .count();
    let invariant = stock.checked_sub(placed_units) == Some(left);
    if !invariant || server_errors > 0 {
        eprintln!(
            "load: FAILED (stock invariant holds: {invariant}; 5xx or failed requests: {server_errors})"
        );
        std::process::exit(1);
    }
    println!("\nload: stock invariant holds; no 5xx.");
}
