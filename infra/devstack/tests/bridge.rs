//! The queue bridge against the real local SQS (moto, `MOTO_ENDPOINT`) and a scripted
//! stand-in for the function's invoke endpoint: what it deletes for each kind of answer,
//! what it leaves for redelivery, and the event it sends.
//!
//! Every test has queues of its own (unique names), a visibility timeout of 1 s and a
//! maxReceiveCount of 2, and short-polls (wait 0), so the tests run in parallel and
//! quickly even on the serialised moto of `make test`. No test sleeps a fixed time: one
//! that needs a failed message back polls the queue's counts until it is visible again
//! (up to a deadline), and "deleted" or "gone" is read from the counts, not waited for.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use devstack::bridge::{BatchReport, Bridge, BridgeOptions};
use serde_json::{Value, json};
use testkit::env::moto_endpoint;
use testkit::queues::{self, QueueSettings, Queues};

const SETTINGS: QueueSettings = QueueSettings {
    visibility_timeout: 1,
    max_receive_count: 2,
};
/// How long a failed message may take to be visible again (the visibility timeout is
/// 1 s; the rest is for a loaded machine). A bound on a wait, never an expected time.
const REDELIVERY_DEADLINE: Duration = Duration::from_secs(30);
/// Between two reads of a queue's counts while waiting.
const POLL_EVERY: Duration = Duration::from_millis(50);
const INVOKE_PATH: &str = "/2015-03-31/functions/notifier/invocations";

type Answer = Box<dyn Fn(&Value) -> (StatusCode, String) + Send + Sync>;

#[derive(Default)]
struct Recorded {
    events: Vec<Value>,
    answer: Option<Answer>,
}

/// The function's invoke endpoint: records each event and answers as scripted
/// (by default `{"batchItemFailures":[]}`).
struct FakeFunction {
    url: String,
    state: Arc<Mutex<Recorded>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeFunction {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn invoke(State(state): State<Arc<Mutex<Recorded>>>, body: Bytes) -> (StatusCode, String) {
    let event: Value = serde_json::from_slice(&body).expect("the event is JSON");
    let mut state = state.lock().expect("state");
    let answer = match &state.answer {
        Some(answer) => answer(&event),
        None => (StatusCode::OK, r#"{"batchItemFailures":[]}"#.into()),
    };
    state.events.push(event);
    answer
}

impl FakeFunction {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let url = format!(
            "http://{}{INVOKE_PATH}",
            listener.local_addr().expect("addr")
        );
        let state = Arc::new(Mutex::new(Recorded::default()));
        let router = axum::Router::new()
            .route(INVOKE_PATH, post(invoke))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        Self { url, state, task }
    }

    fn answer(&self, answer: impl Fn(&Value) -> (StatusCode, String) + Send + Sync + 'static) {
        self.state.lock().expect("state").answer = Some(Box::new(answer));
    }

    fn events(&self) -> Vec<Value> {
        self.state.lock().expect("state").events.clone()
    }
}

struct World {
    sqs: Client,
    queues: Queues,
    function: FakeFunction,
    bridge: Bridge,
}

impl World {
    /// Queues with [`SETTINGS`].
    async fn new() -> Self {
        Self::with(SETTINGS).await
    }

    async fn with(settings: QueueSettings) -> Self {
        let sqs = queues::local_sqs_client(&moto_endpoint());
        let name = format!("bridge-{}", ulid::Ulid::new().to_string().to_lowercase());
        let queues = queues::ensure_queues(&sqs, &name, settings)
            .await
            .expect("queues");
        let function = FakeFunction::start().await;
        let bridge = Bridge::new(
            sqs.clone(),
            queues.notifications.as_str(),
            function.url.as_str(),
            BridgeOptions {
                batch_size: 10,
                wait_seconds: 0,
            },
        )
        .expect("bridge");
        Self {
            sqs,
            queues,
            function,
            bridge,
        }
    }

    async fn send(&self, body: &str) {
        self.sqs
            .send_message()
            .queue_url(&self.queues.notifications)
            .message_body(body)
            .send()
            .await
            .expect("send");
    }

    async fn poll(&self) -> BatchReport {
        self.bridge.poll_once().await.expect("poll")
    }

    /// Messages on `queue_url` as (visible, in flight), from moto's exact counts.
    async fn counts(&self, queue_url: &str) -> (usize, usize) {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no {name}: {attributes:?}"))
        };
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Messages still on `queue_url`, visible or not: none once every one was deleted.
    async fn held(&self, queue_url: &str) -> usize {
        let (visible, in_flight) = self.counts(queue_url).await;
        visible + in_flight
    }

    /// Waits until `n` messages are visible on the notifications queue (the failed ones,
    /// back after their visibility timeout), polling up to [`REDELIVERY_DEADLINE`].
    async fn until_visible(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + REDELIVERY_DEADLINE;
        loop {
            let counts = self.counts(&self.queues.notifications).await;
            if counts.0 == n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} visible messages expected within {REDELIVERY_DEADLINE:?}; (visible, in flight) = {counts:?}"
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

/// The records of `event`, as (messageId, body, ApproximateReceiveCount).
fn records(event: &Value) -> Vec<(String, String, String)> {
    event["Records"]
        .as_array()
        .expect("Records")
        .iter()
        .map(|r| {
            (
                r["messageId"].as_str().expect("messageId").to_owned(),
                r["body"].as_str().expect("body").to_owned(),
                r["attributes"]["ApproximateReceiveCount"]
                    .as_str()
                    .expect("ApproximateReceiveCount")
                    .to_owned(),
            )
        })
        .collect()
}

fn id_of(event: &Value, body: &str) -> String {
    records(event)
        .into_iter()
        .find(|(_, b, _)| b == body)
        .unwrap_or_else(|| panic!("no record with body {body}"))
        .0
}

fn report(received: usize, deleted: usize, failed: usize) -> BatchReport {
    BatchReport {
        received,
        deleted,
        failed,
    }
}

#[tokio::test]
async fn a_reported_failure_is_redelivered_and_the_others_are_deleted() {
    let world = World::new().await;
    for body in ["a", "b", "c"] {
        world.send(body).await;
    }
    world.function.answer(|event| {
        let failed = id_of(event, "b");
        (
            StatusCode::OK,
            json!({"batchItemFailures": [{"itemIdentifier": failed}]}).to_string(),
        )
    });
    assert_eq!(world.poll().await, report(3, 2, 1));
    assert_eq!(
        world.held(&world.queues.notifications).await,
        1,
        "b is kept"
    );

    world.until_visible(1).await;
    world
        .function
        .answer(|_| (StatusCode::OK, r#"{"batchItemFailures":[]}"#.into()));
    assert_eq!(world.poll().await, report(1, 1, 0));
    let events = world.function.events();
    assert_eq!(events.len(), 2);
    let again = records(&events[1]);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, id_of(&events[0], "b"));
    assert_eq!(again[0].1, "b");
    assert_eq!(again[0].2, "2");

    // Nothing is left to come back, and nothing went to the dead-letter queue.
    assert_eq!(world.held(&world.queues.notifications).await, 0);
    assert_eq!(world.held(&world.queues.dead_letters).await, 0);
}

#[tokio::test]
async fn a_function_error_deletes_nothing() {
    let world = World::new().await;
    world.send("a").await;
    world.send("b").await;
    world.function.answer(|_| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"errorType":"Boom","errorMessage":"handler failed"}"#.into(),
        )
    });
    assert_eq!(world.poll().await, report(2, 0, 2));
    assert_eq!(world.held(&world.queues.notifications).await, 2);

    world.until_visible(2).await;
    let mut bodies = queues::drain(&world.sqs, &world.queues.notifications)
        .await
        .expect("drain");
    bodies.sort();
    assert_eq!(bodies, ["a", "b"]);
}

#[tokio::test]
async fn an_unknown_item_identifier_fails_the_whole_batch() {
    // Three receives: one more than SETTINGS would allow before the dead-letter queue.
    let world = World::with(QueueSettings {
        max_receive_count: 5,
        ..SETTINGS
    })
    .await;
    world.send("a").await;
    world.send("b").await;
    world.function.answer(|_| {
        (
            StatusCode::OK,
            r#"{"batchItemFailures":[{"itemIdentifier":"not-in-this-batch"}]}"#.into(),
        )
    });
    assert_eq!(world.poll().await, report(2, 0, 2));

    // Not JSON at all: the same.
    world.until_visible(2).await;
    world.function.answer(|_| (StatusCode::OK, "ok".into()));
    assert_eq!(world.poll().await, report(2, 0, 2));

    // An empty answer (a handler returning nothing) means every message succeeded.
    world.until_visible(2).await;
    world.function.answer(|_| (StatusCode::OK, String::new()));
    assert_eq!(world.poll().await, report(2, 2, 0));
    assert_eq!(world.held(&world.queues.notifications).await, 0);
}

#[tokio::test]
async fn an_unreachable_function_is_an_error_and_deletes_nothing() {
    let world = World::new().await;
    world.send("a").await;
    // A port nothing listens on any more.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let bridge = Bridge::new(
        world.sqs.clone(),
        world.queues.notifications.as_str(),
        format!("http://{closed}{INVOKE_PATH}"),
        BridgeOptions {
            batch_size: 10,
            wait_seconds: 0,
        },
    )
    .expect("bridge");
    assert!(bridge.poll_once().await.is_err());

    world.until_visible(1).await;
    assert_eq!(world.poll().await, report(1, 1, 0));
    let events = world.function.events();
    assert_eq!(
        records(&events[0])[0].2,
        "2",
        "the failed poll received it once and left it"
    );
    assert_eq!(world.held(&world.queues.notifications).await, 0);
}

#[tokio::test]
async fn the_event_is_lambdas_sqs_event_and_counts_receives() {
    let world = World::new().await;
    world
        .sqs
        .send_message()
        .queue_url(&world.queues.notifications)
        .message_body(r#"{"order_id":"01JORDER","event":"order.confirmed"}"#)
        .message_attributes(
            "kind",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("order.confirmed")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("send");
    world
        .function
        .answer(|_| (StatusCode::INTERNAL_SERVER_ERROR, String::new()));
    assert_eq!(world.poll().await, report(1, 0, 1));
    world.until_visible(1).await;
    world.function.answer(|_| (StatusCode::OK, "null".into()));
    assert_eq!(world.poll().await, report(1, 1, 0));

    let events = world.function.events();
    assert_eq!(events.len(), 2);
    let queue_name = world
        .queues
        .notifications
        .rsplit('/')
        .next()
        .expect("queue name");
    for (event, count) in events.iter().zip(["1", "2"]) {
        let parsed: SqsEvent = serde_json::from_value(event.clone()).expect("an SqsEvent");
        assert_eq!(parsed.records.len(), 1);
        let record = &parsed.records[0];
        assert_eq!(
            record.body.as_deref(),
            Some(r#"{"order_id":"01JORDER","event":"order.confirmed"}"#)
        );
        assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
        assert_eq!(record.aws_region.as_deref(), Some("us-east-1"));
        let arn = record.event_source_arn.as_deref().expect("eventSourceARN");
        assert!(arn.starts_with("arn:aws:sqs:us-east-1:"), "{arn}");
        assert!(arn.ends_with(&format!(":{queue_name}")), "{arn}");
        assert!(record.message_id.is_some() && record.receipt_handle.is_some());
        let md5 = record.md5_of_body.as_deref().expect("md5OfBody");
        assert!(md5.len() == 32 && md5.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(record.md5_of_message_attributes.is_some());
        for name in [
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
        ] {
            assert!(record.attributes.contains_key(name), "{name}: {event}");
        }
        assert_eq!(record.attributes["ApproximateReceiveCount"], count);
        let kind = &record.message_attributes["kind"];
        assert_eq!(kind.string_value.as_deref(), Some("order.confirmed"));
        assert_eq!(kind.data_type.as_deref(), Some("String"));
    }
    // The same message both times, with a new receipt handle.
    assert_eq!(
        events[0]["Records"][0]["messageId"],
        events[1]["Records"][0]["messageId"]
    );
    assert_ne!(
        events[0]["Records"][0]["receiptHandle"],
        events[1]["Records"][0]["receiptHandle"]
    );
}

#[tokio::test]
async fn a_message_failing_every_time_ends_in_the_dead_letter_queue() {
    let world = World::new().await;
    world.send("poison").await;
    world
        .function
        .answer(|_| (StatusCode::INTERNAL_SERVER_ERROR, String::new()));
    // Received maxReceiveCount (2) times, failing each time...
    assert_eq!(world.poll().await, report(1, 0, 1));
    world.until_visible(1).await;
    assert_eq!(world.poll().await, report(1, 0, 1));
    world.until_visible(1).await;
    // ...then the next receive finds it gone: moto moved it to the dead-letter queue.
    assert_eq!(world.poll().await, report(0, 0, 0));
    assert_eq!(world.function.events().len(), 2);
    assert_eq!(
        queues::drain(&world.sqs, &world.queues.dead_letters)
            .await
            .expect("drain"),
        ["poison"]
    );
}
