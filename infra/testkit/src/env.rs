//! Per-test environment on the local emulators: a table of its own on DynamoDB Local (so
//! tests run in parallel), queues on moto, the real SDK clients, a key pair and tokens.
//!
//! The endpoints come from `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local) and
//! `MOTO_ENDPOINT` (SQS, SES); `make test` starts both emulators and sets them.

use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use http_api::auth::Identity;
use http_api::{AppState, TokenSigner, TokenVerifier};
use storage::{DynamoCatalog, DynamoCustomers};

use crate::keys::{self, KeyPair};
use crate::table::TableDefinition;

/// Issuer of test tokens.
pub const ISSUER: &str = "order-system-test";
/// Audience of test tokens.
pub const AUDIENCE: &str = "order-system-api";

/// A DynamoDB client for the local emulator at `endpoint`, with static test credentials.
pub fn local_client(endpoint: &str) -> Client {
    Client::new(&crate::local_aws_config(endpoint))
}

/// The DynamoDB emulator of this test run (`AWS_ENDPOINT_URL_DYNAMODB`, set by `make test`
/// to DynamoDB Local); moto's when it is not set.
pub fn dynamodb_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| moto_endpoint())
}

/// The moto server (SQS, SES) of this test run (`MOTO_ENDPOINT`, set by `make test`).
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("MOTO_ENDPOINT is not set: run the tests with `make test`, which starts moto")
    })
}

fn key_pair() -> &'static KeyPair {
    static KEYS: OnceLock<KeyPair> = OnceLock::new();
    KEYS.get_or_init(|| keys::generate("test-key-1").unwrap_or_else(|e| panic!("{e}")))
}

/// One test's world: a fresh table and the means to call the API as anyone.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub client: Client,
    /// SQS on the same moto server.
    pub sqs: aws_sdk_sqs::Client,
    pub table: String,
    pub signer: TokenSigner,
    pub verifier: Arc<TokenVerifier>,
    pub keys: KeyPair,
}

impl TestEnv {
    /// Creates a uniquely named table from template.yaml on the local DynamoDB emulator.
    pub async fn new() -> Self {
        let client = local_client(&dynamodb_endpoint());
        let table = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
        TableDefinition::from_repository()
            .unwrap_or_else(|e| panic!("{e}"))
            .create(&client, &table)
            .await
            .unwrap_or_else(|e| panic!("creating {table}: {e}"));
        let keys = key_pair().clone();
        let signer = keys
            .signer(ISSUER, AUDIENCE)
            .unwrap_or_else(|e| panic!("{e}"));
        let verifier = Arc::new(
            keys.verifier(ISSUER, AUDIENCE)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        Self {
            sqs: crate::queues::local_sqs_client(&moto_endpoint()),
            client,
            table,
            signer,
            verifier,
            keys,
        }
    }

    /// The catalog store on this test's table.
    pub fn catalog(&self) -> DynamoCatalog {
        DynamoCatalog::new(self.client.clone(), self.table.as_str())
    }

    /// A notifications queue and dead-letter queue of this test's own, configured like
    /// template.yaml's.
    pub async fn queues(&self) -> crate::queues::Queues {
        let settings =
            crate::queues::QueueSettings::from_repository().unwrap_or_else(|e| panic!("{e}"));
        crate::queues::ensure_queues(
            &self.sqs,
            &format!("{}-notifications", self.table),
            settings,
        )
        .await
        .unwrap_or_else(|e| panic!("creating queues: {e}"))
    }

    /// Every message now on `queue_url` (received and deleted), as JSON.
    pub async fn drain(&self, queue_url: &str) -> Vec<serde_json::Value> {
        crate::queues::drain(&self.sqs, queue_url)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|body| serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}")))
            .collect()
    }

    /// A product `name` at `price` with `stock` units, in a top-level category of its own.
    pub async fn product(&self, name: &str, price: &str, stock: u32) -> domain::ProductId {
        use domain::catalog_use_cases::Catalog;
        use domain::category::CategoryName;
        use domain::product::{NewProduct, ProductName};
        use domain::{CategoryStore, Money};
        let catalog = self.catalog();
        let unique = ulid::Ulid::new().to_string();
        let category = catalog
            .create_category(
                CategoryName::parse(&format!("{name} {unique}")).expect("name"),
                None,
                &admin_actor(),
            )
            .await
            .unwrap_or_else(|e| panic!("category: {e}"));
        Catalog::new(&catalog)
            .create_product(
                NewProduct {
                    name: ProductName::parse(name).expect("name"),
                    description: None,
                    sku: None,
                    price: Money::parse_price(price).expect("price"),
                    stock_quantity: stock,
                    category_id: category.id,
                },
                &admin_actor(),
            )
            .await
            .unwrap_or_else(|e| panic!("product: {e}"))
            .id
    }

    /// The customer store on this test's table.
    pub fn customers(&self) -> DynamoCustomers {
        DynamoCustomers::new(self.client.clone(), self.table.as_str())
    }

    /// A customer, signed in once as `name`, with `phone` on their profile when given.
    pub async fn customer_with_phone(&self, name: &str, phone: Option<&str>) -> domain::CustomerId {
        use domain::CustomerStore;
        use domain::customer::{CustomerName, PhoneNumber, ProfileChange, SignIn};
        use domain::customer_use_cases::Accounts;
        let customers = self.customers();
        let unique = ulid::Ulid::new().to_string().to_lowercase();
        let customer = Accounts::new(&customers)
            .sign_in(SignIn {
                subject: format!("google-{unique}"),
                email: format!("{unique}@example.com"),
                name: CustomerName::parse(name).unwrap_or_else(|e| panic!("name: {e}")),
                is_admin: false,
            })
            .await
            .unwrap_or_else(|e| panic!("sign in: {e}"));
        if let Some(phone) = phone {
            let phone = PhoneNumber::parse(phone).unwrap_or_else(|e| panic!("phone: {e}"));
            customers
                .update_profile(
                    customer.id,
                    ProfileChange {
                        name: None,
                        phone_number: Some(Some(phone)),
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("phone: {e}"));
        }
        customer.id
    }

    /// The ids on the admins' list of failed notifications (`?notification_status=failed`),
    /// newest first; one page of up to 100 holds them all.
    pub async fn failed_notifications(&self) -> Vec<domain::OrderId> {
        use domain::order::{OrderListing, OrderStore};
        use domain::{PageLimit, PageRequest};
        let page = PageRequest {
            limit: PageLimit::new(100).unwrap_or_else(|e| panic!("limit: {e}")),
            cursor: None,
        };
        let page = storage::DynamoOrders::new(self.client.clone(), self.table.as_str())
            .list_orders(OrderListing::NotificationFailed, page)
            .await
            .unwrap_or_else(|e| panic!("the failed list: {e}"));
        assert!(
            page.next_cursor.is_none(),
            "more than one page of failed notifications"
        );
        page.items.iter().map(|o| o.id).collect()
    }

    /// Router state with the customer store and the test verifier.
    pub fn customers_state(&self) -> AppState<DynamoCustomers> {
        AppState {
            services: self.customers(),
            verifier: self.verifier.clone(),
        }
    }

    /// Router state with the catalog store and the test verifier.
    pub fn catalog_state(&self) -> AppState<DynamoCatalog> {
        AppState {
            services: self.catalog(),
            verifier: self.verifier.clone(),
        }
    }

    /// A valid token for `identity`.
    pub fn token_for(&self, identity: &Identity) -> String {
        keys::token(&self.signer, identity).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A valid admin token.
    pub fn admin_token(&self) -> String {
        self.token_for(&admin_identity())
    }

    /// A valid token of an ordinary customer.
    pub fn customer_token(&self) -> String {
        self.token_for(&customer_identity())
    }
}

/// The identity of the local admin.
pub fn admin_identity() -> Identity {
    Identity {
        customer_id: "01JA0000000000000000000001".into(),
        email: "admin@example.com".into(),
        name: "Local Admin".into(),
        admin: true,
    }
}

/// The local admin as the change history records them: what tests and demo data that
/// write through the stores directly (not through the API) are recorded as.
pub fn admin_actor() -> domain::audit::Actor {
    let admin = admin_identity();
    domain::audit::Actor::account(
        admin
            .customer_id
            .parse()
            .unwrap_or_else(|e| panic!("the local admin's id: {e}")),
        admin.email,
    )
}

/// The identity of the local customer.
pub fn customer_identity() -> Identity {
    Identity {
        customer_id: "01JC0000000000000000000002".into(),
        email: "customer@example.com".into(),
        name: "Wanjiku Customer".into(),
        admin: false,
    }
}

impl TestEnv {
    /// Every item of the test's table, sorted by key, as text: compare two snapshots to
    /// prove that a request changed nothing. (A Scan, which only tests use.)
    pub async fn snapshot(&self) -> Vec<String> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap_or_else(|e| panic!("scan: {e}"));
            for item in output.items.unwrap_or_default() {
                let mut fields: Vec<String> = item
                    .iter()
                    .map(|(k, v)| format!("{k}={}", canonical(v)))
                    .collect();
                fields.sort();
                items.push(fields.join(" "));
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        items.sort();
        items
    }

    /// When the stored history entry `id` expires (its TTL attribute, Unix seconds).
    pub async fn audit_entry_expiry(&self, id: domain::audit::AuditEntryId) -> i64 {
        let at = storage::keys::audit_entry(id);
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(storage::keys::PK, AttributeValue::S(at.pk))
            .key(storage::keys::SK, AttributeValue::S(at.sk))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("reading history entry {id}: {e}"))
            .item
            .unwrap_or_else(|| panic!("history entry {id} is not stored"));
        match item.get("expires_at") {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or_else(|e| panic!("{n}: {e}")),
            other => panic!("history entry {id}: expires_at is {other:?}"),
        }
    }
}

/// An attribute value as text, with map keys sorted at every depth (so equal items
/// always print the same).
fn canonical(value: &aws_sdk_dynamodb::types::AttributeValue) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    match value {
        AttributeValue::M(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {}", canonical(v)))
                .collect();
            entries.sort();
            format!("M{{{}}}", entries.join(", "))
        }
        AttributeValue::L(list) => {
            let items: Vec<String> = list.iter().map(canonical).collect();
            format!("L[{}]", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Counts the DynamoDB requests a client makes (every operation attempt, retries
/// included), to measure round trips per API request.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    requests: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestCounter {
    pub fn count(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl aws_sdk_dynamodb::config::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// A local client whose requests are counted by `counter`.
pub fn counted_client(endpoint: &str, counter: RequestCounter) -> Client {
    let config = local_client(endpoint)
        .config()
        .to_builder()
        .interceptor(counter)
        .build();
    Client::from_conf(config)
}

/// A function's router on a fresh [`TestEnv`], with an admin and a customer token.
#[derive(Debug, Clone)]
pub struct TestApp {
    pub env: TestEnv,
    pub router: axum::Router,
    pub admin: String,
    pub customer: String,
}

impl TestApp {
    /// `router` builds the function's router from the catalog state of a fresh table.
    pub async fn new(router: impl FnOnce(AppState<DynamoCatalog>) -> axum::Router) -> Self {
        let env = TestEnv::new().await;
        let router = router(env.catalog_state());
        let (admin, customer) = (env.admin_token(), env.customer_token());
        Self {
            env,
            router,
            admin,
            customer,
        }
    }

    /// Sends `request` through the router as API Gateway would.
    pub async fn send(&self, request: crate::events::ApiRequest) -> crate::events::ApiResponse {
        request.send(&self.router).await
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> crate::events::ApiResponse {
        self.send(crate::events::ApiRequest::get(path)).await
    }
}
