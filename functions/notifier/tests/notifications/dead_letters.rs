//! A message that keeps failing: through devstack's queue bridge (which stands in for the
//! event source mapping), the notifier reports it failed on every receive, and the
//! queue's redrive policy moves it to the dead-letter queue after `maxReceiveCount`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use axum::Json;
use axum::routing::post;
use devstack::bridge::{Bridge, BridgeOptions};
use notifier::Backoff;
use testkit::queues::QueueSettings;
use wiremock::ResponseTemplate;
use wiremock::matchers::method;

use crate::support::{Handler, Options, World};

/// Serves `handler` at the Lambda invoke path on a free loopback port, as `cargo lambda
/// watch` does; every event's receive counts are recorded. Returns the invoke URL.
async fn invoke_endpoint(handler: Arc<Handler>, counts: Arc<Mutex<Vec<String>>>) -> String {
    let app = axum::Router::new().route(
        "/2015-03-31/functions/notifier/invocations",
        post(move |Json(event): Json<SqsEvent>| {
            let (handler, counts) = (handler.clone(), counts.clone());
            async move {
                for record in &event.records {
                    let count = record.attributes.get("ApproximateReceiveCount");
                    counts
                        .lock()
                        .expect("lock")
                        .push(count.cloned().unwrap_or_default());
                }
                Json(handler.handle(event).await)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/2015-03-31/functions/notifier/invocations")
}

#[tokio::test]
async fn a_message_that_keeps_failing_ends_in_the_dead_letter_queue() {
    // No backoff here, so the redeliveries come at once.
    let world = World::with(Options {
        backoff: Backoff {
            base: Duration::ZERO,
            max: Duration::ZERO,
        },
        ..Options::default()
    })
    .await;
    wiremock::Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&world.at)
        .await;
    let customer = world.customer("Never Reached", Some("0711000006")).await;
    let order = world.place(customer, true).await;

    let counts = Arc::new(Mutex::new(Vec::new()));
    let bridge = Bridge::new(
        world.env.sqs.clone(),
        world.queues.notifications.as_str(),
        invoke_endpoint(world.handler.clone(), counts.clone()).await,
        BridgeOptions {
            batch_size: 10,
            wait_seconds: 0,
        },
    )
    .expect("bridge");
    let max_receives = QueueSettings::from_repository()
        .expect("template")
        .max_receive_count;
    let mut dead = Vec::new();
    for _ in 0..(max_receives + 3) {
        bridge.poll_once().await.expect("poll");
        dead = world.receive_from(&world.queues.dead_letters).await;
        if !dead.is_empty() {
            break;
        }
    }

    assert_eq!(dead.len(), 1, "moved to the dead-letter queue");
    assert!(
        dead[0]
            .body()
            .expect("body")
            .contains(&order.id.to_string())
    );
    let expected: Vec<String> = (1..=max_receives).map(|n| n.to_string()).collect();
    assert_eq!(
        *counts.lock().expect("lock"),
        expected,
        "one invocation per receive"
    );
    assert!(world.receive().await.is_empty(), "gone from the queue");
    let stored = world.order(order.id).await;
    assert_eq!(stored.notifications.sms.attempts, max_receives);
    assert!(
        !stored.sms_sent() && stored.email_sent(),
        "the email went out once"
    );
    assert_eq!(world.emails().await.len(), 1);
    assert!(
        stored.hand_off_due.is_some(),
        "the reconciler will re-send it"
    );
}
