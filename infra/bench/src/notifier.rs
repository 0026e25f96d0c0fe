//! The notifier's rows of `make bench`: confirmed orders' messages handed to the batch
//! handler as the SQS event Lambda would send, one at a time and ten at a time, with the
//! local Africa's Talking stand-in and SES on the emulator as providers. DynamoDB requests
//! are counted per message; latency is per invocation.

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use devstack::sms::{self, SandboxConfig};
use domain::customer::{CustomerName, ProfileChange, SignIn};
use domain::customer_use_cases::Accounts;
use domain::notification::{DEFAULT_CLAIM_LEASE, Notifier};
use domain::order::{HandOffPolicy, OrderService, VatRate};
use domain::{CustomerStore, PhoneNumber};
use messaging::{AfricasTalking, AfricasTalkingConfig, SesEmail};
use notifier::{Backoff, BatchHandler};
use queue::SqsNotificationQueue;
use secrecy::SecretString;
use serde_json::json;
use storage::{DynamoCustomers, DynamoOrders};
use testkit::env::{RequestCounter, TestEnv, counted_client};

use crate::percentile;

const SINGLE: usize = 50;
const BATCHES: usize = 10;
const BATCH: i32 = 10;

/// One row: name, DynamoDB requests per message, p50 and p95 ms per invocation.
pub type Row = (String, f64, f64, f64);

/// Runs both scenarios on `env`'s table and a queue of its own.
pub async fn rows(env: &TestEnv, dynamodb: &str) -> Vec<Row> {
    let queues = env.queues().await;
    // The order scenarios' confirmations are on this queue too: start from an empty one.
    env.drain(&queues.notifications).await;
    let queue = SqsNotificationQueue::new(env.sqs.clone(), queues.notifications.as_str());
    let orders = OrderService::new(
        DynamoOrders::new(env.client.clone(), env.table.as_str()),
        queue.clone(),
        VatRate::kenya_standard(),
        HandOffPolicy::default(),
    );
    let customers = env.customers();
    let customer = Accounts::new(&customers)
        .sign_in(SignIn {
            subject: "bench-notified".into(),
            email: "notified@example.com".into(),
            name: CustomerName::parse("Bench Customer").expect("name"),
            is_admin: false,
        })
        .await
        .expect("customer");
    customers
        .update_profile(
            customer.id,
            ProfileChange {
                name: None,
                phone_number: Some(Some(PhoneNumber::parse("0712345678").expect("phone"))),
            },
        )
        .await
        .expect("phone");
    let product = env.product("Bench phone", "1499.00", 100_000).await;
    let body: orders::body::PlaceBody = serde_json::from_value(json!({
        "items": [{"product_id": product.to_string(), "quantity": 1}],
        "delivery_address": "Moi Avenue 1, Nairobi",
    }))
    .expect("body");
    let request = body.parse().expect("valid");
    let total = SINGLE + BATCHES * BATCH as usize;
    eprintln!("notifier: placing {total} confirmed orders…");
    for _ in 0..total {
        orders
            .place(customer.id, &request, None)
            .await
            .expect("placed");
    }

    let sandbox = sms::start(
        SandboxConfig {
            username: "sandbox".into(),
            api_key: "bench-key".into(),
            delivery_reports: None,
        },
        0,
    )
    .await
    .expect("SMS stand-in");
    let ses = testkit::email::local_ses_client(&testkit::env::moto_endpoint());
    testkit::email::ensure_identity(&ses, "orders@shop.example.com")
        .await
        .expect("SES identity");
    let counter = RequestCounter::default();
    let client = counted_client(dynamodb, counter.clone());
    let handler = BatchHandler::new(
        Notifier::new(
            DynamoOrders::new(client.clone(), env.table.as_str()),
            DynamoCustomers::new(client, env.table.as_str()),
            AfricasTalking::new(AfricasTalkingConfig {
                base_url: sandbox.base_url.parse().expect("url"),
                username: "sandbox".into(),
                sender_id: None,
                api_key: SecretString::from("bench-key"),
                timeout: Duration::from_secs(8),
            })
            .expect("SMS client"),
            SesEmail::new(ses, "orders@shop.example.com", "admin@example.com", None),
            DEFAULT_CLAIM_LEASE,
        ),
        queue,
        Backoff {
            base: Duration::from_secs(60),
            max: Duration::from_secs(900),
        },
    );
    let arn = testkit::queues::queue_arn(&env.sqs, &queues.notifications)
        .await
        .expect("queue ARN");

    let mut rows = Vec::new();
    for (name, size, runs) in [
        (
            "notifier: 1 order.confirmed message (SMS + email)",
            1,
            SINGLE,
        ),
        (
            "notifier: batch of 10 messages (records concurrently)",
            BATCH,
            BATCHES,
        ),
    ] {
        let before = counter.count();
        let mut times = Vec::with_capacity(runs);
        let mut messages_handled = 0;
        for _ in 0..runs {
            let messages = env
                .sqs
                .receive_message()
                .queue_url(&queues.notifications)
                .max_number_of_messages(size)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive")
                .messages
                .unwrap_or_default();
            assert_eq!(messages.len(), size as usize, "{name}: queue ran dry");
            let event: SqsEvent = devstack::bridge::sqs_event(&messages, &arn);
            let started = Instant::now();
            let response = handler.handle(event).await;
            times.push(started.elapsed());
            assert!(
                response.batch_item_failures.is_empty(),
                "{name}: {response:?}"
            );
            messages_handled += messages.len();
        }
        times.sort();
        rows.push((
            name.to_owned(),
            (counter.count() - before) as f64 / messages_handled as f64,
            percentile(&times, 0.5),
            percentile(&times, 0.95),
        ));
    }
    assert_eq!(sandbox.outbox.messages().len(), total, "one SMS per order");
    rows
}
