//! Batches: records are independent; only the ones worth retrying are reported failed,
//! and bodies that can never succeed are acknowledged, never a poisoned batch.

use domain::notification::ChannelStatus;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

use crate::support::World;

#[tokio::test]
async fn one_failing_message_never_re_delivers_its_neighbours() {
    let world = World::new().await;
    // This number's SMS always fails at the gateway; every other number's goes out.
    Mock::given(method("POST"))
        .and(body_string_contains("254799000999"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&world.at)
        .await;
    world.sms_accepted().await;
    let good = world.customer("Good One", Some("0711000001")).await;
    let other = world.customer("Good Two", Some("0711000002")).await;
    let poison = world.customer("Unlucky", Some("0799000999")).await;
    let first = world.place(good, true).await;
    let second = world.place(other, true).await;
    let stuck = world.place(poison, true).await;
    let mut messages = world.receive().await;
    assert_eq!(messages.len(), 3);
    let stuck_message = messages
        .iter()
        .find(|m| m.body().is_some_and(|b| b.contains(&stuck.id.to_string())))
        .and_then(|m| m.message_id())
        .expect("the poison message")
        .to_owned();
    // Bodies no retry can fix ride along in the same batch.
    messages.push(world.message("malformed", "{not json"));
    messages.push(world.message("array", r#"["order.confirmed"]"#));
    messages.push(world.message(
        "other-event",
        &format!(
            r#"{{"order_id":"{}","event":"order.teleported"}}"#,
            first.id
        ),
    ));
    messages.push(world.message(
        "unknown-order",
        r#"{"order_id":"01JZZZZZZZZZZZZZZZZZZZZZZZ","event":"order.confirmed"}"#,
    ));

    let failed = world.deliver(&messages).await;

    assert_eq!(failed, [stuck_message], "only the poison message");
    for id in [first.id, second.id] {
        let order = world.order(id).await;
        assert!(order.sms_sent() && order.email_sent());
    }
    let stuck = world.order(stuck.id).await;
    assert_eq!(stuck.notifications.sms.status, ChannelStatus::Pending);
    assert!(stuck.email_sent());
    assert_eq!(world.emails().await.len(), 3);
}

#[tokio::test]
async fn orders_not_confirmed_get_no_confirmation_and_a_cancelled_one_only_its_cancellation() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Changed Mind", Some("0711000003")).await;
    let pending = world.place(customer, false).await;
    let confirmed = world.place(customer, true).await;
    let viewer = domain::order::Viewer {
        customer_id: customer,
        admin: false,
    };
    world
        .orders
        .change_status(
            viewer,
            &domain::audit::Actor::account(customer, "customer@example.com"),
            confirmed.id,
            domain::order::OrderStatus::Cancelled,
        )
        .await
        .expect("cancelled before the notifier ran");
    let mut messages = world.receive().await;
    assert_eq!(
        messages.len(),
        2,
        "the confirmation and the cancellation of the cancelled order"
    );
    messages.push(world.message(
        "pending",
        &format!(
            r#"{{"order_id":"{}","event":"order.confirmed"}}"#,
            pending.id
        ),
    ));

    assert!(world.deliver(&messages).await.is_empty());
    // The cancelled order's customer hears of the cancellation only; the pending order's
    // of nothing; the admin of neither.
    let texts = world.sms_requests().await;
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0]["message"].contains("has been cancelled"),
        "{texts:?}"
    );
    assert!(world.emails().await.is_empty());
    let cancelled = world.order(confirmed.id).await;
    assert_eq!(cancelled.notifications.sms.status, ChannelStatus::Pending);
    assert_eq!(cancelled.hand_off_due, None);
}
