//! M-Pesa's callbacks through the function: the token and the allow-list before anything
//! is read, a strict shape, M-Pesa's acknowledgement for every well-formed message, and
//! each payment applied once.

use domain::order::{OrderStatus, PaymentStatus};
use domain::payment::{PaymentState, ReversalState};
use serde_json::json;

use crate::support::{App, TOKEN, acknowledged};

#[tokio::test]
async fn a_paid_prompt_confirms_the_order_and_its_repeat_is_acknowledged_and_changes_nothing() {
    let app = App::new().await;
    let order = app.order("1000.00").await;
    app.prompt(&order, "0712345678").await;
    let callback = app.posted("stk", 1).await;

    let first = app.post("stk", callback.clone()).await;
    assert_eq!(
        acknowledged(&first),
        &json!({"ResultCode": 0, "ResultDesc": "Accepted"})
    );
    let paid = app.stored(order.id).await;
    assert_eq!(paid.status, OrderStatus::Confirmed);
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);

    let before = app.env.snapshot().await;
    let again = app.post("stk", callback).await;
    assert_eq!(acknowledged(&again)["ResultCode"], 0);
    assert_eq!(
        app.env.snapshot().await,
        before,
        "a repeated callback changes nothing"
    );
}

#[tokio::test]
async fn a_wrong_token_is_404_and_a_malformed_body_400_and_neither_changes_anything() {
    let app = App::new().await;
    let order = app.order("100.00").await;
    app.prompt(&order, "0712345678").await;
    let callback = app.posted("stk", 1).await;
    let before = app.env.snapshot().await;

    for token in [
        "0123456789abcdef0123456789abcdeX",
        "x",
        TOKEN.to_uppercase().as_str(),
    ] {
        let response = app.post_with(token, "stk", callback.clone()).await;
        response.expect_problem(404);
    }
    let bodies: [&[u8]; 6] = [
        b"not json",
        b"[]",
        br#"{"Body":{}}"#,
        br#"{"Body":{"stkCallback":{"MerchantRequestID":"1","CheckoutRequestID":"ws_CO_1","ResultCode":"0","ResultDesc":"x"}}}"#,
        br#"{"Body":{"stkCallback":{"MerchantRequestID":"1","CheckoutRequestID":"ws_CO_1","ResultCode":0,"ResultDesc":"x"}}}"#,
        br#"{"Result":{}}"#,
    ];
    for body in bodies {
        app.post("stk", body.to_vec()).await.expect_problem(400);
    }
    for route in [
        "c2b/validation",
        "c2b/confirmation",
        "reversal/result",
        "reversal/timeout",
    ] {
        app.post(
            route,
            br#"{"TransID":"SLK00001","TransAmount":12}"#.to_vec(),
        )
        .await
        .expect_problem(400);
        app.post_with("nope", route, b"{}".to_vec())
            .await
            .expect_problem(404);
    }
    assert_eq!(app.env.snapshot().await, before);
    // The genuine callback still counts afterwards.
    acknowledged(&app.post("stk", callback).await);
    assert_eq!(
        app.stored(order.id).await.payment_standing().status,
        PaymentStatus::Paid
    );
}

#[tokio::test]
async fn callbacks_from_outside_the_allow_list_are_404() {
    // The test events come from 198.51.100.23, not Safaricom's address.
    let app = App::with_allowed(vec!["196.201.214.200".parse().expect("ip")]).await;
    let before = app.env.snapshot().await;
    let body = br#"{"Body":{"stkCallback":{"MerchantRequestID":"1","CheckoutRequestID":"ws_CO_1","ResultCode":1032,"ResultDesc":"Request cancelled by user"}}}"#;
    app.post("stk", body.to_vec()).await.expect_problem(404);
    assert_eq!(app.env.snapshot().await, before);
    let open = App::with_allowed(vec!["198.51.100.23".parse().expect("ip")]).await;
    acknowledged(&open.post("stk", body.to_vec()).await);
}

#[tokio::test]
async fn paybill_validation_and_confirmation_through_the_stand_in() {
    let app = App::new().await;
    let order = app.order("100.00").await;
    let client = crate::support::daraja(&app.mpesa.base_url);
    let base = app
        .recorder
        .url(&format!("{}/{TOKEN}", crate::support::CALLBACKS));
    client
        .register_c2b_urls(&mpesa::C2bUrls {
            response_type: mpesa::C2bResponseType::Completed,
            confirmation_url: url::Url::parse(&format!("{base}/c2b/confirmation")).expect("url"),
            validation_url: url::Url::parse(&format!("{base}/c2b/validation")).expect("url"),
        })
        .await
        .expect("registered");
    client
        .simulate_c2b(&mpesa::C2bSimulation {
            amount: mpesa::Shillings::new(116).expect("amount"),
            payer: domain::PhoneNumber::parse("0712345678").expect("phone"),
            bill_ref_number: order.payment_reference().to_string().to_lowercase(),
        })
        .await
        .expect("simulated");
    let validation = app.posted("c2b/validation", 1).await;
    let answer = app.post("c2b/validation", validation.clone()).await;
    assert_eq!(
        acknowledged(&answer),
        &json!({"ResultCode": "0", "ResultDesc": "Accepted"})
    );

    let confirmation = app.posted("c2b/confirmation", 1).await;
    // Delivered twice: applied once.
    for _ in 0..2 {
        let answer = app.post("c2b/confirmation", confirmation.clone()).await;
        assert_eq!(
            acknowledged(&answer),
            &json!({"ResultCode": "0", "ResultDesc": "Accepted"})
        );
    }
    let paid = app.stored(order.id).await;
    assert_eq!(paid.payments.len(), 1);
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
    assert_eq!(paid.status, OrderStatus::Confirmed);

    // A reference naming no order is rejected at validation.
    let mut stranger: serde_json::Value = serde_json::from_slice(&validation).expect("json");
    stranger["BillRefNumber"] = json!("NO-SUCH-ORDER");
    let answer = app
        .post("c2b/validation", stranger.to_string().into_bytes())
        .await;
    assert_eq!(
        acknowledged(&answer),
        &json!({"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
    );
}

#[tokio::test]
async fn a_reversal_result_refunds_the_cancelled_order() {
    let app = App::new().await;
    let order = app.paid_then_cancelled().await;
    let result = app.posted("reversal/result", 1).await;
    acknowledged(&app.post("reversal/result", result).await);
    let refunded = app.stored(order.id).await;
    assert_eq!(refunded.payment_standing().status, PaymentStatus::Refunded);
    assert_eq!(refunded.payments[0].state, PaymentState::Reversed);
    assert_eq!(
        refunded.payments[0].reversal.as_ref().map(|r| r.state),
        Some(ReversalState::Reversed)
    );
}

#[tokio::test]
async fn another_method_on_a_callback_route_is_405() {
    // What the deploy's smoke test relies on to see the function up without posting.
    let app = App::new().await;
    let response =
        testkit::events::ApiRequest::get(&format!("{}/{TOKEN}/stk", crate::support::CALLBACKS))
            .send(&app.router)
            .await;
    response.expect_problem(405);
}
