//! One shop on one table: the categories, products and audit functions' routers, each with
//! its own DynamoDB client whose requests are counted, and the history read back.

use axum::Router;
use domain::audit::Retention;
use http_api::AppState;
use serde_json::{Value, json};
use storage::DynamoCatalog;
use testkit::env::{RequestCounter, TestEnv, counted_client, dynamodb_endpoint};
use testkit::events::{ApiRequest, ApiResponse};

/// The history retention the writers are configured with: not the default, so a test sees
/// it applied.
pub fn retention() -> Retention {
    Retention::days(30).expect("30 days")
}

/// The three functions on one fresh table.
#[derive(Debug)]
pub struct Shop {
    pub env: TestEnv,
    pub categories: Router,
    pub products: Router,
    pub audit: Router,
    /// Requests of the categories and products functions (the writers).
    pub writes: RequestCounter,
    /// Requests of the audit function.
    pub reads: RequestCounter,
    pub admin: String,
    pub customer: String,
}

impl Shop {
    pub async fn new() -> Self {
        Self::reaching_dynamodb_at(&dynamodb_endpoint()).await
    }

    /// The writers reach DynamoDB at `endpoint` (a forwarder that injects faults); the
    /// audit function and the test's own checks reach the emulator directly.
    pub async fn reaching_dynamodb_at(endpoint: &str) -> Self {
        let env = TestEnv::new().await;
        let writes = RequestCounter::default();
        let reads = RequestCounter::default();
        // Wired like main.rs: the history's retention comes from the configuration.
        let state = |client| AppState {
            services: DynamoCatalog::new(client, env.table.as_str())
                .with_audit_retention(retention()),
            verifier: env.verifier.clone(),
        };
        let writer = counted_client(endpoint, writes.clone());
        let reader = counted_client(&dynamodb_endpoint(), reads.clone());
        Self {
            categories: categories::router(state(writer.clone())),
            products: products::router(state(writer)),
            audit: audit::router(state(reader)),
            admin: env.admin_token(),
            customer: env.customer_token(),
            writes,
            reads,
            env,
        }
    }

    /// Sends `request` to the function that owns its path.
    pub async fn send(&self, request: ApiRequest, path: &str) -> ApiResponse {
        let router = if path.starts_with("/api/v1/categories") {
            &self.categories
        } else if path.starts_with("/api/v1/products") {
            &self.products
        } else {
            &self.audit
        };
        request.send(router).await
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> ApiResponse {
        let mut request = ApiRequest::new(method, path).bearer(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request, path).await
    }

    /// A top-level category (or a child of `parent`), made through the API.
    pub async fn category(&self, name: &str, parent: Option<&str>) -> String {
        let response = self
            .admin(
                "POST",
                "/api/v1/categories",
                Some(json!({"name": name, "parent_id": parent})),
            )
            .await;
        response.expect_status(201);
        id_of(&response.body)
    }

    /// A product made through the API.
    pub async fn product(&self, name: &str, stock: u32, category: &str) -> String {
        let body = json!({"name": name, "price": "1499.00", "stock_quantity": stock,
                          "category_id": category, "sku": format!("SKU-{}", ulid::Ulid::new())});
        let response = self.admin("POST", "/api/v1/products", Some(body)).await;
        response.expect_status(201);
        id_of(&response.body)
    }

    /// Every entry of the history asked for by `query` (`""`: the whole shop's), newest
    /// first, following the cursor with pages of `limit`.
    pub async fn history(&self, query: &str, limit: u32) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/audit?limit={limit}");
            if !query.is_empty() {
                path.push('&');
                path.push_str(query);
            }
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let response = self
                .send(ApiRequest::get(&path).bearer(&self.admin), "/api/v1/audit")
                .await;
            response.expect_status(200);
            entries.extend(
                response.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .cloned(),
            );
            match response.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return entries,
            }
        }
    }

    /// One entity's whole history, newest first.
    pub async fn history_of(&self, kind: &str, id: &str) -> Vec<Value> {
        self.history(&format!("entity_type={kind}&entity_id={id}"), 100)
            .await
    }
}

pub fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}
