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
use testkit::env::TestEnv;
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
                DynamoPayments::new(Table::new(env.client.clone(), env.table.as_str())),
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
