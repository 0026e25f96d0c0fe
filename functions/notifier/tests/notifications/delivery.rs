//! One confirmed order through the notifier: what each provider receives, what the order
//! records, and that nothing is ever sent twice.

use std::time::Duration;

use domain::notification::{ChannelStatus, ErrorClass};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{AT_API_KEY, AT_SENDER, AT_USERNAME, World, recipient_answer};

#[tokio::test]
async fn a_confirmed_order_sends_one_sms_and_one_email_and_is_acknowledged() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Wanjiku Kamau", Some("0712345678")).await;
    let order = world.place(customer, true).await;
    assert!(order.hand_off_due.is_some(), "awaiting the notifier");

    let before = world.requests.count();
    let (messages, failed) = world.deliver_queued().await;
    assert_eq!(messages.len(), 1);
    assert!(failed.is_empty(), "{failed:?}");
    // Order read, customer read, claim + record for each channel, the accepted SMS's id
    // remembered for its delivery report, acknowledgement.
    assert_eq!(world.requests.count() - before, 8, "DynamoDB requests");

    let sms = world.sms_requests().await;
    assert_eq!(sms.len(), 1);
    let number = order.order_number.as_str();
    assert_eq!(sms[0]["username"], AT_USERNAME);
    assert_eq!(sms[0]["to"], "+254712345678");
    assert_eq!(sms[0]["from"], AT_SENDER);
    assert_eq!(
        sms[0]["message"],
        format!(
            "Hi Wanjiku Kamau, your order {number} of KES 116.00 has been confirmed. Thank you for shopping with us."
        )
    );
    let request = &world.at.received_requests().await.expect("recorded")[0];
    assert_eq!(request.headers["apikey"], AT_API_KEY);
    assert_eq!(request.headers["accept"], "application/json");

    let emails = world.emails().await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(
        emails[0]["subject"],
        format!("New Order: #{number} - KES 116.00")
    );
    assert_eq!(emails[0]["source"], world.sender);
    assert_eq!(
        emails[0]["destinations"]["ToAddresses"],
        serde_json::json!([world.admin])
    );
    let body = emails[0]["body"].as_str().expect("body");
    for expected in [
        "Wanjiku Kamau",
        "+254712345678",
        "Moi Avenue 1, Nairobi",
        "KES 100.00",
        "KES 116.00",
    ] {
        assert!(body.contains(expected), "{expected} in {body}");
    }

    let stored = world.order(order.id).await;
    assert!(stored.sms_sent() && stored.email_sent());
    assert_eq!(stored.hand_off_due, None, "hand-off acknowledged");
    let sms_state = &stored.notifications.sms;
    assert_eq!(
        (sms_state.status, sms_state.attempts),
        (ChannelStatus::Sent, 1)
    );
    assert_eq!(sms_state.message_id.as_deref(), Some("ATXid_4f1c1a2b"));
    assert_eq!(
        stored.notifications.email.message_id.as_deref(),
        emails[0]["id"].as_str()
    );
    assert!(world.receive().await.is_empty(), "message deleted");
}

#[tokio::test]
async fn a_customer_without_a_phone_number_gets_no_sms_but_the_admin_gets_the_email() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("No Phone", None).await;
    let order = world.place(customer, true).await;

    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty());
    assert!(world.sms_requests().await.is_empty());
    assert_eq!(world.emails().await.len(), 1);
    let stored = world.order(order.id).await;
    assert!(!stored.sms_sent() && stored.email_sent());
    assert_eq!(stored.notifications.sms.status, ChannelStatus::Skipped);
    assert_eq!(stored.notifications.sms.attempts, 0);
    assert_eq!(
        stored.notifications.sms.last_error,
        Some(ErrorClass::new("no_phone_number"))
    );
    assert_eq!(stored.hand_off_due, None, "skipped counts as done");
}

#[tokio::test]
async fn an_sms_gateway_error_is_retried_with_backoff_without_a_second_email() {
    let world = World::new().await;
    Mock::given(method("POST"))
        .and(path("/version1/messaging"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&world.at)
        .await;
    world.sms_accepted().await;
    let customer = world.customer("Retry Me", Some("0722000111")).await;
    let order = world.place(customer, true).await;

    let (messages, failed) = world.deliver_queued().await;
    assert_eq!(failed, [messages[0].message_id().expect("id").to_owned()]);
    assert_eq!(
        *world.delays.lock().expect("lock"),
        [Duration::from_secs(60)],
        "first receive: 60 s"
    );
    assert!(
        world.receive().await.is_empty(),
        "invisible until the backoff has passed"
    );
    let pending = world.order(order.id).await;
    assert_eq!(pending.notifications.sms.status, ChannelStatus::Pending);
    assert_eq!(
        pending.notifications.sms.last_error,
        Some(ErrorClass::new("http_5xx"))
    );
    assert!(pending.email_sent(), "the email went out regardless");
    assert!(pending.hand_off_due.is_some(), "not acknowledged yet");

    // The second receive of the same message (the queue counts it).
    let mut again = messages[0].clone();
    let mut attributes = again.attributes.take().unwrap_or_default();
    attributes.insert(
        aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
        "2".into(),
    );
    again.attributes = Some(attributes);
    assert!(world.deliver(&[again]).await.is_empty());

    assert_eq!(world.sms_requests().await.len(), 2, "one failed, one sent");
    assert_eq!(world.emails().await.len(), 1, "never a second email");
    assert_eq!(world.delays.lock().expect("lock").len(), 1);
    let done = world.order(order.id).await;
    assert!(done.sms_sent() && done.email_sent());
    assert_eq!(done.notifications.sms.attempts, 2);
    assert_eq!(done.hand_off_due, None);
}

#[tokio::test]
async fn an_invalid_number_is_recorded_as_failed_and_never_retried() {
    let world = World::new().await;
    Mock::given(method("POST"))
        .respond_with(recipient_answer(403, "InvalidPhoneNumber", "None"))
        .mount(&world.at)
        .await;
    let customer = world.customer("Bad Number", Some("0733000222")).await;
    let order = world.place(customer, true).await;

    let (messages, failed) = world.deliver_queued().await;
    assert!(failed.is_empty(), "permanent: acknowledged");
    let stored = world.order(order.id).await;
    assert_eq!(stored.notifications.sms.status, ChannelStatus::Failed);
    assert_eq!(
        stored.notifications.sms.last_error,
        Some(ErrorClass::new("invalid_phone_number"))
    );
    assert!(!stored.sms_sent() && stored.email_sent());
    assert_eq!(stored.hand_off_due, None);

    // A redelivery (or a reconciler re-send) changes nothing and calls no one.
    assert!(world.deliver(&messages).await.is_empty());
    assert_eq!(world.sms_requests().await.len(), 1);
    assert_eq!(world.emails().await.len(), 1);
    assert!(world.delays.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_ses_refusal_is_retried_and_the_sms_is_not_sent_again() {
    let world = World::with(crate::support::Options {
        verified_sender: false,
        ..Default::default()
    })
    .await;
    world.sms_accepted().await;
    let customer = world.customer("Email Later", Some("0744000333")).await;
    let order = world.place(customer, true).await;

    let (messages, failed) = world.deliver_queued().await;
    assert_eq!(failed.len(), 1, "the email is still due");
    let pending = world.order(order.id).await;
    assert!(pending.sms_sent());
    assert_eq!(pending.notifications.email.status, ChannelStatus::Pending);
    assert_eq!(
        pending.notifications.email.last_error,
        Some(ErrorClass::new("message_rejected"))
    );

    world.verify_sender().await;
    assert!(world.deliver(&messages).await.is_empty());
    assert_eq!(world.sms_requests().await.len(), 1, "SMS not sent twice");
    assert_eq!(world.emails().await.len(), 1);
    let done = world.order(order.id).await;
    assert!(done.sms_sent() && done.email_sent());
    assert_eq!(done.notifications.email.attempts, 2);
    assert_eq!(done.hand_off_due, None);
}

#[tokio::test]
async fn duplicate_deliveries_and_duplicate_messages_notify_once() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Twice Told", Some("0755000444")).await;
    let order = world.place(customer, true).await;
    // A second message for the same order (as the reconciler would send), in the same
    // batch: both records are handled concurrently.
    let queue = queue::SqsNotificationQueue::new(
        world.env.sqs.clone(),
        world.queues.notifications.as_str(),
    );
    domain::order::NotificationQueue::order_confirmed(&queue, order.id)
        .await
        .expect("second message");
    let messages = world.receive().await;
    assert_eq!(messages.len(), 2);

    // Racing, each record may claim one channel and find the other claimed: a record
    // that finds a send in flight is retried, never sends.
    let _ = world.deliver(&messages).await;
    // The same messages delivered once more: everything is final, both acknowledged.
    assert!(world.deliver(&messages).await.is_empty());

    assert_eq!(world.sms_requests().await.len(), 1, "one SMS");
    assert_eq!(world.emails().await.len(), 1, "one email");
    let stored = world.order(order.id).await;
    assert!(stored.sms_sent() && stored.email_sent());
    assert_eq!(
        (
            stored.notifications.sms.attempts,
            stored.notifications.email.attempts
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn a_send_interrupted_after_its_claim_is_never_repeated() {
    use domain::notification::{Channel, ChannelState, NotificationStore};

    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Crashed Once", Some("0766000555")).await;
    let order = world.place(customer, true).await;
    // A delivery claimed the SMS long ago and died before recording the outcome.
    let claim = ChannelState {
        attempts: 1,
        claimed_at: Some(domain::Timestamp::parse("2026-01-01T00:00:00.000Z").expect("past")),
        version: 1,
        ..ChannelState::default()
    };
    assert!(
        world
            .orders
            .store()
            .save_channel(order.id, Channel::Sms, 0, &claim)
            .await
            .expect("claim written")
    );

    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty());
    assert!(world.sms_requests().await.is_empty(), "not sent again");
    let stored = world.order(order.id).await;
    assert_eq!(stored.notifications.sms.status, ChannelStatus::Failed);
    assert_eq!(
        stored.notifications.sms.last_error,
        Some(ErrorClass::new("interrupted"))
    );
    assert!(stored.email_sent());
    assert_eq!(stored.hand_off_due, None);
}
