//! The customers Lambda for staff's directory: a fresh table whose function-side client
//! counts its DynamoDB requests, an admin token, customers signed in the way the auth
//! function signs them in, and orders placed through the orders service.

use domain::customer::{Customer, CustomerName, SignIn};
use domain::customer_use_cases::Accounts;
use domain::order::{
    DeliveryAddress, HandOffPolicy, Notes, OrderRequest, OrderService, Quantity, RequestedLine,
    VatRate,
};
use domain::{CustomerId, ProductId};
use http_api::AppState;
use queue::SqsNotificationQueue;
use serde_json::Value;
use storage::{DynamoCustomers, DynamoOrders};
use testkit::env::{RequestCounter, TestEnv, counted_client, dynamodb_endpoint};
use testkit::events::{ApiRequest, ApiResponse};

pub const CUSTOMERS: &str = "/api/v1/customers";

pub struct Staff {
    pub env: TestEnv,
    pub router: axum::Router,
    /// Counts the DynamoDB requests of the customers function (not the set-up's).
    pub requests: RequestCounter,
    pub admin: String,
}

impl Staff {
    pub async fn new() -> Self {
        let env = TestEnv::new().await;
        let requests = RequestCounter::default();
        let client = counted_client(&dynamodb_endpoint(), requests.clone());
        let router = customers::router(AppState {
            services: DynamoCustomers::new(client, env.table.as_str()),
            verifier: env.verifier.clone(),
        });
        Self {
            admin: env.admin_token(),
            env,
            router,
            requests,
        }
    }

    /// Signs `subject` in as `email` through the use case the auth function runs: the
    /// first time registers the customer, later times bring its email up to date.
    pub async fn sign_in(&self, subject: &str, email: &str) -> Customer {
        Accounts::new(&self.env.customers())
            .sign_in(SignIn {
                subject: subject.to_owned(),
                email: email.to_owned(),
                name: CustomerName::parse("Wanjiku").expect("name"),
                is_admin: false,
            })
            .await
            .expect("sign in")
    }

    /// A new person signing in for the first time as `email`.
    pub async fn sign_up(&self, email: &str) -> Customer {
        self.sign_in(&format!("sub-{}", ulid::Ulid::new()), email)
            .await
    }

    /// `GET path` with `token` (none: anonymous) and the DynamoDB requests it made.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (ApiResponse, u64) {
        let before = self.requests.count();
        let request = match token {
            Some(token) => ApiRequest::get(path).bearer(token),
            None => ApiRequest::get(path),
        };
        let response = request.send(&self.router).await;
        (response, self.requests.count() - before)
    }

    /// `GET path` as the admin, which must answer 200; its body and request count.
    pub async fn admin_get(&self, path: &str) -> (Value, u64) {
        let (response, requests) = self.get(path, Some(&self.admin)).await;
        response.expect_status(200);
        (response.body.clone(), requests)
    }

    /// Follows `path`'s cursors to the end as the admin: every item, and the DynamoDB
    /// requests of each page.
    pub async fn every_page(&self, path: &str) -> (Vec<Value>, Vec<u64>) {
        let (mut items, mut requests) = (Vec::new(), Vec::new());
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}&cursor={c}"),
                None => path.to_owned(),
            };
            let (page, round_trips) = self.admin_get(&url).await;
            requests.push(round_trips);
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match &page["next_cursor"] {
                Value::String(next) => cursor = Some(next.clone()),
                Value::Null => return (items, requests),
                other => panic!("next_cursor {other}"),
            }
        }
    }
}

/// The ids of a list's items, in order.
pub fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Orders placed through the orders service on the test's table.
pub struct Shop {
    service: OrderService<DynamoOrders, SqsNotificationQueue>,
}

impl Shop {
    pub async fn new(env: &TestEnv) -> Self {
        let queues = env.queues().await;
        Self {
            service: OrderService::new(
                DynamoOrders::new(env.client.clone(), env.table.as_str()),
                SqsNotificationQueue::new(env.sqs.clone(), queues.notifications),
                VatRate::kenya_standard(),
                HandOffPolicy::default(),
            ),
        }
    }

    /// Places an order of one unit of each of `products` for `customer` (confirmed or
    /// left pending), with the address and notes given.
    pub async fn place(
        &self,
        customer: CustomerId,
        products: &[ProductId],
        confirm: bool,
        address: &str,
        notes: Option<&str>,
    ) {
        let lines = products
            .iter()
            .map(|product| RequestedLine {
                product_id: *product,
                quantity: Quantity::new(1).expect("quantity"),
            })
            .collect();
        let request = OrderRequest::new(
            lines,
            DeliveryAddress::parse(address).expect("address"),
            notes.map(|n| Notes::parse(n).expect("notes")),
            confirm,
        )
        .expect("order request");
        self.service
            .place(customer, &request, None)
            .await
            .expect("order placed");
    }
}
