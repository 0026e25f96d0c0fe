//! What the notifier logs: order ids, never phone numbers, email addresses or the key.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::Dispatch;
use tracing::subscriber::NoSubscriber;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{AT_API_KEY, World};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Keeps a second dispatcher registered for the rest of the test run. With a single one,
/// `tracing` decides whether a span or event is wanted by asking the subscriber of the
/// thread that reaches it first — here another test's thread, with none — and remembers
/// "never" for everyone; with two, it asks every registered subscriber.
fn ask_every_subscriber() {
    static SECOND: OnceLock<Dispatch> = OnceLock::new();
    SECOND.get_or_init(|| Dispatch::new(NoSubscriber::default()));
}

#[tokio::test]
async fn logs_name_the_order_but_no_number_address_or_key() {
    let world = World::with(crate::support::Options {
        verified_sender: false,
        ..Default::default()
    })
    .await;
    world.sms_accepted().await;
    let customer = world.customer("Private Person", Some("0712987654")).await;
    let order = world.place(customer, true).await;
    let messages = world.receive().await;

    ask_every_subscriber();
    let captured = Captured::default();
    // Debug, below the deployed `info`. (At `trace` the AWS SDK logs whole request and
    // response bodies, customers' items included: template.yaml does not allow it.)
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(captured.clone())
        .finish();
    let failed = {
        let _guard = tracing::subscriber::set_default(subscriber);
        // The SMS is sent, the email refused (unverified sender): both paths log.
        world.deliver(&messages).await
    };
    assert_eq!(failed.len(), 1);

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains(&order.id.to_string()), "{logs}");
    for secret in [
        "712987654",
        "0712987654",
        world.sender.as_str(),
        world.admin.as_str(),
        "@example.com",
        AT_API_KEY,
        "Private Person",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into\n{logs}");
    }
}

/// The spans of every log line a subscriber wrote (each line's `span` and `spans`, and the
/// span of each closing span's own line).
fn spans(logs: &str) -> Vec<serde_json::Value> {
    logs.lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("a JSON log line"))
        .flat_map(|line| {
            let mut spans: Vec<serde_json::Value> =
                line["spans"].as_array().cloned().unwrap_or_default();
            spans.extend(line.get("span").cloned());
            spans
        })
        .collect()
}

#[tokio::test]
async fn spans_carry_the_order_id_and_no_email_address() {
    let world = World::new().await;
    world.sms_accepted().await;

    ask_every_subscriber();
    let captured = Captured::default();
    // Every span, with its fields, as it closes: a span shows what it carries even when
    // nothing inside it logs.
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(captured.clone())
        .finish();
    let (customer, order, failed) = {
        let _guard = tracing::subscriber::set_default(subscriber);
        // Signing in (email, name), placing, and notifying by SMS and email: every use
        // case that holds personal data runs in a span here.
        let customer = world.customer("Private Person", Some("0712987654")).await;
        let order = world.place(customer, true).await;
        let failed = world.deliver(&world.receive().await).await;
        (customer, order, failed)
    };
    assert!(failed.is_empty(), "{failed:?}");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    let spans = spans(&logs);
    let order_id = order.id.to_string();
    let carrying_the_order = |name: &str| {
        spans
            .iter()
            .any(|span| span["name"] == name && span["order_id"] == order_id.as_str())
    };
    for name in [
        "orders.place",
        "dynamodb.place",
        "notifier.notify",
        "notifier.send",
        "dynamodb.save_channel",
        "dynamodb.acknowledge",
    ] {
        assert!(
            carrying_the_order(name),
            "no {name} span with the order id in\n{logs}"
        );
    }
    assert!(
        spans.iter().any(|span| span["name"] == "accounts.sign_in"
            && span["customer_id"] == customer.to_string().as_str()),
        "no sign-in span with the customer id in\n{logs}"
    );
    for secret in [
        "@example.com",
        world.sender.as_str(),
        world.admin.as_str(),
        "712987654",
        "Private Person",
        AT_API_KEY,
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into\n{logs}");
    }
}
