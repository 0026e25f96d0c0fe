//! One test's world: a table, a notifications queue and dead-letter queue on the local
//! AWS emulator (DynamoDB, SQS, SES v2), Africa's Talking as a wiremock server, the
//! orders service that places and confirms orders, and the notifier's batch handler.
//!
//! Messages are received from the real queue and handed to the handler as the SQS event
//! Lambda would build (devstack's queue bridge builds it); acknowledged ones are deleted,
//! as the event source mapping does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use domain::notification::{DEFAULT_CLAIM_LEASE, Notifier};
use domain::order::QueueError;
use domain::order::{HandOffPolicy, Order, OrderRequest, OrderService, OrderStore, VatRate};
use domain::{CustomerId, OrderId, ProductId};
use messaging::{AfricasTalking, AfricasTalkingConfig, SesEmail};
use notifier::{Backoff, BatchHandler};
use queue::{Redelivery, SqsNotificationQueue};
use secrecy::SecretString;
use serde_json::{Value, json};
use storage::{DynamoCustomers, DynamoOrders};
use testkit::env::{RequestCounter, TestEnv, counted_client, moto_endpoint};
use testkit::queues::Queues;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Africa's Talking credentials of the tests.
pub const AT_USERNAME: &str = "sandbox";
pub const AT_API_KEY: &str = "at-test-key-0123456789";
pub const AT_SENDER: &str = "SHOP";

/// The notifier's batch handler as the tests wire it.
pub type Handler =
    BatchHandler<DynamoOrders, DynamoCustomers, AfricasTalking, SesEmail, RecordingRedelivery>;

/// The real SQS redelivery, remembering every delay it set (a spy, not a fake).
#[derive(Debug, Clone)]
pub struct RecordingRedelivery {
    inner: SqsNotificationQueue,
    pub delays: Arc<Mutex<Vec<Duration>>>,
}

impl Redelivery for RecordingRedelivery {
    async fn redeliver_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.delays.lock().expect("lock").push(delay);
        self.inner.redeliver_after(receipt, delay).await
    }
}

/// Settings a test may change.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whether the sender is a verified SES identity (unverified: SES refuses to send).
    pub verified_sender: bool,
    pub backoff: Backoff,
    /// How long a confirmation waits for the notifier before the reconciler re-sends it.
    pub grace: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            verified_sender: true,
            backoff: Backoff {
                base: Duration::from_secs(60),
                max: Duration::from_secs(900),
            },
            grace: Duration::from_secs(300),
        }
    }
}

#[derive(Debug)]
pub struct World {
    pub env: TestEnv,
    pub queues: Queues,
    queue_arn: String,
    pub at: MockServer,
    pub ses: aws_sdk_sesv2::Client,
    pub sender: String,
    pub admin: String,
    pub orders: OrderService<DynamoOrders, SqsNotificationQueue>,
    pub handler: Arc<Handler>,
    pub delays: Arc<Mutex<Vec<Duration>>>,
    /// Counts the notifier's DynamoDB requests.
    pub requests: RequestCounter,
    product: ProductId,
}

impl World {
    pub async fn new() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        let env = TestEnv::new().await;
        let queues = env.queues().await;
        let queue_arn = testkit::queues::queue_arn(&env.sqs, &queues.notifications)
            .await
            .expect("queue ARN");
        let at = MockServer::start().await;
        let ses = testkit::email::local_ses_client(&moto_endpoint());
        let unique = env.table.trim_start_matches("test-");
        let (sender, admin) = (
            format!("shop-{unique}@example.com"),
            format!("admin-{unique}@example.com"),
        );
        if options.verified_sender {
            verify(&ses, &sender).await;
        }
        let queue = SqsNotificationQueue::new(env.sqs.clone(), queues.notifications.as_str());
        let orders = OrderService::new(
            DynamoOrders::new(env.client.clone(), env.table.as_str()),
            queue.clone(),
            VatRate::kenya_standard(),
            HandOffPolicy {
                grace: options.grace,
                ..HandOffPolicy::default()
            },
        );
        let requests = RequestCounter::default();
        let client = counted_client(&testkit::env::dynamodb_endpoint(), requests.clone());
        let sms = AfricasTalking::new(AfricasTalkingConfig {
            base_url: at.uri().parse().expect("url"),
            username: AT_USERNAME.into(),
            sender_id: Some(AT_SENDER.into()),
            api_key: SecretString::from(AT_API_KEY),
            timeout: Duration::from_secs(5),
        })
        .expect("AT client");
        let notifier = Notifier::new(
            DynamoOrders::new(client.clone(), env.table.as_str()),
            DynamoCustomers::new(client, env.table.as_str()),
            sms,
            SesEmail::new(ses.clone(), sender.as_str(), admin.as_str(), None),
            DEFAULT_CLAIM_LEASE,
        );
        let delays = Arc::new(Mutex::new(Vec::new()));
        let redelivery = RecordingRedelivery {
            inner: queue,
            delays: delays.clone(),
        };
        let handler = BatchHandler::new(notifier, redelivery, options.backoff);
        let product = env.product("Phone", "100.00", 1000).await;
        Self {
            env,
            queues,
            queue_arn,
            at,
            ses,
            sender,
            admin,
            orders,
            handler,
            delays,
            requests,
            product,
        }
    }

    /// A customer, signed in once, with `phone` on their profile.
    pub async fn customer(&self, name: &str, phone: Option<&str>) -> CustomerId {
        self.env.customer_with_phone(name, phone).await
    }

    /// Places an order of one unit of the test product (KES 100.00, 116.00 with VAT);
    /// a confirmed one is handed to the notifications queue.
    pub async fn place(&self, customer: CustomerId, confirm: bool) -> Order {
        self.orders
            .place(customer, &request(self.product, confirm), None)
            .await
            .expect("placed")
            .order
    }

    /// Every message now visible on the notifications queue, with its attributes (not
    /// deleted).
    pub async fn receive(&self) -> Vec<Message> {
        self.receive_from(&self.queues.notifications).await
    }

    pub async fn receive_from(&self, queue_url: &str) -> Vec<Message> {
        let mut messages = Vec::new();
        loop {
            let batch = self
                .env
                .sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive")
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            messages.extend(batch);
        }
    }

    /// A message for `order`'s confirmation that was never on the queue (its receipt
    /// handle is unknown to SQS), e.g. to deliver a body the queue would not hold.
    pub fn message(&self, id: &str, body: &str) -> Message {
        Message::builder()
            .message_id(id)
            .receipt_handle(format!("receipt-{id}"))
            .body(body)
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .build()
    }

    /// Hands `messages` to the notifier as one SQS event and deletes those it did not
    /// report failed. Returns the ids it reported failed.
    pub async fn deliver(&self, messages: &[Message]) -> Vec<String> {
        let event: SqsEvent = devstack::bridge::sqs_event(messages, &self.queue_arn);
        let response: SqsBatchResponse = self.handler.handle(event).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for message in messages {
            let id = message.message_id().unwrap_or_default();
            if failed.iter().any(|f| f == id) {
                continue;
            }
            if let Some(receipt) = message
                .receipt_handle()
                .filter(|r| !r.starts_with("receipt-"))
            {
                self.env
                    .sqs
                    .delete_message()
                    .queue_url(&self.queues.notifications)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete");
            }
        }
        failed
    }

    /// Receives what is on the queue and delivers it.
    pub async fn deliver_queued(&self) -> (Vec<Message>, Vec<String>) {
        let messages = self.receive().await;
        let failed = self.deliver(&messages).await;
        (messages, failed)
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

    /// Africa's Talking accepts every SMS (recipient status 101).
    pub async fn sms_accepted(&self) {
        Mock::given(method("POST"))
            .and(path("/version1/messaging"))
            .respond_with(accepted())
            .mount(&self.at)
            .await;
    }

    /// The form fields of every request Africa's Talking received, in order.
    pub async fn sms_requests(&self) -> Vec<HashMap<String, String>> {
        self.at
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|request| {
                url::form_urlencoded::parse(&request.body)
                    .into_owned()
                    .collect()
            })
            .collect()
    }

    /// Every email SES accepted for this test's admin address (from the emulator's state).
    pub async fn emails(&self) -> Vec<Value> {
        testkit::email::sent_to(&moto_endpoint(), &self.admin)
            .await
            .expect("emulator state")
    }

    /// Verifies this test's sender with SES.
    pub async fn verify_sender(&self) {
        verify(&self.ses, &self.sender).await;
    }
}

async fn verify(ses: &aws_sdk_sesv2::Client, identity: &str) {
    testkit::email::ensure_identity(ses, identity)
        .await
        .expect("SES identity");
}

/// Africa's Talking's answer for an accepted SMS.
pub fn accepted() -> ResponseTemplate {
    recipient_answer(101, "Success", "ATXid_4f1c1a2b")
}

/// Africa's Talking's 201 answer naming one recipient with `code` / `status`.
pub fn recipient_answer(code: u16, status: &str, message_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"SMSMessageData": {
        "Message": "Sent to 1/1 Total Cost: KES 0.8000",
        "Recipients": [{"statusCode": code, "number": "+254712345678", "cost": "KES 0.8000",
            "status": status, "messageId": message_id}]
    }}))
}

fn request(product: ProductId, confirm: bool) -> OrderRequest {
    let body = json!({
        "items": [{"product_id": product.to_string(), "quantity": 1}],
        "delivery_address": "Moi Avenue 1, Nairobi",
        "confirm": confirm,
    });
    serde_json::from_value::<orders::body::PlaceBody>(body)
        .expect("body")
        .parse()
        .expect("valid")
}
