//! The reconciler and the notifier together: an acknowledged order is never re-sent; one
//! with a channel still due is, and the re-send notifies nothing twice.

use std::time::Duration;

use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{Options, World};

#[tokio::test]
async fn the_reconciler_stops_re_sending_once_the_notifier_acknowledged() {
    let world = World::with(Options {
        grace: Duration::ZERO,
        ..Options::default()
    })
    .await;
    Mock::given(method("POST"))
        .and(body_string_contains("254711000005"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&world.at)
        .await;
    world.sms_accepted().await;
    let first = world.customer("First", Some("0711000004")).await;
    let second = world.customer("Second", Some("0711000005")).await;
    let done = world.place(first, true).await;
    let (_, failed) = world.deliver_queued().await;
    assert!(failed.is_empty());
    // The second order's SMS hits the gateway error: a channel is still due.
    let due = world.place(second, true).await;
    let (_, failed) = world.deliver_queued().await;
    assert_eq!(failed.len(), 1);

    let report = reconciler::run(&world.orders).await.expect("run");
    assert_eq!(
        (report.resent, report.failed),
        (1, 0),
        "only the unfinished one"
    );
    let resent = world.receive().await;
    assert_eq!(resent.len(), 1);
    assert!(
        resent[0]
            .body()
            .expect("body")
            .contains(&due.id.to_string())
    );
    assert!(
        !resent[0]
            .body()
            .expect("body")
            .contains(&done.id.to_string())
    );

    // The re-sent confirmation finishes the job; the next run has nothing to send.
    assert!(world.deliver(&resent).await.is_empty());
    assert_eq!(world.sms_requests().await.len(), 3, "ok, failed, ok");
    assert_eq!(world.emails().await.len(), 2);
    let report = reconciler::run(&world.orders).await.expect("run");
    assert_eq!((report.resent, report.failed), (0, 0));
}
