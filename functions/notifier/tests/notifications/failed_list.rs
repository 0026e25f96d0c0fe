//! The notifier's writes keep the admins' list of failed notifications
//! (`OrderListing::NotificationFailed`, GSI5) in step with the channel states: the write
//! that records a channel as `failed` lists the order, at no extra request; a transient
//! failure (the channel stays `pending`, retried) never does; an order whose channels are
//! all sent or skipped is never listed.

use domain::notification::{Channel, ChannelState, ChannelStatus, NotificationStore};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{World, recipient_answer};

#[tokio::test]
async fn a_refused_sms_lists_the_order_and_sent_or_skipped_channels_never_do() {
    let world = World::new().await;
    // One number the gateway refuses for good, one that fails once (5xx, retried).
    Mock::given(method("POST"))
        .and(body_string_contains("254733000222"))
        .respond_with(recipient_answer(403, "InvalidPhoneNumber", "None"))
        .mount(&world.at)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("254722000111"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&world.at)
        .await;
    world.sms_accepted().await;

    // Both sent.
    let happy = world.customer("All Good", Some("0712345678")).await;
    let sent = world.place(happy, true).await;
    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty());
    // No phone: the SMS is skipped, the email sent.
    let phoneless = world.customer("No Phone", None).await;
    let skipped = world.place(phoneless, true).await;
    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty());
    assert!(
        world.env.failed_notifications().await.is_empty(),
        "sent and skipped: not listed"
    );

    // Refused for good: `failed`, listed by the write that records it, at the same
    // seven requests as any order (order and customer reads, claim and outcome per
    // channel, the acknowledgement).
    let bad = world.customer("Bad Number", Some("0733000222")).await;
    let refused = world.place(bad, true).await;
    let before = world.requests.count();
    let (messages, failed) = world.deliver_queued().await;
    assert!(failed.is_empty(), "permanent: acknowledged");
    assert_eq!(world.requests.count() - before, 7, "DynamoDB requests");
    let stored = world.order(refused.id).await;
    assert_eq!(stored.notifications.sms.status, ChannelStatus::Failed);
    assert!(stored.email_sent());
    assert_eq!(world.env.failed_notifications().await, [refused.id]);
    // A redelivery changes nothing: listed once.
    assert!(world.deliver(&messages).await.is_empty());
    assert_eq!(world.env.failed_notifications().await, [refused.id]);

    // A gateway error is transient: the SMS stays pending (retried), never listed; the
    // retry sends it.
    let flaky = world.customer("Retry Me", Some("0722000111")).await;
    let retried = world.place(flaky, true).await;
    let (messages, failed) = world.deliver_queued().await;
    assert_eq!(failed.len(), 1, "retried later");
    assert_eq!(
        world.order(retried.id).await.notifications.sms.status,
        ChannelStatus::Pending
    );
    assert_eq!(world.env.failed_notifications().await, [refused.id]);
    assert!(world.deliver(&messages).await.is_empty());
    assert!(world.order(retried.id).await.sms_sent());
    assert_eq!(world.env.failed_notifications().await, [refused.id]);

    // `failed` is final for the notifier. Should a later re-send (outside the notifier)
    // record the SMS as sent through the same port, the order leaves the list.
    let sms = world.order(refused.id).await.notifications.sms;
    let resent = ChannelState {
        status: ChannelStatus::Sent,
        attempts: sms.attempts + 1,
        message_id: Some("ATXid_again".into()),
        version: sms.version + 1,
        ..ChannelState::default()
    };
    assert!(
        world
            .orders
            .store()
            .save_channel(refused.id, Channel::Sms, sms.version, &resent)
            .await
            .expect("written")
    );
    assert!(world.env.failed_notifications().await.is_empty());
    for id in [sent.id, skipped.id, retried.id, refused.id] {
        let order = world.order(id).await;
        assert!(
            !order.notifications.any_failed(),
            "{id}: no channel failed, and none listed"
        );
    }
}

#[tokio::test]
async fn an_interrupted_send_is_failed_and_listed_newest_first() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Crashed Once", Some("0766000555")).await;
    let mut interrupted = Vec::new();
    for _ in 0..2 {
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
        assert!(
            world.env.failed_notifications().await.is_empty(),
            "a claim is no failure"
        );
        interrupted.push(order.id);
    }
    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty());
    assert!(world.sms_requests().await.is_empty(), "not sent again");
    interrupted.reverse();
    assert_eq!(
        world.env.failed_notifications().await,
        interrupted,
        "newest first"
    );
}
