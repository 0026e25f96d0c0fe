//! Cold-start probe (`make bench`): starts each function's binary against a minimal local
//! Lambda Runtime API, again and again, and times its init the way Lambda bills it.
//!
//! For each start: exec → the first `GET /2018-06-01/runtime/invocation/next` (init), and
//! exec → the response to the one event it is handed (init + first invocation), plus the
//! process's peak RSS (`VmHWM`) once it answered. Starts are interleaved across binaries
//! so that machine noise spreads evenly; each binary's figures are compared with the
//! floor's (a hello-world `lambda_runtime` function, `floor`) measured in the same run.
//!
//! usage: coldstart --env-file FILE --starts N [--api-endpoint URL] NAME=BINARY...
//! (a NAME of `FUNCTION@LABEL`, e.g. `auth@before`, is that function's build under another label)
//! Prints a Markdown table.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use testkit::events::ApiRequest;
use tokio::sync::Notify;

/// What one start of one binary is handed and what it did.
#[derive(Debug, Default)]
struct Start {
    event: Value,
    started: Option<Instant>,
    next_at: Option<Duration>,
    answered_at: Option<Duration>,
    served: bool,
    failure: Option<String>,
}

#[derive(Debug, Default)]
struct Runtime {
    start: Mutex<Start>,
    answered: Notify,
}

type Shared = Arc<Runtime>;

async fn next(State(rt): State<Shared>) -> Response {
    let Some(event) = take_event(&rt) else {
        // One event a start: hold the second poll until the process is stopped.
        return std::future::pending().await;
    };
    let mut headers = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or_default();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", "coldstart-1".to_owned()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:af-south-1:123456789012:function:probe".to_owned(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793".to_owned(),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (headers, event.to_string()).into_response()
}

async fn respond(State(rt): State<Shared>, Path(_id): Path<String>, _body: String) -> StatusCode {
    let mut start = rt.start.lock().unwrap_or_else(|p| p.into_inner());
    start.answered_at = start.started.map(|t| t.elapsed());
    drop(start);
    rt.answered.notify_one();
    StatusCode::ACCEPTED
}

async fn fail(State(rt): State<Shared>, body: String) -> StatusCode {
    let mut start = rt.start.lock().unwrap_or_else(|p| p.into_inner());
    start.failure = Some(body);
    drop(start);
    rt.answered.notify_one();
    StatusCode::ACCEPTED
}

async fn invocation_error(
    State(rt): State<Shared>,
    Path(_id): Path<String>,
    body: String,
) -> StatusCode {
    fail(State(rt), body).await
}

/// The floor a binary is held against: the console (no AWS) against `floor-http`, every
/// function that calls AWS against `floor-sdk` (whose answer makes one DynamoDB call), the
/// floors against the bare `floor`.
fn own_floor(name: &str) -> &'static str {
    match function_of(name) {
        "floor" | "floor-http" | "floor-sdk" => "floor",
        "console" => "floor-http",
        _ => "floor-sdk",
    }
}

/// The start's event, the first time it is asked for.
fn take_event(rt: &Runtime) -> Option<Value> {
    let mut start = rt.start.lock().unwrap_or_else(|p| p.into_inner());
    if start.served {
        return None;
    }
    start.served = true;
    start.next_at = start.started.map(|t| t.elapsed());
    Some(start.event.clone())
}

/// The SMS delivery-report token the harness gives every binary (`SMS_DELIVERY_TOKEN`)
/// when the env file sets none: 32 letters and digits, as the function requires.
const SMS_DELIVERY_TOKEN: &str = "coldstart0sms0delivery0token0000";

/// `SMS_DELIVERY_TOKEN` of `env`, set to the harness's own when missing.
fn with_sms_delivery_token(mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    if !env.iter().any(|(k, _)| k == "SMS_DELIVERY_TOKEN") {
        env.push((
            "SMS_DELIVERY_TOKEN".to_owned(),
            SMS_DELIVERY_TOKEN.to_owned(),
        ));
    }
    env
}

/// The function a name stands for: `auth@before` is the auth function (two builds of one
/// function compared in one interleaved run), `auth` is itself.
fn function_of(name: &str) -> &str {
    name.split_once('@').map_or(name, |(function, _)| function)
}

/// An id no item of the probe's table has.
const UNKNOWN_ID: &str = "01J0PR0BE0000000000000000Z";

/// The event each function is handed: a real request that makes one DynamoDB call where a
/// route reads the table without a token (its first response then compares with
/// `floor-sdk`'s, whose answer makes one `GetItem`), otherwise the cheapest real request.
fn event_for(name: &str, env: &[(String, String)]) -> Value {
    let api = |request: ApiRequest| serde_json::from_str(&request.event()).unwrap_or(Value::Null);
    match function_of(name) {
        // A category or product that does not exist: one read (a `GetItem`; the product's
        // `BatchGetItem` of it and its stock), 404.
        "categories" => api(ApiRequest::get(&format!("/api/v1/categories/{UNKNOWN_ID}"))),
        "floor-http" | "floor-sdk" => api(ApiRequest::get("/")),
        "products" => api(ApiRequest::get(&format!("/api/v1/products/{UNKNOWN_ID}"))),
        "orders" => api(ApiRequest::get("/api/v1/orders")),
        // Staff's list without a token: 401, answered before any read.
        "payments" => api(ApiRequest::get("/api/v1/payments?status=unmatched")),
        "customers" => api(ApiRequest::get("/api/v1/customer/me")),
        "audit" => api(ApiRequest::get("/api/v1/audit")),
        // Africa's Talking's delivery report of a message no one sent: one GetItem, 404.
        "sms-delivery" => {
            let token = env
                .iter()
                .find(|(k, _)| k == "SMS_DELIVERY_TOKEN")
                .map_or("", |(_, v)| v.as_str());
            api(
                ApiRequest::post(&format!("/api/v1/notifications/sms/delivery/{token}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .raw_body(
                        b"id=ATXid_0&status=Success&phoneNumber=%2B254700000000&networkCode=63902&retryCount=0"
                            .to_vec(),
                    ),
            )
        }
        "auth" => api(ApiRequest::get("/api/v1/auth/jwks.json")),
        // A browser's first request: the page, brotli-compressed.
        "console" => {
            api(ApiRequest::get("/console").header("accept-encoding", "gzip, deflate, br"))
        }
        "notifier" => json!({ "Records": [] }),
        "reconciler" => json!({
            "version": "0", "id": "probe", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": "2026-11-26T10:00:00Z", "region": "af-south-1",
            "resources": [], "detail": {}
        }),
        _ => json!({ "probe": true }),
    }
}

/// `KEY=VALUE` lines (values optionally in single quotes), as `cargo lambda` reads them.
fn read_env_file(path: &PathBuf) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.trim().to_owned(), v.to_owned())
        })
        .collect()
}

/// One start of `binary`: its init, its first response and its peak RSS in KiB.
async fn measure(
    rt: &Shared,
    addr: SocketAddr,
    name: &str,
    binary: &PathBuf,
    env: &[(String, String)],
) -> Result<(Duration, Duration, u64), String> {
    *rt.start.lock().unwrap_or_else(|p| p.into_inner()) = Start {
        event: event_for(name, env),
        ..Start::default()
    };
    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "probe")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    rt.start.lock().unwrap_or_else(|p| p.into_inner()).started = Some(Instant::now());
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let answered = tokio::time::timeout(Duration::from_secs(20), rt.answered.notified()).await;
    let rss = child
        .id()
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0);
    let _ = child.kill().await;
    if answered.is_err() {
        return Err(format!("{name}: no response within 20 s"));
    }
    let start = rt.start.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(failure) = &start.failure {
        return Err(format!("{name}: {failure}"));
    }
    match (start.next_at, start.answered_at) {
        (Some(init), Some(first)) => Ok((init, first, rss)),
        _ => Err(format!("{name}: never asked for an event")),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut env_file = None;
    let mut starts = 20usize;
    let mut binaries: Vec<(String, PathBuf)> = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--env-file" => env_file = it.next().map(PathBuf::from),
            "--starts" => starts = it.next().and_then(|n| n.parse().ok()).unwrap_or(starts),
            other => match other.split_once('=') {
                Some((name, path)) => binaries.push((name.to_owned(), PathBuf::from(path))),
                None => panic!("usage: coldstart --env-file FILE --starts N NAME=BINARY..."),
            },
        }
    }
    let env = with_sms_delivery_token(env_file.map(|f| read_env_file(&f)).unwrap_or_default());

    let rt: Shared = Arc::new(Runtime::default());
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(fail))
        .with_state(rt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("binding the runtime API: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut results: HashMap<String, (Vec<Duration>, Vec<Duration>, u64)> = HashMap::new();
    for round in 0..starts {
        for (name, binary) in &binaries {
            match measure(&rt, addr, name, binary, &env).await {
                Ok((init, first, rss)) => {
                    let entry = results.entry(name.clone()).or_default();
                    entry.0.push(init);
                    entry.1.push(first);
                    entry.2 = entry.2.max(rss);
                }
                Err(err) => panic!("start {round}: {err}"),
            }
        }
    }

    // The p50 init and first response of each binary, for the ratios.
    let medians: HashMap<String, (f64, f64)> = results
        .iter()
        .map(|(name, (init, first, _))| {
            let (mut init, mut first) = (init.clone(), first.clone());
            init.sort();
            first.sort();
            let medians = (percentile(&init, 0.5), percentile(&first, 0.5));
            (name.clone(), medians)
        })
        .collect();
    let p50 = |name: &str| medians.get(name).copied().unwrap_or((f64::NAN, f64::NAN));
    let floor = p50("floor").0;
    println!(
        "| binary | size MB | init p50 / p90 ms | × floor | init × its floor | first response p50 / p90 ms | first × its floor | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, binary) in &binaries {
        let (own_init, own_first) = p50(own_floor(name));
        let Some((init, first, rss)) = results.get_mut(name) else {
            continue;
        };
        init.sort();
        first.sort();
        #[allow(clippy::cast_precision_loss)]
        let size = std::fs::metadata(binary)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(f64::NAN);
        let (init_p50, first_p50) = (percentile(init, 0.5), percentile(first, 0.5));
        #[allow(clippy::cast_precision_loss)]
        let rss_mib = *rss as f64 / 1024.0;
        println!(
            "| {name} | {size:.1} | {init_p50:.2} / {:.2} | {:.2} | {:.2} ({}) | {first_p50:.2} / {:.2} | {:.2} | {rss_mib:.1} |",
            percentile(init, 0.9),
            init_p50 / floor,
            init_p50 / own_init,
            own_floor(name),
            percentile(first, 0.9),
            first_p50 / own_first,
        );
    }
    println!(
        "\n{starts} interleaved starts each; init = exec → first GET …/invocation/next; first response = exec → the response to one event."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_labelled_build_is_started_and_floored_as_its_function() {
        assert_eq!(function_of("auth@before"), "auth");
        assert_eq!(function_of("auth"), "auth");
        assert_eq!(own_floor("console@before"), "floor-http");
        assert_eq!(own_floor("floor-sdk"), "floor");
        assert_eq!(own_floor("orders@one-client"), "floor-sdk");
    }
}
