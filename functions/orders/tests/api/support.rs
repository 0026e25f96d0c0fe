//! The orders Lambda on a fresh table and queue of its own on moto, with a catalog to
//! order from and tokens for two customers and an admin.

#![allow(dead_code)]

use std::sync::Arc;

use devstack::mpesa::{MpesaSandboxConfig, RunningMpesaSandbox};
use domain::audit::Retention;
use domain::catalog_use_cases::Catalog;
use domain::category::CategoryName;
use domain::order::{HandOffPolicy, OrderService, VatRate};
use domain::payment_use_cases::PaymentService;
use domain::product::{NewProduct, ProductName, Sku};
use domain::{CategoryStore, Money, ProductId, ProductStore};
use http_api::AppState;
use http_api::auth::Identity;
use mpesa::DarajaGateway;
use queue::SqsNotificationQueue;
use serde_json::{Value, json};
use storage::{DynamoOrders, DynamoPayments, Table};
use testkit::callbacks::CallbackRecorder;
use testkit::env::{RequestCounter, TestEnv, counted_client, customer_identity, dynamodb_endpoint};
use testkit::events::{ApiRequest, ApiResponse};
use testkit::queues::Queues;

pub type Service = OrderService<DynamoOrders, SqsNotificationQueue>;
pub type Payments = PaymentService<DynamoPayments, DarajaGateway, SqsNotificationQueue>;

/// The secret in the callback URLs the stand-in is given.
pub const CALLBACK_TOKEN: &str = "0123456789abcdef0123456789abcdef";

pub struct App {
    pub env: TestEnv,
    pub queues: Queues,
    pub router: axum::Router,
    pub service: Arc<Service>,
    pub admin: String,
    pub customer: String,
    /// Another customer.
    pub other: String,
    /// Counts the DynamoDB requests of the orders function.
    pub requests: RequestCounter,
    /// The payments service the function prompts through (for tests that play M-Pesa's
    /// callbacks into it, as the payments function does).
    pub payments: Arc<Payments>,
    /// M-Pesa, standing in, and what it posts to our callback URLs.
    pub mpesa: RunningMpesaSandbox,
    pub callbacks: CallbackRecorder,
    category: domain::CategoryId,
}

/// A second customer.
/// The history retention the app is configured with: not the default, so a test sees it
/// applied.
pub fn retention() -> Retention {
    Retention::days(30).expect("30 days")
}

pub fn other_identity() -> Identity {
    Identity {
        customer_id: "01JC0000000000000000000003".into(),
        email: "other@example.com".into(),
        name: "Otieno Other".into(),
        admin: false,
    }
}

impl App {
    pub async fn new() -> Self {
        Self::with_queue_url(None, HandOffPolicy::default()).await
    }

    /// An app whose confirmations go to `queue_url` (its own queue when `None`).
    pub async fn with_queue_url(queue_url: Option<String>, hand_off: HandOffPolicy) -> Self {
        Self::build(queue_url, hand_off, &dynamodb_endpoint()).await
    }

    /// An app whose orders function reaches DynamoDB at `endpoint` (the test's own set-up
    /// still goes straight to the emulator).
    pub async fn reaching_dynamodb_at(endpoint: &str) -> Self {
        Self::build(None, HandOffPolicy::default(), endpoint).await
    }

    async fn build(queue_url: Option<String>, hand_off: HandOffPolicy, endpoint: &str) -> Self {
        let env = TestEnv::new().await;
        let queues = env.queues().await;
        let requests = RequestCounter::default();
        let client = counted_client(endpoint, requests.clone());
        // Wired like main.rs: the history's retention comes from the configuration.
        let store = DynamoOrders::new(client, env.table.as_str()).with_audit_retention(retention());
        let queue = SqsNotificationQueue::new(
            env.sqs.clone(),
            queue_url.unwrap_or_else(|| queues.notifications.clone()),
        );
        let service = Arc::new(OrderService::new(
            store,
            queue.clone(),
            VatRate::kenya_standard(),
            hand_off,
        ));
        let mpesa = devstack::mpesa::start(
            MpesaSandboxConfig {
                decision_delay: std::time::Duration::from_millis(40),
                ..MpesaSandboxConfig::default()
            },
            0,
        )
        .await
        .expect("the M-Pesa stand-in");
        let callbacks =
            CallbackRecorder::start(|_, _| (axum::http::StatusCode::OK, "{}".into())).await;
        let daraja = MpesaSandboxConfig::default()
            .daraja_config(&mpesa.base_url)
            .expect("the stand-in's URL");
        let gateway = DarajaGateway::new(
            mpesa::Daraja::new(daraja).expect("client"),
            &callbacks.url("/api/v1/payments/callbacks"),
            &secrecy::SecretString::from(CALLBACK_TOKEN),
        )
        .expect("gateway");
        let payments = Arc::new(PaymentService::new(
            DynamoPayments::new(
                Table::new(
                    counted_client(endpoint, requests.clone()),
                    env.table.as_str(),
                )
                .with_audit_retention(retention()),
            ),
            gateway,
            queue,
            hand_off.grace,
        ));
        let router = orders::router(AppState {
            services: orders::Orders {
                orders: service.clone(),
                payments: payments.clone(),
            },
            verifier: env.verifier.clone(),
        });
        let category = env
            .catalog()
            .create_category(
                CategoryName::parse("Phones").expect("name"),
                None,
                &testkit::env::admin_actor(),
            )
            .await
            .expect("category")
            .id;
        Self {
            admin: env.admin_token(),
            customer: env.customer_token(),
            other: env.token_for(&other_identity()),
            env,
            queues,
            router,
            service,
            requests,
            payments,
            mpesa,
            callbacks,
            category,
        }
    }

    pub fn customer_id(&self) -> String {
        customer_identity().customer_id
    }

    /// A product in the catalog.
    pub async fn product(&self, name: &str, price: &str, stock: u32) -> ProductId {
        Catalog::new(&self.env.catalog())
            .create_product(
                NewProduct {
                    name: ProductName::parse(name).expect("name"),
                    description: None,
                    sku: Some(Sku::parse(&format!("SKU-{}", ulid_suffix())).expect("sku")),
                    price: Money::parse_price(price).expect("price"),
                    stock_quantity: stock,
                    category_id: self.category,
                },
                &testkit::env::admin_actor(),
            )
            .await
            .expect("product")
            .id
    }

    pub async fn stock(&self, id: ProductId) -> u32 {
        self.env
            .catalog()
            .product(id)
            .await
            .expect("read")
            .expect("product")
            .stock_quantity
    }

    pub async fn send(&self, request: ApiRequest) -> ApiResponse {
        request.send(&self.router).await
    }

    /// `POST /orders` as `token`.
    pub async fn place(&self, token: &str, body: &Value) -> ApiResponse {
        self.send(ApiRequest::post("/api/v1/orders").bearer(token).json(body))
            .await
    }

    /// `POST /orders` with an `Idempotency-Key`.
    pub async fn place_with_key(&self, token: &str, key: &str, body: &Value) -> ApiResponse {
        self.send(
            ApiRequest::post("/api/v1/orders")
                .bearer(token)
                .header("Idempotency-Key", key)
                .json(body),
        )
        .await
    }

    /// Places an order that must succeed; its JSON.
    pub async fn placed(&self, token: &str, body: &Value) -> Value {
        let response = self.place(token, body).await;
        response.expect_status(201);
        response.body.clone()
    }

    /// `POST /orders/{id}/<action>` as `token`.
    pub async fn action(&self, token: &str, id: &str, action: &str) -> ApiResponse {
        self.send(ApiRequest::post(&format!("/api/v1/orders/{id}/{action}")).bearer(token))
            .await
    }

    /// `PATCH /orders/{id}/status` as `token`.
    pub async fn set_status(&self, token: &str, id: &str, status: &str) -> ApiResponse {
        self.send(
            ApiRequest::patch(&format!("/api/v1/orders/{id}/status"))
                .bearer(token)
                .json(&json!({ "status": status })),
        )
        .await
    }

    /// Every message now on the notifications queue.
    pub async fn messages(&self) -> Vec<Value> {
        self.env.drain(&self.queues.notifications).await
    }
}

/// An order body for `lines` of `(product, quantity)`.
pub fn order_body(lines: &[(ProductId, u32)]) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|(id, q)| json!({"product_id": id.to_string(), "quantity": q}))
        .collect();
    json!({"items": items, "delivery_address": "Moi Avenue 1, Nairobi"})
}

fn ulid_suffix() -> String {
    ProductId::generate().to_string()[16..].to_owned()
}
