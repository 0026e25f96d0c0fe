//! The customer's texts through the order's life: each event recorded with the write that
//! makes it happen, told once, in the order the events happened, whatever the queue does
//! (duplicates, a lost message the reconciler re-sends, events out of order), and a text
//! the provider refuses for good lists the order among the failed notifications.

use std::time::Duration;

use domain::audit::Actor;
use domain::notification::{ChannelStatus, CustomerEvent};
use domain::order::{OrderStatus, Viewer};
use domain::{CustomerId, OrderId};
use wiremock::Mock;
use wiremock::matchers::{body_string_contains, method, path};

use crate::support::{Options, World, recipient_answer};

fn admin() -> (Viewer, Actor) {
    let id = CustomerId::generate();
    (
        Viewer {
            customer_id: id,
            admin: true,
        },
        Actor::account(id, "admin@example.com"),
    )
}

/// Staff move `order` to `to`.
async fn move_to(world: &World, order: OrderId, to: OrderStatus) {
    let (viewer, actor) = admin();
    world
        .orders
        .change_status(viewer, &actor, order, to)
        .await
        .unwrap_or_else(|e| panic!("to {}: {e}", to.as_str()));
}

/// The texts Africa's Talking received, in order.
async fn texts(world: &World) -> Vec<String> {
    world
        .sms_requests()
        .await
        .into_iter()
        .map(|form| form["message"].clone())
        .collect()
}

#[tokio::test]
async fn each_step_texts_the_customer_once_and_duplicates_send_nothing() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Amina Otieno", Some("0712000001")).await;
    let order = world.place(customer, true).await;
    let number = order.order_number.as_str().to_owned();
    world.deliver_queued().await;

    move_to(&world, order.id, OrderStatus::Processing).await;
    move_to(&world, order.id, OrderStatus::Shipped).await;
    let queued = world.receive().await;
    assert_eq!(queued.len(), 1, "processing tells nothing; shipped does");
    assert!(world.deliver(&queued).await.is_empty());
    // The same message delivered again (SQS may): nothing more.
    let again = world.message(
        "again",
        &format!(r#"{{"order_id":"{}","event":"order.shipped"}}"#, order.id),
    );
    assert!(world.deliver(&[again]).await.is_empty());
    move_to(&world, order.id, OrderStatus::Delivered).await;
    world.deliver_queued().await;

    let sent = texts(&world).await;
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert_eq!(
        sent[1],
        format!("Hi Amina Otieno, your order {number} has been shipped and is on its way to you.")
    );
    assert_eq!(
        sent[2],
        format!(
            "Hi Amina Otieno, your order {number} has been delivered. Thank you for shopping with us."
        )
    );
    assert_eq!(
        world.emails().await.len(),
        1,
        "the admin hears of the confirmation only"
    );
    let stored = world.order(order.id).await;
    let events: Vec<&str> = stored.messages.iter().map(|m| m.event.name()).collect();
    assert_eq!(events, ["order.shipped", "order.delivered"]);
    for message in &stored.messages {
        assert_eq!(
            (message.state.status, message.state.attempts),
            (ChannelStatus::Sent, 1)
        );
        assert!(message.sent_at.is_some());
    }
    assert_eq!(stored.hand_off_due, None, "acknowledged");
}

#[tokio::test]
async fn events_that_arrive_out_of_order_are_told_in_the_order_they_happened() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Baraka", Some("0712000002")).await;
    let order = world.place(customer, true).await;
    world.deliver_queued().await;
    move_to(&world, order.id, OrderStatus::Processing).await;
    move_to(&world, order.id, OrderStatus::Shipped).await;
    move_to(&world, order.id, OrderStatus::Delivered).await;

    // Only the delivered event's message reaches the notifier, before the shipped one: the
    // order says both are due, shipped first.
    let mut queued = world.receive().await;
    assert_eq!(queued.len(), 2);
    queued.retain(|m| m.body().is_some_and(|b| b.contains("order.delivered")));
    assert!(world.deliver(&queued).await.is_empty());
    let sent = texts(&world).await;
    assert!(sent[1].contains("has been shipped"), "{sent:#?}");
    assert!(sent[2].contains("has been delivered"), "{sent:#?}");
    // The shipped event's own message comes late: nothing left to tell.
    assert!(world.deliver_queued().await.1.is_empty());
    assert_eq!(texts(&world).await.len(), 3);
}

#[tokio::test]
async fn a_cancellation_is_told_and_a_confirmation_not_sent_by_then_stays_unsent() {
    let world = World::new().await;
    world.sms_accepted().await;
    let customer = world.customer("Chebet", Some("0712000003")).await;
    let order = world.place(customer, true).await;
    let number = order.order_number.as_str().to_owned();
    move_to(&world, order.id, OrderStatus::Cancelled).await;

    let (queued, failed) = world.deliver_queued().await;
    assert_eq!(queued.len(), 2, "the confirmation and the cancellation");
    assert!(failed.is_empty());
    assert_eq!(
        texts(&world).await,
        [format!(
            "Hi Chebet, your order {number} has been cancelled."
        )]
    );
    assert!(world.emails().await.is_empty());
    let stored = world.order(order.id).await;
    assert_eq!(stored.notifications.sms.status, ChannelStatus::Pending);
    assert_eq!(
        stored.messages[0].event,
        CustomerEvent::Cancelled { refund: None }
    );
    assert_eq!(stored.hand_off_due, None);
}

#[tokio::test]
async fn a_lost_queue_message_is_re_sent_by_the_reconciler_and_told_once() {
    let world = World::with(Options {
        grace: Duration::ZERO,
        ..Options::default()
    })
    .await;
    world.sms_accepted().await;
    let customer = world.customer("Dalmas", Some("0712000004")).await;
    let order = world.place(customer, true).await;
    world.deliver_queued().await;
    move_to(&world, order.id, OrderStatus::Processing).await;
    move_to(&world, order.id, OrderStatus::Shipped).await;
    // The queue message is lost (taken and never handled).
    assert_eq!(world.receive().await.len(), 1);
    world
        .env
        .sqs
        .purge_queue()
        .queue_url(&world.queues.notifications)
        .send()
        .await
        .expect("purge");

    let report = reconciler::run(&world.orders).await.expect("run");
    assert_eq!((report.resent, report.failed), (1, 0));
    let resent = world.receive().await;
    assert_eq!(resent.len(), 1);
    assert!(resent[0].body().expect("body").contains("order.notify"));
    assert!(world.deliver(&resent).await.is_empty());
    assert_eq!(texts(&world).await.len(), 2, "confirmation, shipped");
    let report = reconciler::run(&world.orders).await.expect("run");
    assert_eq!(report.resent, 0, "acknowledged: nothing left to re-send");
}

#[tokio::test]
async fn a_text_refused_for_good_lists_the_order_among_the_failed_notifications() {
    let world = World::new().await;
    Mock::given(method("POST"))
        .and(path("/version1/messaging"))
        .and(body_string_contains("shipped"))
        .respond_with(recipient_answer(406, "UserInBlacklist", "None"))
        .mount(&world.at)
        .await;
    world.sms_accepted().await;
    let customer = world.customer("Esther", Some("0712000005")).await;
    let order = world.place(customer, true).await;
    world.deliver_queued().await;
    move_to(&world, order.id, OrderStatus::Processing).await;
    move_to(&world, order.id, OrderStatus::Shipped).await;
    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty(), "a permanent failure is final");

    let stored = world.order(order.id).await;
    let shipped = &stored.messages[0];
    assert_eq!(shipped.state.status, ChannelStatus::Failed);
    assert_eq!(
        shipped.state.last_error.as_ref().map(|c| c.as_str()),
        Some("user_in_blacklist")
    );
    let ids = world.env.failed_notifications().await;
    assert_eq!(ids, [order.id]);
}
