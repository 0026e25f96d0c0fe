//! The reconciler's sweep of open payments (`PaymentService::sweep`, which
//! `reconciler::sweep_payments` runs every five minutes) against DynamoDB Local and the
//! M-Pesa stand-in: what no callback settled ends in a state the contract names.

use std::time::Duration;

use domain::Timestamp;
use domain::order::{OrderStatus, PaymentStatus};
use domain::payment::{PaymentState, ReversalState};
use domain::payment_use_cases::{
    NO_ANSWER_AFTER, PaybillNotice, REVERSAL_ATTEMPTS, REVERSAL_RESULT_WAIT, SweepReport,
};
use testkit::callbacks::poll;

use crate::support::{App, acknowledged};

async fn sweep(app: &App, at: Timestamp) -> SweepReport {
    app.service().sweep(at).await.expect("swept")
}

#[tokio::test]
async fn the_sweep_settles_a_prompt_whose_callback_never_comes() {
    let app = App::new().await;
    let order = app.order("100.00").await;
    // `0404`: the stand-in never sends the callback, but its query says 0.
    app.prompt(&order, "0712340404").await;
    let settled = poll(async || {
        let report = sweep(&app, Timestamp::now()).await;
        (report.prompts_settled == 1).then_some(report)
    })
    .await
    .expect("the sweep never settled the prompt");
    assert_eq!(settled.orders, 1);
    let paid = app.stored(order.id).await;
    assert_eq!(paid.payments[0].state, PaymentState::Succeeded);
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
    assert_eq!(paid.status, OrderStatus::Confirmed);
    // No receipt reached us: the order stays open, for staff, and a sweep changes nothing.
    let items = app.service().needing_attention().await.expect("listed");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].reason.as_str(), "missing_receipt");
    let before = app.env.snapshot().await;
    let again = sweep(&app, Timestamp::now()).await;
    assert_eq!((again.orders, again.prompts_settled), (1, 0));
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn a_prompt_without_an_answer_fails_after_ten_minutes_and_a_later_success_counts() {
    // The stand-in decides only after 3 s: until then its query says "being processed".
    let app = App::deciding_after(Duration::from_secs(3)).await;
    let order = app.order("100.00").await;
    app.prompt(&order, "0712345678").await;
    let early = sweep(&app, Timestamp::now()).await;
    assert_eq!(
        (early.prompts_settled, early.prompts_expired),
        (0, 0),
        "a prompt younger than ten minutes waits"
    );
    let late = Timestamp::now().after(NO_ANSWER_AFTER + Duration::from_secs(60));
    let expired = sweep(&app, late).await;
    assert_eq!(expired.prompts_expired, 1);
    let failed = app.stored(order.id).await;
    assert_eq!(failed.payments[0].state, PaymentState::Failed);
    assert_eq!(
        failed.payments[0]
            .result
            .as_ref()
            .map(|r| r.description.as_str()),
        Some("no answer")
    );
    assert_eq!(failed.payment_standing().status, PaymentStatus::Unpaid);
    assert!(
        app.history_actions(order.id)
            .await
            .contains(&"payment.failed".to_owned())
    );
    assert_eq!(sweep(&app, late).await.orders, 0, "nothing left open");

    // M-Pesa decides after all: its callback, confirmed by the query, still counts.
    acknowledged(&app.post("stk", app.posted("stk", 1).await).await);
    let paid = app.stored(order.id).await;
    assert_eq!(paid.payments[0].state, PaymentState::Succeeded);
    assert!(paid.payments[0].receipt.is_some());
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
    assert_eq!(paid.status, OrderStatus::Confirmed);
}

fn unknown_receipt_payment(order: &domain::order::Order) -> PaybillNotice {
    PaybillNotice {
        // A receipt the stand-in never issued: each reversal of it is refused (R000002).
        receipt: domain::payment::Receipt::parse("SLK4000010").expect("receipt"),
        amount: domain::Money::parse_bound("116.00").expect("amount"),
        bill_ref_number: order.payment_reference().to_string(),
        phone_number: None,
        payer_name: None,
        paid_at: None,
    }
}

#[tokio::test]
async fn a_failing_reversal_is_retried_by_the_sweep_then_left_for_staff() {
    let app = App::new().await;
    let order = app.order("100.00").await;
    app.service()
        .paybill(&unknown_receipt_payment(&order))
        .await
        .expect("paid");
    app.cancel(order.id).await;
    app.service()
        .request_reversals(order.id)
        .await
        .expect("requested");
    for attempt in 1..=REVERSAL_ATTEMPTS {
        let result = app.posted("reversal/result", attempt as usize).await;
        acknowledged(&app.post("reversal/result", result).await);
        let stored = app.stored(order.id).await;
        let reversal = stored.payments[0].reversal.clone().expect("reversal");
        assert_eq!(reversal.state, ReversalState::Failed, "attempt {attempt}");
        assert_eq!(reversal.attempts, attempt);
        let report = sweep(&app, Timestamp::now()).await;
        let retried = usize::from(attempt < REVERSAL_ATTEMPTS);
        assert_eq!(
            (report.reversals_retried, report.reversals_requested),
            (retried, retried),
            "after attempt {attempt}"
        );
    }
    // Left for staff: a sweep only lists the order (one query a GSI6 shard), reading it no
    // more.
    let before = app.requests.count();
    sweep(&app, Timestamp::now()).await;
    assert_eq!(
        app.requests.count() - before,
        u64::from(storage::keys::ORDER_INDEX_SHARDS)
    );
    let held = app.stored(order.id).await;
    assert_eq!(held.payment_standing().status, PaymentStatus::RefundPending);
    let items = app.service().needing_attention().await.expect("listed");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].reason.as_str(), "reversal_failed");
    let history = app.history_actions(order.id).await;
    let count = |action: &str| history.iter().filter(|a| *a == action).count();
    assert_eq!(
        count("payment.reversal_requested"),
        REVERSAL_ATTEMPTS as usize
    );
    assert_eq!(count("payment.reversal_failed"), REVERSAL_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_reversal_whose_result_never_comes_times_out_and_is_asked_again() {
    let app = App::new().await;
    let order = app.paid_then_cancelled().await;
    // Its result is lost on the way: never delivered.
    let lost = app.posted("reversal/result", 1).await;
    let late = Timestamp::now().after(REVERSAL_RESULT_WAIT + Duration::from_secs(60));
    let report = sweep(&app, late).await;
    assert_eq!(
        (
            report.reversals_timed_out,
            report.reversals_retried,
            report.reversals_requested
        ),
        (1, 1, 1)
    );
    // M-Pesa reversed it the first time: the second request says so (R000001).
    acknowledged(
        &app.post("reversal/result", app.posted("reversal/result", 2).await)
            .await,
    );
    let refunded = app.stored(order.id).await;
    assert_eq!(refunded.payments[0].state, PaymentState::Reversed);
    assert_eq!(refunded.payment_standing().status, PaymentStatus::Refunded);
    // The lost result turning up late changes nothing.
    let before = app.env.snapshot().await;
    acknowledged(&app.post("reversal/result", lost).await);
    assert_eq!(app.env.snapshot().await, before);
    assert_eq!(sweep(&app, late).await.orders, 0, "nothing left open");
}
