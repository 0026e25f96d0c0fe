//! Delivery reports as Africa's Talking posts them: each recorded once on the message its
//! SMS was; an undelivered one lists the order among the failed notifications; a forged,
//! malformed or unknown one changes nothing.

use domain::notification::{
    Channel, Delivery, ErrorClass, NotificationStore, SentSms, SmsId, SmsSubject,
};
use domain::order::OrderStatus;
use serde_json::json;

use crate::support::{TOKEN, World, report};

#[tokio::test]
async fn a_report_marks_the_confirmation_delivered_once_in_two_requests() {
    let world = World::new().await;
    let (order, sms) = world.notified_order("0712345678").await;

    let before = world.requests.count();
    let answer = world.post(TOKEN, &report(&sms, "Success", None)).await;
    answer.expect_status(200);
    assert_eq!(
        answer.body.clone(),
        json!({"delivery": "delivered", "recorded": true})
    );
    assert_eq!(
        world.requests.count() - before,
        2,
        "one read of the SMS's item, one write on the order"
    );
    let stored = world.order(order.id).await;
    assert_eq!(stored.notifications.sms.delivery, Some(Delivery::Delivered));
    assert_eq!(stored.notifications.email.delivery, None);

    // Africa's Talking posts it again, or a different final status comes late: the first
    // report stands and nothing changes.
    let snapshot = world.env.snapshot().await;
    for again in [
        report(&sms, "Success", None),
        report(&sms, "Failed", Some("DeliveryFailure")),
    ] {
        let answer = world.post(TOKEN, &again).await;
        answer.expect_status(200);
        assert_eq!(answer.body.clone()["recorded"], false);
    }
    assert_eq!(world.env.snapshot().await, snapshot);
    assert!(world.env.failed_notifications().await.is_empty());
}

#[tokio::test]
async fn an_undelivered_message_says_why_and_lists_the_order_among_failed_notifications() {
    let world = World::new().await;
    let order = world.confirmed_order("0712345678").await;
    world.notify(order.id).await;
    world.move_to(order.id, OrderStatus::Processing).await;
    world.move_to(order.id, OrderStatus::Shipped).await;
    world.notify(order.id).await;
    let shipped = world.order(order.id).await.messages[0].clone();
    let sms = shipped
        .state
        .message_id
        .clone()
        .expect("the shipped text was accepted");
    assert_ne!(sms, world.confirmation_sms(order.id).await);

    let answer = world
        .post(TOKEN, &report(&sms, "Failed", Some("AbsentSubscriber")))
        .await;
    answer.expect_status(200);
    assert_eq!(
        answer.body.clone(),
        json!({"delivery": "undelivered", "recorded": true})
    );
    let stored = world.order(order.id).await;
    assert_eq!(
        stored.messages[0].state.delivery,
        Some(Delivery::Undelivered(ErrorClass::new("absent_subscriber")))
    );
    assert_eq!(stored.notifications.sms.delivery, None, "only that message");
    assert_eq!(world.env.failed_notifications().await, vec![order.id]);
}

#[tokio::test]
async fn a_forged_or_malformed_report_changes_nothing_and_reads_nothing() {
    let world = World::new().await;
    let (_, sms) = world.notified_order("0712345678").await;
    let snapshot = world.env.snapshot().await;
    let before = world.requests.count();

    let forged = report(&sms, "Failed", Some("UserInBlacklist"));
    for wrong in [
        "0123456789abcdef0123456789abcdeF",
        "0123456789abcdef0123456789abcde",
        "guess",
    ] {
        let answer = world.post(wrong, &forged).await;
        answer.expect_problem(404);
    }
    for malformed in [
        String::new(),
        format!("id={sms}"),
        format!("id={sms}&status=Delivered"),
        "status=Success".to_owned(),
        "id=ATX%20id&status=Success".to_owned(),
        json!({"id": sms, "status": "Success"}).to_string(),
    ] {
        let answer = world.post(TOKEN, &malformed).await;
        let problem = answer.expect_problem(400);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("not an SMS delivery report")),
            "{problem}"
        );
    }
    let huge = format!(
        "{}&pad={}",
        report(&sms, "Success", None),
        "x".repeat(20_000)
    );
    world.post(TOKEN, &huge).await.expect_problem(413);

    assert_eq!(world.requests.count(), before, "refused before any read");
    assert_eq!(world.env.snapshot().await, snapshot);
}

#[tokio::test]
async fn unknown_sms_are_not_found_and_intermediate_statuses_record_nothing() {
    let world = World::new().await;
    let (_, sms) = world.notified_order("0712345678").await;
    let snapshot = world.env.snapshot().await;

    let before = world.requests.count();
    let problem = world
        .post(TOKEN, &report("ATXid_0000000000000000", "Success", None))
        .await;
    let problem = problem.expect_problem(404);
    assert_eq!(
        problem["detail"],
        "no SMS with this id was sent by this shop"
    );
    assert_eq!(world.requests.count() - before, 1);

    for interim in ["Sent", "Submitted", "Buffered"] {
        let answer = world.post(TOKEN, &report(&sms, interim, None)).await;
        answer.expect_status(200);
        assert_eq!(
            answer.body.clone(),
            json!({"delivery": null, "recorded": false})
        );
    }
    assert_eq!(
        world.requests.count() - before,
        1,
        "intermediate: no request"
    );
    assert_eq!(world.env.snapshot().await, snapshot);
}

#[tokio::test]
async fn a_report_ahead_of_the_recorded_send_is_refused_so_it_comes_again() {
    let world = World::new().await;
    let order = world.confirmed_order("0712345678").await;
    // The provider accepted the text and the notifier remembered its id, but has not
    // recorded the send yet (the channel is still pending).
    let sms = SmsId::parse("ATXid_ahead0000000000000000000000001").expect("id");
    let sent = SentSms {
        order: order.id,
        subject: SmsSubject::Confirmation,
    };
    world
        .orders
        .store()
        .remember_sms(&sms, &sent)
        .await
        .expect("remembered");
    let snapshot = world.env.snapshot().await;

    let answer = world
        .post(TOKEN, &report(sms.as_str(), "Success", None))
        .await;
    answer.expect_problem(503);
    assert_eq!(world.env.snapshot().await, snapshot);
    assert_eq!(
        world
            .order(order.id)
            .await
            .notifications
            .get(Channel::Sms)
            .delivery,
        None
    );
}
