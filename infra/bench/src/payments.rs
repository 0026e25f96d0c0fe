//! The payments service the measured orders function runs with: M-Pesa standing in
//! (`devstack mpesa-sandbox`, in process), storage on the measured DynamoDB client.

use std::sync::Arc;

use devstack::mpesa::{MpesaSandboxConfig, RunningMpesaSandbox};
use domain::order::HandOffPolicy;
use domain::payment_use_cases::PaymentService;
use mpesa::{Daraja, DarajaGateway};
use queue::SqsNotificationQueue;
use secrecy::SecretString;
use storage::{DynamoPayments, Table};

/// The payments service of a benchmark's orders function.
pub type Payments = PaymentService<DynamoPayments, DarajaGateway, SqsNotificationQueue>;

/// A payments service on `dynamodb`'s `table`, prompting through a stand-in it starts
/// (kept running as long as the returned handle lives); callbacks go nowhere.
pub async fn payments(
    dynamodb: aws_sdk_dynamodb::Client,
    table: &str,
    queue: SqsNotificationQueue,
) -> (Arc<Payments>, RunningMpesaSandbox) {
    let account = MpesaSandboxConfig::default();
    let mpesa = devstack::mpesa::start(account.clone(), 0)
        .await
        .expect("the M-Pesa stand-in");
    let daraja = account
        .daraja_config(&mpesa.base_url)
        .expect("the stand-in's URL");
    let gateway = DarajaGateway::new(
        Daraja::new(daraja).expect("client"),
        &url::Url::parse("http://127.0.0.1:9/api/v1/payments/callbacks").expect("url"),
        &SecretString::from("0123456789abcdef0123456789abcdef"),
    )
    .expect("gateway");
    let service = PaymentService::new(
        DynamoPayments::new(Table::new(dynamodb, table)),
        gateway,
        queue,
        HandOffPolicy::default().grace,
    );
    (Arc::new(service), mpesa)
}
