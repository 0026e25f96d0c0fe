//! M-Pesa in the benchmarks: the stand-in (`devstack mpesa-sandbox`, in process), the
//! payments service the measured orders function runs with and, for `make bench`, the
//! payments function itself (its callback routes), with storage on the measured DynamoDB
//! client. [`Mpesa`]'s stand-in posts its callbacks to a recorder standing in for our
//! public callback URL, so the callback row hands the function exactly the bodies the
//! stand-in posted.

use std::sync::Arc;
use std::time::Duration;

use ::payments::{CallbackGuard, Callbacks};
use axum::http::StatusCode;
use devstack::mpesa::{MpesaSandboxConfig, RunningMpesaSandbox};
use domain::order::HandOffPolicy;
use domain::payment_use_cases::PaymentService;
use http_api::{AppState, TokenVerifier};
use mpesa::{Daraja, DarajaGateway};
use queue::SqsNotificationQueue;
use secrecy::SecretString;
use storage::{DynamoPayments, Table};
use testkit::callbacks::CallbackRecorder;

/// The payments service of a benchmark's orders function.
pub type Payments = PaymentService<DynamoPayments, DarajaGateway, SqsNotificationQueue>;

/// The secret token of the callback URLs.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// Where the callback routes live, below the token.
pub const CALLBACKS: &str = "/api/v1/payments/callbacks";

/// How long the stand-in takes to decide a prompt (and then post its callback).
const DECISION_DELAY: Duration = Duration::from_millis(50);

/// M-Pesa standing in, with what talks to it; everything stops when this is dropped.
#[derive(Debug)]
pub struct Mpesa {
    /// The payments service the orders function prompts with.
    pub service: Arc<Payments>,
    /// The payments function's router (the callbacks), on a service of its own over the
    /// same client, gateway and queue.
    pub callbacks: axum::Router,
    recorder: CallbackRecorder,
    _sandbox: RunningMpesaSandbox,
}

impl Mpesa {
    /// The stand-in, and both functions' payments services on `dynamodb`'s `table`,
    /// handing confirmed orders to `queue`.
    pub async fn start(
        dynamodb: aws_sdk_dynamodb::Client,
        table: &str,
        queue: SqsNotificationQueue,
        verifier: Arc<TokenVerifier>,
    ) -> Self {
        let account = MpesaSandboxConfig {
            decision_delay: DECISION_DELAY,
            ..MpesaSandboxConfig::default()
        };
        let sandbox = devstack::mpesa::start(account.clone(), 0)
            .await
            .expect("the M-Pesa stand-in");
        let recorder = CallbackRecorder::start(|_, _| (StatusCode::OK, "{}".into())).await;
        let gateway = gateway(&account, &sandbox, &recorder.url(CALLBACKS));
        let service = |gateway| {
            PaymentService::new(
                DynamoPayments::new(Table::new(dynamodb.clone(), table)),
                gateway,
                queue.clone(),
                HandOffPolicy::default().grace,
            )
        };
        let callbacks = ::payments::router(AppState {
            services: Arc::new(Callbacks {
                service: service(gateway.clone()),
                guard: CallbackGuard::new(SecretString::from(TOKEN), Vec::new()),
            }),
            verifier,
        });
        Self {
            service: Arc::new(service(gateway)),
            callbacks,
            recorder,
            _sandbox: sandbox,
        }
    }

    /// The path of the STK callback route, as the stand-in posts to it.
    pub fn stk_path() -> String {
        format!("{CALLBACKS}/{TOKEN}/stk")
    }

    /// The first `n` STK callbacks the stand-in posted, as it posted them (waits for them).
    pub async fn stk_callbacks(&self, n: usize) -> Vec<Vec<u8>> {
        let mut bodies = self.recorder.wait_for(&Self::stk_path(), n).await;
        bodies.truncate(n);
        bodies.into_iter().map(|body| body.to_vec()).collect()
    }
}

/// A gateway to the stand-in `sandbox` of `account`, naming `callbacks` as our callback URL.
fn gateway(
    account: &MpesaSandboxConfig,
    sandbox: &RunningMpesaSandbox,
    callbacks: &url::Url,
) -> DarajaGateway {
    let daraja = account
        .daraja_config(&sandbox.base_url)
        .expect("the stand-in's URL");
    DarajaGateway::new(
        Daraja::new(daraja).expect("client"),
        callbacks,
        &SecretString::from(TOKEN),
    )
    .expect("gateway")
}

/// A payments service on `dynamodb`'s `table`, prompting through a stand-in it starts
/// (kept running as long as the returned handle lives); callbacks go nowhere (`make load`).
pub async fn payments(
    dynamodb: aws_sdk_dynamodb::Client,
    table: &str,
    queue: SqsNotificationQueue,
) -> (Arc<Payments>, RunningMpesaSandbox) {
    let account = MpesaSandboxConfig::default();
    let sandbox = devstack::mpesa::start(account.clone(), 0)
        .await
        .expect("the M-Pesa stand-in");
    let nowhere = url::Url::parse("http://127.0.0.1:9/api/v1/payments/callbacks").expect("url");
    let service = PaymentService::new(
        DynamoPayments::new(Table::new(dynamodb, table)),
        gateway(&account, &sandbox, &nowhere),
        queue,
        HandOffPolicy::default().grace,
    );
    (Arc::new(service), sandbox)
}
