//! The payments use cases end to end below HTTP: the service on DynamoDB Local (the real
//! storage adapter), the notifications queue on moto and the Daraja client against the
//! M-Pesa stand-in, whose callbacks a recorder receives and hands to the service as the
//! payments function will. Proves the contract's outcomes: a prompt succeeds only when
//! the query says so, each payment counts once, a PENDING order paid in full is confirmed
//! in the same write, and refused or repeated messages change nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use devstack::mpesa::{MpesaSandboxConfig, RunningMpesaSandbox};
use domain::audit::{AuditListing, AuditLog};
use domain::notification::CustomerEvent;
use domain::order::request::{DeliveryAddress, RequestedLine};
use domain::order::{
    HandOffPolicy, NotPayable, Order, OrderRequest, OrderService, OrderStatus, PaymentStatus,
    Quantity, VatRate, Viewer,
};
use domain::payment::{PaymentMethod, PaymentState};
use domain::payment_use_cases::{
    Handled, PaybillNotice, PaymentError, PaymentService, PaymentStore, StkNotice,
};
use domain::{CustomerId, Money, OrderId, PageRequest, PhoneNumber};
use mpesa::{C2bPayment, Daraja, DarajaGateway, Receipt, StkCallback};
use queue::SqsNotificationQueue;
use secrecy::SecretString;
use storage::{DynamoOrders, DynamoPayments, Table};
use testkit::callbacks::{CallbackRecorder, poll};
use testkit::env::TestEnv;

const CALLBACK_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const STK_PATH: &str = "/api/v1/payments/callbacks/0123456789abcdef0123456789abcdef/stk";

type Service = PaymentService<DynamoPayments, DarajaGateway, SqsNotificationQueue>;

struct World {
    env: TestEnv,
    mpesa: RunningMpesaSandbox,
    callbacks: CallbackRecorder,
    payments: Service,
    orders: OrderService<DynamoOrders, SqsNotificationQueue>,
    queue_url: String,
    customer: CustomerId,
}

fn daraja(base_url: &str) -> Daraja {
    let config = MpesaSandboxConfig::default()
        .daraja_config(base_url)
        .expect("the stand-in's URL");
    Daraja::new(config).expect("client")
}

async fn world() -> World {
    let env = TestEnv::new().await;
    let mpesa = devstack::mpesa::start(
        MpesaSandboxConfig {
            decision_delay: Duration::from_millis(40),
            ..MpesaSandboxConfig::default()
        },
        0,
    )
    .await
    .expect("stand-in");
    let callbacks = CallbackRecorder::start(|_, _| {
        (
            StatusCode::OK,
            r#"{"ResultCode":0,"ResultDesc":"Accepted"}"#.into(),
        )
    })
    .await;
    let queues = env.queues().await;
    let queue = SqsNotificationQueue::new(env.sqs.clone(), queues.notifications.clone());
    let gateway = DarajaGateway::new(
        daraja(&mpesa.base_url),
        &callbacks.url("/api/v1/payments/callbacks"),
        &SecretString::from(CALLBACK_TOKEN),
    )
    .expect("gateway");
    let payments = PaymentService::new(
        DynamoPayments::new(Table::new(env.client.clone(), env.table.as_str())),
        gateway,
        queue.clone(),
        Duration::from_secs(300),
    );
    let orders = OrderService::new(
        DynamoOrders::new(env.client.clone(), env.table.as_str()),
        queue,
        VatRate::kenya_standard(),
        HandOffPolicy::default(),
    );
    World {
        env,
        mpesa,
        callbacks,
        payments,
        orders,
        queue_url: queues.notifications,
        customer: CustomerId::generate(),
    }
}

impl World {
    fn viewer(&self) -> Viewer {
        Viewer {
            customer_id: self.customer,
            admin: false,
        }
    }

    /// A `PENDING` (or confirmed) order of one product at `price`.
    async fn order(&self, price: &str, confirm: bool) -> Order {
        let product = self.env.product("Tecno Spark", price, 50).await;
        let request = OrderRequest::new(
            vec![RequestedLine {
                product_id: product,
                quantity: Quantity::new(1).expect("quantity"),
            }],
            DeliveryAddress::parse("Moi Avenue 1, Nairobi").expect("address"),
            None,
            confirm,
        )
        .expect("request");
        self.orders
            .place(self.customer, &request, None)
            .await
            .expect("placed")
            .order
    }

    async fn stored(&self, id: OrderId) -> Order {
        self.payments
            .store()
            .order(id)
            .await
            .expect("read")
            .expect("order")
    }

    /// Waits for the `n`th STK callback and hands it to the service, as the route will.
    async fn deliver_stk(&self, n: usize) -> Handled {
        let bodies = self.callbacks.wait_for(STK_PATH, n).await;
        let callback = StkCallback::parse(&bodies[n - 1]).expect("a well-formed callback");
        self.payments
            .stk_callback(&notice(&callback))
            .await
            .expect("handled")
    }

    /// Cancels `order` as its customer, through the orders service.
    async fn cancel(&self, order: OrderId) -> Order {
        self.orders
            .change_status(
                self.viewer(),
                &customer_actor(self),
                order,
                OrderStatus::Cancelled,
            )
            .await
            .expect("cancelled")
    }

    async fn pay(
        &self,
        order: &Order,
        phone: &str,
    ) -> Result<domain::payment::Payment, PaymentError> {
        self.payments
            .pay(
                self.viewer(),
                order.id,
                Some(PhoneNumber::parse(phone).expect("phone")),
            )
            .await
    }
}

/// The order's history, newest first.
async fn history(w: &World, order: OrderId) -> Vec<domain::audit::AuditEntry> {
    w.env
        .catalog()
        .audit_entries(
            AuditListing::Entity(domain::audit::EntityType::Order, order.to_string()),
            PageRequest::default(),
        )
        .await
        .expect("history")
        .items
}

fn notice(callback: &StkCallback) -> StkNotice {
    StkNotice {
        checkout_request_id: callback.checkout_request_id.clone(),
        receipt: callback.paid.as_ref().map(|p| p.receipt.clone()),
        amount: callback.paid.as_ref().map(|p| p.amount),
    }
}

fn money(s: &str) -> Money {
    Money::parse_bound(s).expect("money")
}

#[tokio::test]
async fn a_prompt_paid_in_full_confirms_the_pending_order_once() {
    let w = world().await;
    let order = w.order("1000.50", false).await;
    assert_eq!(order.status, OrderStatus::Pending);
    // 1000.50 + 16 % VAT = 1160.58, due rounded up to whole shillings.
    assert_eq!(order.payment_standing().amount_due, money("1161.00"));

    let payment = w.pay(&order, "0712345678").await.expect("prompted");
    assert_eq!(payment.state, PaymentState::Pending);
    assert_eq!(payment.amount, money("1161.00"));
    assert!(payment.checkout_request_id.is_some());
    let pending = w.stored(order.id).await;
    assert_eq!(pending.payment_standing().status, PaymentStatus::Pending);

    assert_eq!(w.deliver_stk(1).await, Handled::Applied);
    let paid = w.stored(order.id).await;
    assert_eq!(
        paid.status,
        OrderStatus::Confirmed,
        "confirmed by the payment"
    );
    assert!(paid.confirmed_at.is_some() && paid.hand_off_due.is_some());
    let standing = paid.payment_standing();
    assert_eq!(standing.status, PaymentStatus::Paid);
    assert_eq!(standing.amount_paid, money("1161.00"));
    assert_eq!(standing.amount_due, Money::ZERO);
    assert_eq!(paid.payments.len(), 1);
    assert_eq!(paid.payments[0].state, PaymentState::Succeeded);
    assert!(paid.payments[0].receipt.is_some());

    // The hand-off to the notifier, as a confirmation through the API sends it.
    let messages = w.env.drain(&w.queue_url).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["event"], "order.confirmed");

    // History: payment.received and order.confirmed, by M-Pesa.
    let history = history(&w, order.id).await;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"payment.received") && actions.contains(&"order.confirmed"),
        "{actions:?}"
    );
    assert!(
        history
            .iter()
            .filter(|e| e.action.as_str().starts_with("payment.")
                || e.action.as_str() == "order.confirmed")
            .all(|e| e.actor == domain::audit::Actor::mpesa())
    );

    // The same callback again changes nothing.
    let before = w.env.snapshot().await;
    let callback = StkCallback::parse(&w.callbacks.bodies(STK_PATH)[0]).expect("callback");
    assert_eq!(
        w.payments
            .stk_callback(&notice(&callback))
            .await
            .expect("handled"),
        Handled::Unchanged
    );
    assert_eq!(w.env.snapshot().await, before);
    // And the order is not payable any more.
    assert!(matches!(
        w.pay(&paid, "0712345678").await,
        Err(PaymentError::NotPayable(NotPayable::NothingDue))
    ));
}

#[tokio::test]
async fn a_success_callback_sent_twice_counts_once() {
    let w = world().await;
    let order = w.order("500.00", true).await;
    w.pay(&order, "0712340002").await.expect("prompted");
    assert_eq!(w.deliver_stk(1).await, Handled::Applied);
    assert_eq!(w.deliver_stk(2).await, Handled::Unchanged);
    let paid = w.stored(order.id).await;
    assert_eq!(paid.payment_standing().amount_paid, money("580.00"));
    assert_eq!(paid.status, OrderStatus::Confirmed);
    // The customer is owed one text about it, recorded with the payment, whatever the
    // second callback did; the notifier was told once.
    let told: Vec<_> = paid.messages.iter().map(|m| m.event.clone()).collect();
    let receipt = paid.payments[0].receipt.clone().expect("receipt");
    assert_eq!(
        told,
        [CustomerEvent::PaymentReceived {
            amount: money("580.00"),
            receipt,
            due: money("0.00"),
        }]
    );
    let mut events: Vec<String> = w
        .env
        .drain(&w.queue_url)
        .await
        .iter()
        .map(|m| m["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    events.sort();
    assert_eq!(events, ["order.confirmed", "payment.received"]);
}

#[tokio::test]
async fn refused_prompts_fail_and_leave_the_order_payable() {
    for (phone, code) in [
        ("0712341032", "1032"),
        ("0712340001", "1"),
        ("0712342001", "2001"),
        ("0712341037", "1037"),
    ] {
        let w = world().await;
        let order = w.order("200.00", false).await;
        w.pay(&order, phone).await.expect("prompted");
        assert_eq!(w.deliver_stk(1).await, Handled::Applied, "{phone}");
        let after = w.stored(order.id).await;
        assert_eq!(after.payments[0].state, PaymentState::Failed, "{phone}");
        assert_eq!(
            after.payments[0]
                .result
                .as_ref()
                .and_then(|r| r.code.as_deref()),
            Some(code)
        );
        assert_eq!(after.status, OrderStatus::Pending);
        assert_eq!(after.payment_standing().status, PaymentStatus::Unpaid);
        // Payable again: a new prompt goes out.
        w.pay(&after, "0712345678").await.expect("prompted again");
    }
}

#[tokio::test]
async fn the_query_settles_a_prompt_whose_callback_never_comes() {
    let w = world().await;
    let order = w.order("300.00", true).await;
    let payment = w.pay(&order, "0712340404").await.expect("prompted");
    let checkout = payment.checkout_request_id.clone().expect("checkout id");
    // The reconciler's path: the query alone (it answers "being processed" until decided).
    let notice = StkNotice {
        checkout_request_id: checkout,
        receipt: None,
        amount: None,
    };
    let settled = poll(async || {
        match w
            .payments
            .settle_prompt(order.id, payment.id, &notice)
            .await
            .expect("asked")
        {
            Handled::Applied => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(settled.is_some(), "the query never confirmed the prompt");
    let paid = w.stored(order.id).await;
    assert_eq!(paid.payments[0].state, PaymentState::Succeeded);
    assert_eq!(paid.payments[0].receipt, None, "the query has no receipt");
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
}

#[tokio::test]
async fn a_forged_success_callback_the_query_contradicts_changes_nothing() {
    let w = world().await;
    let order = w.order("300.00", false).await;
    let payment = w.pay(&order, "0712341032").await.expect("prompted");
    let before = w.env.snapshot().await;
    // Before M-Pesa decided: the query says "being processed"; a forged success is not
    // enough.
    let forged = StkNotice {
        checkout_request_id: payment.checkout_request_id.clone().expect("checkout"),
        receipt: Some(Receipt::parse("SLJ7RT61SV").expect("receipt")),
        amount: Some(money("348.00")),
    };
    let handled = w.payments.stk_callback(&forged).await.expect("handled");
    if handled == Handled::Unchanged {
        assert_eq!(w.env.snapshot().await, before);
    }
    // Once M-Pesa decided (cancelled by the user), the forged success still counts nothing.
    w.callbacks.wait_for(STK_PATH, 1).await;
    w.payments.stk_callback(&forged).await.expect("handled");
    let after = w.stored(order.id).await;
    assert_eq!(after.payments[0].state, PaymentState::Failed);
    assert_eq!(after.payments[0].receipt, None);
    assert_eq!(after.payment_standing().amount_paid, Money::ZERO);
    // A callback for a checkout id no prompt of ours has is ignored.
    let stranger = StkNotice {
        checkout_request_id: "ws_CO_000000000000000000".into(),
        receipt: Some(Receipt::parse("SLJ7RT61SW").expect("receipt")),
        amount: Some(money("10.00")),
    };
    let before = w.env.snapshot().await;
    assert_eq!(
        w.payments.stk_callback(&stranger).await.expect("handled"),
        Handled::Ignored
    );
    assert_eq!(w.env.snapshot().await, before);
}

#[tokio::test]
async fn five_concurrent_pays_send_one_prompt() {
    let w = Arc::new(world().await);
    let order = w.order("700.00", false).await;
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (w, order) = (w.clone(), order.clone());
        tasks.push(tokio::spawn(
            async move { w.pay(&order, "0712345678").await },
        ));
    }
    let mut prompted = 0;
    for task in tasks {
        match task.await.expect("joined") {
            Ok(_) => prompted += 1,
            Err(
                PaymentError::NotPayable(NotPayable::PromptPending)
                | PaymentError::ConcurrentChange,
            ) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(prompted, 1);
    assert_eq!(w.stored(order.id).await.payments.len(), 1);
}

fn paybill(receipt: &str, amount: &str, reference: &str) -> PaybillNotice {
    PaybillNotice {
        receipt: Receipt::parse(receipt).expect("receipt"),
        amount: money(amount),
        bill_ref_number: reference.into(),
        phone_number: Some("2547 ***** 678".into()),
        payer_name: Some("Wanjiku".into()),
        paid_at: None,
    }
}

#[tokio::test]
async fn paybill_payments_add_up_and_one_receipt_counts_once() {
    let w = world().await;
    let order = w.order("1000.00", false).await;
    let reference = order.payment_reference().to_string().to_lowercase();
    let first = paybill("SLK0000001", "580.00", &reference);
    // The same confirmation twice, in parallel: applied once.
    let (a, b) = tokio::join!(w.payments.paybill(&first), w.payments.paybill(&first));
    let handled = [a.expect("a"), b.expect("b")];
    assert_eq!(
        handled.iter().filter(|h| **h == Handled::Applied).count(),
        1,
        "{handled:?}"
    );
    let half = w.stored(order.id).await;
    assert_eq!(half.payment_standing().status, PaymentStatus::PartiallyPaid);
    assert_eq!(half.status, OrderStatus::Pending);

    let second = paybill(
        "SLK0000002",
        "580.00",
        &format!(" {} ", order.payment_reference()),
    );
    assert_eq!(
        w.payments.paybill(&second).await.expect("second"),
        Handled::Applied
    );
    let paid = w.stored(order.id).await;
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
    assert_eq!(paid.status, OrderStatus::Confirmed);
    assert!(
        paid.payments
            .iter()
            .all(|p| p.method == PaymentMethod::MpesaPaybill)
    );
    // One text per payment, each with what was still due after it (rounded up to whole
    // shillings: 1,160.00 − 580.00), in the order they came.
    let told: Vec<CustomerEvent> = paid.messages.iter().map(|m| m.event.clone()).collect();
    let received = |receipt: &str, due: &str| CustomerEvent::PaymentReceived {
        amount: money("580.00"),
        receipt: domain::payment::Receipt::parse(receipt).expect("receipt"),
        due: money(due),
    };
    assert_eq!(
        told,
        [
            received("SLK0000001", "580.00"),
            received("SLK0000002", "0.00")
        ]
    );
}

#[tokio::test]
async fn a_paybill_payment_naming_no_order_is_kept_unmatched_once() {
    let w = world().await;
    let stray = paybill("SLK0000009", "150.00", "not an order");
    assert!(
        w.payments
            .accepts_paybill("not an order")
            .await
            .expect("validated")
            .eq(&false)
    );
    assert_eq!(
        w.payments.paybill(&stray).await.expect("kept"),
        Handled::KeptUnmatched
    );
    let before = w.env.snapshot().await;
    assert_eq!(
        w.payments.paybill(&stray).await.expect("again"),
        Handled::Unchanged
    );
    assert_eq!(w.env.snapshot().await, before);
}

#[tokio::test]
async fn a_paybill_payment_through_the_stand_in_reaches_the_order() {
    let w = world().await;
    let order = w.order("100.00", false).await;
    assert!(
        w.payments
            .accepts_paybill(order.payment_reference().as_str())
            .await
            .expect("validated")
    );
    let client = daraja(&w.mpesa.base_url);
    client
        .register_c2b_urls(&mpesa::C2bUrls {
            response_type: mpesa::C2bResponseType::Completed,
            confirmation_url: w.callbacks.url("/c2b/confirmation"),
            validation_url: w.callbacks.url("/c2b/validation"),
        })
        .await
        .expect("registered");
    client
        .simulate_c2b(&mpesa::C2bSimulation {
            amount: mpesa::Shillings::new(116).expect("amount"),
            payer: PhoneNumber::parse("0712345678").expect("phone"),
            bill_ref_number: order.payment_reference().to_string(),
        })
        .await
        .expect("simulated");
    let body = w.callbacks.wait_for("/c2b/confirmation", 1).await;
    let confirmation = C2bPayment::parse(&body[0]).expect("confirmation");
    let notice = PaybillNotice {
        receipt: confirmation.trans_id.clone(),
        amount: confirmation.amount,
        bill_ref_number: confirmation.bill_ref_number.clone(),
        phone_number: confirmation.msisdn.clone(),
        payer_name: confirmation.payer_name.clone(),
        paid_at: None,
    };
    assert_eq!(
        w.payments.paybill(&notice).await.expect("applied"),
        Handled::Applied
    );
    let paid = w.stored(order.id).await;
    assert_eq!(paid.payment_standing().status, PaymentStatus::Paid);
    assert_eq!(
        paid.payments[0].receipt.as_ref(),
        Some(&confirmation.trans_id)
    );
}

#[tokio::test]
async fn a_callback_naming_another_amount_brings_no_receipt_until_the_right_one_comes() {
    let w = world().await;
    let order = w.order("100.00", true).await;
    w.pay(&order, "0712345678").await.expect("prompted");
    let real = StkCallback::parse(&w.callbacks.wait_for(STK_PATH, 1).await[0]).expect("callback");
    let mut tampered = notice(&real);
    tampered.amount = Some(money("1.00"));
    assert_eq!(
        w.payments.stk_callback(&tampered).await.expect("handled"),
        Handled::Applied
    );
    let paid = w.stored(order.id).await;
    assert_eq!(
        paid.payments[0].state,
        PaymentState::Succeeded,
        "the query confirmed it"
    );
    assert_eq!(
        paid.payments[0].receipt, None,
        "the tampered callback's receipt is not kept"
    );
    // The genuine callback then brings the receipt, and counts nothing twice.
    assert_eq!(
        w.payments
            .stk_callback(&notice(&real))
            .await
            .expect("handled"),
        Handled::Applied
    );
    let after = w.stored(order.id).await;
    assert_eq!(
        after.payments[0].receipt,
        real.paid.as_ref().map(|p| p.receipt.clone())
    );
    assert_eq!(after.payment_standing().amount_paid, money("116.00"));
    let received = history(&w, order.id)
        .await
        .iter()
        .filter(|e| e.action.as_str() == "payment.received")
        .count();
    assert_eq!(received, 1, "one payment, one payment.received");
}

/// The customer's actor, as the orders API records a cancellation by them.
fn customer_actor(w: &World) -> domain::audit::Actor {
    domain::audit::Actor::account(w.customer, "wanjiku@example.com")
}

#[tokio::test]
async fn cancelling_a_paid_order_requests_the_reversal_of_its_money() {
    let w = world().await;
    let order = w.order("1000.00", true).await;
    let reference = order.payment_reference().to_string();
    w.payments
        .paybill(&paybill("SLK0000101", "1160.00", &reference))
        .await
        .expect("paid");
    let cancelled = w.cancel(order.id).await;
    // The answer already shows the refund under way.
    assert_eq!(
        cancelled.payment_standing().status,
        PaymentStatus::RefundPending
    );
    let stored = w.stored(order.id).await;
    assert_eq!(stored.status, OrderStatus::Cancelled);
    assert_eq!(
        stored.payment_standing().status,
        PaymentStatus::RefundPending
    );
    let reversal = stored.payments[0].reversal.as_ref().expect("reversal");
    assert_eq!(reversal.state, domain::payment::ReversalState::Requested);
    assert_eq!(reversal.attempts, 1);
    let requested: Vec<_> = history(&w, order.id)
        .await
        .into_iter()
        .filter(|e| e.action.as_str() == "payment.reversal_requested")
        .collect();
    assert_eq!(requested.len(), 1);
    assert_eq!(
        requested[0].actor,
        customer_actor(&w),
        "who cancelled asked for it"
    );
}

#[tokio::test]
async fn money_arriving_on_a_cancelled_order_is_taken_and_its_reversal_requested() {
    let w = world().await;
    let order = w.order("100.00", true).await;
    w.cancel(order.id).await;
    assert!(
        !w.payments
            .accepts_paybill(order.payment_reference().as_str())
            .await
            .expect("validated")
    );
    let late = paybill("SLK0000102", "116.00", order.payment_reference().as_str());
    assert_eq!(
        w.payments.paybill(&late).await.expect("taken"),
        Handled::Applied
    );
    let stored = w.stored(order.id).await;
    assert_eq!(
        stored.payment_standing().status,
        PaymentStatus::RefundPending
    );
    assert_eq!(
        stored.payments[0].reversal.as_ref().map(|r| r.state),
        Some(domain::payment::ReversalState::Requested)
    );
    assert!(
        history(&w, order.id)
            .await
            .iter()
            .any(|e| e.action.as_str() == "payment.reversal_requested"
                && e.actor == domain::audit::Actor::mpesa())
    );
}

#[tokio::test]
async fn a_cancellation_decided_before_a_payment_landed_is_refused_and_changes_nothing() {
    use domain::order::OrderStore;
    let w = world().await;
    let order = w.order("100.00", true).await;
    // Decided on the order as read now (no payments, version 0)…
    let at = domain::Timestamp::now();
    let change = domain::order::StatusChange {
        order_id: order.id,
        from: OrderStatus::Confirmed,
        to: OrderStatus::Cancelled,
        at,
        history: domain::order::history::order_status_changed(
            &customer_actor(&w),
            &order.subject(),
            OrderStatus::Confirmed,
            OrderStatus::Cancelled,
            at,
        ),
        restock: Vec::new(),
        hand_off: domain::order::HandOffChange::Clear,
        payments_version: order.payments_version,
        payments: None,
        marks: order.payment_marks(),
        message: None,
    };
    // …while a payment lands before it commits.
    w.payments
        .paybill(&paybill(
            "SLK0000103",
            "116.00",
            order.payment_reference().as_str(),
        ))
        .await
        .expect("paid");
    let before = w.env.snapshot().await;
    let refused = w.orders.store().change_status(&change).await;
    assert!(
        matches!(refused, Err(domain::order::OrderError::ConcurrentChange)),
        "{refused:?}"
    );
    assert_eq!(
        w.env.snapshot().await,
        before,
        "nothing of the stale cancellation was written"
    );
    // Decided again on the order as it is now, the cancellation requests the refund.
    let cancelled = w.cancel(order.id).await;
    assert_eq!(
        cancelled.payment_standing().status,
        PaymentStatus::RefundPending
    );
}

const REVERSAL_RESULT_PATH: &str =
    "/api/v1/payments/callbacks/0123456789abcdef0123456789abcdef/reversal/result";

/// Waits for the `n`th reversal result and hands it to the service, as the route will.
async fn deliver_reversal(w: &World, n: usize) -> Handled {
    let bodies = w.callbacks.wait_for(REVERSAL_RESULT_PATH, n).await;
    let result = mpesa::ReversalResult::parse(&bodies[n - 1]).expect("a well-formed result");
    w.payments
        .reversal_result(&domain::payment_use_cases::ReversalNotice {
            conversation_id: result.conversation_id.clone(),
            result_code: Some(result.result_code.as_str().to_owned()),
        })
        .await
        .expect("handled")
}

#[tokio::test]
async fn paid_then_cancelled_is_reversed_by_mpesa_and_refunded_once() {
    let w = world().await;
    let order = w.order("100.00", true).await;
    w.pay(&order, "0712345678").await.expect("prompted");
    assert_eq!(w.deliver_stk(1).await, Handled::Applied);
    w.cancel(order.id).await;

    let report = w
        .payments
        .request_reversals(order.id)
        .await
        .expect("requested");
    assert_eq!(report.requested, 1, "{report:?}");
    // Asked again, nothing more goes to M-Pesa: the reversal it took is not requested twice.
    let again = w.payments.request_reversals(order.id).await.expect("again");
    assert_eq!(again.requested + again.refused + again.unanswered, 0);

    assert_eq!(deliver_reversal(&w, 1).await, Handled::Applied);
    let refunded = w.stored(order.id).await;
    assert_eq!(refunded.payment_standing().status, PaymentStatus::Refunded);
    assert_eq!(refunded.payment_standing().amount_paid, Money::ZERO);
    assert_eq!(refunded.payments[0].state, PaymentState::Reversed);
    let reversal = refunded.payments[0].reversal.as_ref().expect("reversal");
    assert_eq!(reversal.result_code.as_deref(), Some("0"));
    assert!(
        history(&w, order.id)
            .await
            .iter()
            .any(|e| e.action.as_str() == "payment.reversed")
    );
    // The customer is told: paid, cancelled with the refund requested, refunded.
    let told: Vec<CustomerEvent> = refunded.messages.iter().map(|m| m.event.clone()).collect();
    let receipt = refunded.payments[0].receipt.clone().expect("receipt");
    assert_eq!(
        told,
        [
            CustomerEvent::PaymentReceived {
                amount: money("116.00"),
                receipt: receipt.clone(),
                due: Money::ZERO,
            },
            CustomerEvent::Cancelled {
                refund: Some(money("116.00")),
            },
            CustomerEvent::PaymentReversed {
                amount: money("116.00"),
                receipt,
            },
        ]
    );

    // The same result again changes nothing.
    let before = w.env.snapshot().await;
    let body = &w.callbacks.bodies(REVERSAL_RESULT_PATH)[0];
    let result = mpesa::ReversalResult::parse(body).expect("result");
    let repeated = w
        .payments
        .reversal_result(&domain::payment_use_cases::ReversalNotice {
            conversation_id: result.conversation_id,
            result_code: Some("0".into()),
        })
        .await
        .expect("handled");
    assert_eq!(repeated, Handled::Unchanged);
    assert_eq!(w.env.snapshot().await, before);
}

#[tokio::test]
async fn a_reversal_mpesa_refuses_is_failed_and_left_for_staff() {
    use domain::order::{Attention, payments::attention};
    let w = world().await;
    let order = w.order("100.00", true).await;
    // A receipt the stand-in never issued: its reversal is refused (R000002).
    w.payments
        .paybill(&paybill(
            "SLK0000201",
            "116.00",
            order.payment_reference().as_str(),
        ))
        .await
        .expect("paid");
    w.cancel(order.id).await;
    assert_eq!(
        w.payments
            .request_reversals(order.id)
            .await
            .expect("requested")
            .requested,
        1
    );
    assert_eq!(deliver_reversal(&w, 1).await, Handled::Applied);
    let stored = w.stored(order.id).await;
    let reversal = stored.payments[0].reversal.as_ref().expect("reversal");
    assert_eq!(reversal.state, domain::payment::ReversalState::Failed);
    assert_eq!(reversal.result_code.as_deref(), Some("R000002"));
    assert_eq!(
        stored.payment_standing().status,
        PaymentStatus::RefundPending,
        "the money is still held"
    );
    assert_eq!(
        attention(stored.status, stored.totals.total_amount, &stored.payments),
        vec![(stored.payments[0].id, Attention::ReversalFailed)]
    );
    assert!(
        history(&w, order.id)
            .await
            .iter()
            .any(|e| e.action.as_str() == "payment.reversal_failed")
    );
    // A result naming no reversal of ours is ignored.
    let stranger = domain::payment_use_cases::ReversalNotice {
        conversation_id: "AG_20261206_0000000000000000".into(),
        result_code: Some("0".into()),
    };
    let before = w.env.snapshot().await;
    assert_eq!(
        w.payments
            .reversal_result(&stranger)
            .await
            .expect("handled"),
        Handled::Ignored
    );
    assert_eq!(w.env.snapshot().await, before);
}

#[tokio::test]
async fn a_confirmed_prompt_no_order_of_ours_sent_is_kept_unmatched_once() {
    let w = world().await;
    // A prompt sent past our service (another till, an old deployment): M-Pesa knows it,
    // we hold no order for it.
    let gateway = DarajaGateway::new(
        daraja(&w.mpesa.base_url),
        &w.callbacks.url("/api/v1/payments/callbacks"),
        &SecretString::from(CALLBACK_TOKEN),
    )
    .expect("gateway");
    use domain::payment_use_cases::MpesaGateway;
    gateway
        .prompt(&domain::payment_use_cases::PromptRequest {
            phone: PhoneNumber::parse("0712345678").expect("phone"),
            amount: money("250.00"),
            account_reference: "STRANGER".into(),
        })
        .await
        .expect("prompted");
    let body = &w.callbacks.wait_for(STK_PATH, 1).await[0];
    let callback = StkCallback::parse(body).expect("callback");
    assert_eq!(
        w.payments
            .stk_callback(&notice(&callback))
            .await
            .expect("handled"),
        Handled::KeptUnmatched
    );
    let before = w.env.snapshot().await;
    assert_eq!(
        w.payments
            .stk_callback(&notice(&callback))
            .await
            .expect("handled"),
        Handled::Unchanged,
        "the same receipt is kept once"
    );
    assert_eq!(w.env.snapshot().await, before);
}

#[tokio::test]
async fn a_receipt_seen_as_a_paybill_payment_and_then_on_its_prompt_counts_once() {
    let w = world().await;
    let order = w.order("100.00", false).await;
    w.pay(&order, "0712345678").await.expect("prompted");
    let body = &w.callbacks.wait_for(STK_PATH, 1).await[0];
    let callback = StkCallback::parse(body).expect("callback");
    let paid = callback.paid.clone().expect("a success");
    // M-Pesa also confirms the prompt's money to the Paybill, and that comes first.
    let twin = PaybillNotice {
        receipt: paid.receipt.clone(),
        amount: paid.amount,
        bill_ref_number: order.payment_reference().to_string(),
        phone_number: Some("2547 ***** 678".into()),
        payer_name: None,
        paid_at: None,
    };
    assert_eq!(
        w.payments.paybill(&twin).await.expect("paid"),
        Handled::Applied
    );
    assert_eq!(
        w.stored(order.id).await.payment_standing().amount_paid,
        paid.amount
    );
    // Then the prompt's callback: its money is the Paybill record's, counted once.
    assert_eq!(
        w.payments
            .stk_callback(&notice(&callback))
            .await
            .expect("handled"),
        Handled::Applied
    );
    let stored = w.stored(order.id).await;
    assert_eq!(stored.payments.len(), 1, "{:?}", stored.payments);
    assert_eq!(stored.payments[0].method, PaymentMethod::MpesaPrompt);
    assert_eq!(stored.payments[0].state, PaymentState::Succeeded);
    assert_eq!(stored.payments[0].receipt.as_ref(), Some(&paid.receipt));
    assert_eq!(stored.payment_standing().amount_paid, paid.amount);
    assert_eq!(stored.payment_standing().status, PaymentStatus::Paid);
    // Either message again changes nothing.
    let before = w.env.snapshot().await;
    assert_eq!(
        w.payments.paybill(&twin).await.expect("handled"),
        Handled::Unchanged
    );
    assert_eq!(
        w.payments
            .stk_callback(&notice(&callback))
            .await
            .expect("handled"),
        Handled::Unchanged
    );
    assert_eq!(w.env.snapshot().await, before);
}
