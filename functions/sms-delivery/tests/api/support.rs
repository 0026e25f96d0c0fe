//! One test's world: a table, the orders service that places and moves orders, the real
//! notifier sending through the Africa's Talking stand-in (its reports go to a recorder
//! standing in for our public URL, so a test hands the function exactly the bytes the
//! stand-in posted), and the function's router, its DynamoDB requests counted.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use devstack::sms::{DeliveryReportConfig, RunningSandbox, SandboxConfig};
use domain::audit::Actor;
use domain::notification::{DEFAULT_CLAIM_LEASE, DeliveryReports, Notifier};
use domain::order::request::{DeliveryAddress, RequestedLine};
use domain::order::{
    HandOffPolicy, Order, OrderRequest, OrderService, OrderStatus, OrderStore, Quantity, VatRate,
    Viewer,
};
use domain::{CustomerId, OrderId, ProductId};
use http_api::CallbackGuard;
use messaging::{AfricasTalking, AfricasTalkingConfig, SesEmail};
use queue::SqsNotificationQueue;
use secrecy::SecretString;
use sms_delivery::Reports;
use storage::{DynamoCustomers, DynamoOrders};
use testkit::callbacks::CallbackRecorder;
use testkit::env::{RequestCounter, TestEnv, counted_client, dynamodb_endpoint, moto_endpoint};
use testkit::events::{ApiRequest, ApiResponse};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// Where the stand-in posts its reports (on the recorder).
pub const REPORTS: &str = "/api/v1/notifications/sms/delivery/recorded";

const AT_USERNAME: &str = "sandbox";
const AT_API_KEY: &str = "at-test-key-0123456789";

pub type TestNotifier = Notifier<DynamoOrders, DynamoCustomers, AfricasTalking, SesEmail>;

pub struct World {
    pub env: TestEnv,
    pub orders: OrderService<DynamoOrders, SqsNotificationQueue>,
    pub notifier: TestNotifier,
    pub sandbox: RunningSandbox,
    pub recorder: CallbackRecorder,
    pub router: axum::Router,
    /// Counts the function's DynamoDB requests.
    pub requests: RequestCounter,
    product: ProductId,
}

impl World {
    pub async fn new() -> Self {
        let env = TestEnv::new().await;
        let queues = env.queues().await;
        let recorder = CallbackRecorder::start(|_, _| (StatusCode::OK, "{}".into())).await;
        let sandbox = devstack::sms::start(
            SandboxConfig {
                username: AT_USERNAME.into(),
                api_key: AT_API_KEY.into(),
                delivery_reports: Some(DeliveryReportConfig {
                    url: recorder.url(REPORTS).to_string(),
                    delay: Duration::from_millis(10),
                    retry_spacing: Duration::from_millis(10),
                }),
            },
            0,
        )
        .await
        .expect("the Africa's Talking stand-in");
        let ses = testkit::email::local_ses_client(&moto_endpoint());
        let unique = env.table.trim_start_matches("test-");
        let (sender, admin) = (
            format!("shop-{unique}@example.com"),
            format!("admin-{unique}@example.com"),
        );
        testkit::email::ensure_identity(&ses, &sender)
            .await
            .expect("sender identity");
        let sms = AfricasTalking::new(AfricasTalkingConfig {
            base_url: sandbox.base_url.parse().expect("url"),
            username: AT_USERNAME.into(),
            sender_id: None,
            api_key: SecretString::from(AT_API_KEY),
            timeout: Duration::from_secs(5),
        })
        .expect("Africa's Talking client");
        let notifier = Notifier::new(
            DynamoOrders::new(env.client.clone(), env.table.as_str()),
            DynamoCustomers::new(env.client.clone(), env.table.as_str()),
            sms,
            SesEmail::new(ses, sender.as_str(), admin.as_str(), None),
            DEFAULT_CLAIM_LEASE,
        );
        let orders = OrderService::new(
            DynamoOrders::new(env.client.clone(), env.table.as_str()),
            SqsNotificationQueue::new(env.sqs.clone(), queues.notifications.as_str()),
            VatRate::kenya_standard(),
            HandOffPolicy::default(),
        );
        let requests = RequestCounter::default();
        let client = counted_client(&dynamodb_endpoint(), requests.clone());
        let router = sms_delivery::router(Arc::new(Reports {
            service: DeliveryReports::new(DynamoOrders::new(client, env.table.as_str())),
            guard: CallbackGuard::new(SecretString::from(TOKEN), Vec::new()),
        }));
        let product = env.product("Tecno Spark", "100.00", 100).await;
        Self {
            env,
            orders,
            notifier,
            sandbox,
            recorder,
            router,
            requests,
            product,
        }
    }

    /// A confirmed order of one unit for a customer with `phone`, not notified yet.
    pub async fn confirmed_order(&self, phone: &str) -> Order {
        let customer = self
            .env
            .customer_with_phone("Amina Otieno", Some(phone))
            .await;
        let request = OrderRequest::new(
            vec![RequestedLine {
                product_id: self.product,
                quantity: Quantity::new(1).expect("quantity"),
            }],
            DeliveryAddress::parse("Moi Avenue 1, Nairobi").expect("address"),
            None,
            true,
        )
        .expect("request");
        self.orders
            .place(customer, &request, None)
            .await
            .expect("placed")
            .order
    }

    /// A confirmed order for a customer with `phone`, notified: the order and the
    /// provider's id of its confirmation SMS.
    pub async fn notified_order(&self, phone: &str) -> (Order, String) {
        let order = self.confirmed_order(phone).await;
        self.notify(order.id).await;
        let sms = self.confirmation_sms(order.id).await;
        (order, sms)
    }

    /// Runs the notifier for `order` (the stand-in accepts, then reports).
    pub async fn notify(&self, order: OrderId) {
        self.notifier.notify(order).await.expect("notified");
    }

    /// Staff move `order` to `to`.
    pub async fn move_to(&self, order: OrderId, to: OrderStatus) {
        let admin = CustomerId::generate();
        let viewer = Viewer {
            customer_id: admin,
            admin: true,
        };
        self.orders
            .change_status(
                viewer,
                &Actor::account(admin, "admin@example.com"),
                order,
                to,
            )
            .await
            .expect("moved");
    }

    /// The order as stored.
    pub async fn order(&self, id: OrderId) -> Order {
        self.orders
            .store()
            .order(id)
            .await
            .expect("read")
            .expect("order exists")
    }

    /// The provider's id of `order`'s confirmation SMS.
    pub async fn confirmation_sms(&self, order: OrderId) -> String {
        self.order(order)
            .await
            .notifications
            .sms
            .message_id
            .expect("the confirmation SMS was accepted")
    }

    /// Posts `body` as Africa's Talking does, below `token`.
    pub async fn post(&self, token: &str, body: &str) -> ApiResponse {
        ApiRequest::post(&format!("/api/v1/notifications/sms/delivery/{token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .raw_body(body.as_bytes().to_vec())
            .send(&self.router)
            .await
    }
}

/// A report's form body: `id`, `status`, Africa's Talking's other fields, and a
/// `failureReason` when given.
pub fn report(id: &str, status: &str, reason: Option<&str>) -> String {
    let mut body = format!(
        "id={id}&status={status}&phoneNumber=%2B254712345678&networkCode=63902&retryCount=0"
    );
    if let Some(reason) = reason {
        body.push_str(&format!("&failureReason={reason}"));
    }
    body
}
