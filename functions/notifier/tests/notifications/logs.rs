//! What the notifier logs: order ids, never phone numbers, email addresses or the key.

use std::io::Write;
use std::sync::{Arc, Mutex};

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
