//! The whole way: the notifier sends through the Africa's Talking stand-in, which posts
//! its delivery reports; the function records them. A number the stand-in cannot reach
//! (ending in 9999) ends undelivered and on the failed list; a blacklisted one (0000) is
//! refused at send time and gets no report.

use domain::notification::{ChannelStatus, Delivery, ErrorClass};
use domain::order::OrderStatus;

use crate::support::{REPORTS, TOKEN, World};

#[tokio::test]
async fn the_stand_ins_reports_mark_each_text_delivered_or_not() {
    let world = World::new().await;
    let reached = world.confirmed_order("0712345678").await;
    let unreachable = world.confirmed_order("0712349999").await;
    let blacklisted = world.confirmed_order("0712340000").await;
    for order in [&reached, &unreachable, &blacklisted] {
        world.notify(order.id).await;
    }
    world.move_to(reached.id, OrderStatus::Processing).await;
    world.move_to(reached.id, OrderStatus::Shipped).await;
    world.notify(reached.id).await;

    // Three texts accepted (two for the reached customer, one for the unreachable one).
    let posted = world
        .sandbox
        .reports
        .wait_for(3, std::time::Duration::from_secs(30))
        .await;
    assert_eq!(posted.len(), 3, "{posted:?}");
    let bodies = world.recorder.wait_for(REPORTS, 3).await;
    for body in &bodies {
        let answer = world
            .post(TOKEN, std::str::from_utf8(body).expect("a form"))
            .await;
        answer.expect_status(200);
        assert_eq!(answer.body.clone()["recorded"], true);
    }

    let reached = world.order(reached.id).await;
    assert_eq!(
        reached.notifications.sms.delivery,
        Some(Delivery::Delivered)
    );
    assert_eq!(reached.messages.len(), 1);
    assert_eq!(
        reached.messages[0].state.delivery,
        Some(Delivery::Delivered)
    );
    let unreachable = world.order(unreachable.id).await;
    assert_eq!(
        unreachable.notifications.sms.delivery,
        Some(Delivery::Undelivered(ErrorClass::new("absent_subscriber")))
    );
    let blacklisted = world.order(blacklisted.id).await;
    assert_eq!(blacklisted.notifications.sms.status, ChannelStatus::Failed);
    assert_eq!(blacklisted.notifications.sms.delivery, None);
}
