//! The payments Lambda in process: a fresh table, the notifications queue, the M-Pesa
//! stand-in (a short decision delay) and a recorder standing in for our public callback
//! URLs, so a test hands the function exactly the bytes the stand-in posted.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use devstack::mpesa::{MpesaSandboxConfig, RunningMpesaSandbox};
use domain::order::request::{DeliveryAddress, RequestedLine};
use domain::order::{HandOffPolicy, Order, OrderRequest, OrderService, Quantity, VatRate, Viewer};
use domain::payment_use_cases::{PaymentService, PaymentStore};
use domain::{CustomerId, OrderId, PhoneNumber};
use http_api::AppState;
use mpesa::{Daraja, DarajaGateway};
use payments::{CallbackGuard, Callbacks};
use queue::SqsNotificationQueue;
use secrecy::SecretString;
use serde_json::Value;
use storage::{DynamoOrders, DynamoPayments, Table};
use testkit::callbacks::CallbackRecorder;
use testkit::env::{RequestCounter, TestEnv, counted_client, dynamodb_endpoint};
use testkit::events::{ApiRequest, ApiResponse};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const CALLBACKS: &str = "/api/v1/payments/callbacks";

pub type Service = PaymentService<DynamoPayments, DarajaGateway, SqsNotificationQueue>;

pub struct App {
    pub env: TestEnv,
    pub router: axum::Router,
    pub mpesa: RunningMpesaSandbox,
    pub recorder: CallbackRecorder,
    pub payments: Arc<Callbacks<DynamoPayments, DarajaGateway, SqsNotificationQueue>>,
    pub orders: OrderService<DynamoOrders, SqsNotificationQueue>,
    pub customer: CustomerId,
    /// Counts the DynamoDB requests of the payments service.
    pub requests: RequestCounter,
}

pub fn daraja(base_url: &str) -> Daraja {
    let config = MpesaSandboxConfig::default()
        .daraja_config(base_url)
        .expect("the stand-in's URL");
    Daraja::new(config).expect("client")
}

impl App {
    /// The function with no allow-list of addresses.
    pub async fn new() -> Self {
        Self::with_allowed(Vec::new()).await
    }

    /// The function taking callbacks only from `allowed`.
    pub async fn with_allowed(allowed: Vec<std::net::IpAddr>) -> Self {
        Self::build(allowed, Duration::from_millis(40)).await
    }

    /// The function with a stand-in that decides each prompt only after `delay` (until
    /// then its status query answers "being processed").
    pub async fn deciding_after(delay: Duration) -> Self {
        Self::build(Vec::new(), delay).await
    }

    async fn build(allowed: Vec<std::net::IpAddr>, decision_delay: Duration) -> Self {
        let env = TestEnv::new().await;
        let requests = RequestCounter::default();
        let mpesa = devstack::mpesa::start(
            MpesaSandboxConfig {
                decision_delay,
                ..MpesaSandboxConfig::default()
            },
            0,
        )
        .await
        .expect("stand-in");
        let recorder = CallbackRecorder::start(|_, _| (StatusCode::OK, "{}".into())).await;
        let queue = SqsNotificationQueue::new(env.sqs.clone(), env.queues().await.notifications);
        let gateway = DarajaGateway::new(
            daraja(&mpesa.base_url),
            &recorder.url(CALLBACKS),
            &SecretString::from(TOKEN),
        )
        .expect("gateway");
        let payments = Arc::new(Callbacks {
            service: PaymentService::new(
                DynamoPayments::new(Table::new(
                    counted_client(&dynamodb_endpoint(), requests.clone()),
                    env.table.as_str(),
                )),
                gateway,
                queue.clone(),
                Duration::from_secs(300),
            ),
            guard: CallbackGuard::new(SecretString::from(TOKEN), allowed),
        });
        let router = payments::router(AppState {
            services: payments.clone(),
            verifier: env.verifier.clone(),
        });
        let orders = OrderService::new(
            DynamoOrders::new(env.client.clone(), env.table.as_str()),
            queue,
            VatRate::kenya_standard(),
            HandOffPolicy::default(),
        );
        Self {
            env,
            router,
            mpesa,
            recorder,
            payments,
            orders,
            customer: CustomerId::generate(),
            requests,
        }
    }

    pub fn service(&self) -> &Service {
        &self.payments.service
    }

    /// A `PENDING` order of one product at `price` (+ 16 % VAT).
    pub async fn order(&self, price: &str) -> Order {
        let product = self.env.product("Tecno Spark", price, 50).await;
        let request = OrderRequest::new(
            vec![RequestedLine {
                product_id: product,
                quantity: Quantity::new(1).expect("quantity"),
            }],
            DeliveryAddress::parse("Moi Avenue 1, Nairobi").expect("address"),
            None,
            false,
        )
        .expect("request");
        self.orders
            .place(self.customer, &request, None)
            .await
            .expect("placed")
            .order
    }

    pub async fn stored(&self, id: OrderId) -> Order {
        self.service()
            .store()
            .order(id)
            .await
            .expect("read")
            .expect("order")
    }

    /// Sends a prompt for `order` to `phone`, through the service as the orders route does.
    pub async fn prompt(&self, order: &Order, phone: &str) {
        self.service()
            .pay(
                Viewer {
                    customer_id: self.customer,
                    admin: false,
                },
                order.id,
                Some(PhoneNumber::parse(phone).expect("phone")),
            )
            .await
            .expect("prompted");
    }

    /// Cancels `order` as its customer, through the orders service (as the orders route
    /// does, without its call to M-Pesa after the commit).
    pub async fn cancel(&self, order: OrderId) {
        let owner = domain::audit::Actor::account(self.customer, "wanjiku@example.com");
        self.orders
            .change_status(
                Viewer {
                    customer_id: self.customer,
                    admin: false,
                },
                &owner,
                order,
                domain::order::OrderStatus::Cancelled,
            )
            .await
            .expect("cancelled");
    }

    /// An order paid by a prompt (its callback applied through the function), then
    /// cancelled by its customer, its reversal requested of M-Pesa: the result is on its way.
    pub async fn paid_then_cancelled(&self) -> Order {
        let order = self.order("100.00").await;
        self.prompt(&order, "0712345678").await;
        acknowledged(&self.post("stk", self.posted("stk", 1).await).await);
        self.cancel(order.id).await;
        self.service()
            .request_reversals(order.id)
            .await
            .expect("requested");
        order
    }

    /// The order's history, newest first (read through the store: the history routes
    /// live in another function).
    pub async fn history(&self, order: OrderId) -> Vec<domain::audit::AuditEntry> {
        use domain::audit::AuditLog;
        self.env
            .catalog()
            .audit_entries(
                domain::audit::AuditListing::Entity(
                    domain::audit::EntityType::Order,
                    order.to_string(),
                ),
                domain::PageRequest::default(),
            )
            .await
            .expect("history")
            .items
    }

    /// The actions of the order's history, newest first.
    pub async fn history_actions(&self, order: OrderId) -> Vec<String> {
        self.history(order)
            .await
            .iter()
            .map(|e| e.action.as_str().to_owned())
            .collect()
    }

    /// `request` sent to the function.
    pub async fn send(&self, request: ApiRequest) -> ApiResponse {
        request.send(&self.router).await
    }

    /// Posts `body` to the callback route `route` (below the token `token`).
    pub async fn post_with(&self, token: &str, route: &str, body: Vec<u8>) -> ApiResponse {
        ApiRequest::post(&format!("{CALLBACKS}/{token}/{route}"))
            .header("content-type", "application/json")
            .raw_body(body)
            .send(&self.router)
            .await
    }

    pub async fn post(&self, route: &str, body: Vec<u8>) -> ApiResponse {
        self.post_with(TOKEN, route, body).await
    }

    /// The `n`th body the stand-in posted to our route `route`, as it posted it.
    pub async fn posted(&self, route: &str, n: usize) -> Vec<u8> {
        let path = format!("{CALLBACKS}/{TOKEN}/{route}");
        self.recorder.wait_for(&path, n).await[n - 1].to_vec()
    }
}

/// M-Pesa's acknowledgement body.
pub fn acknowledged(response: &ApiResponse) -> &Value {
    response.expect_status(200);
    &response.body
}
