//! Lambda entrypoint of M-Pesa's callbacks: wiring only.

use std::sync::Arc;

use bootstrap::payments::MpesaConfig;
use bootstrap::{Aws, Env};
use domain::order::HandOffPolicy;
use domain::payment_use_cases::PaymentService;
use http_api::{ApiConfig, AppState};
use payments::{CallbackGuard, Callbacks};
use queue::SqsNotificationQueue;
use storage::{DynamoPayments, Table};

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let env = Env::process();
    let config = ApiConfig::from_env(&env)?;
    let queue_url = env.required("NOTIFICATIONS_QUEUE_URL")?;
    let hand_off_grace = env.seconds("HAND_OFF_GRACE_SECONDS", HandOffPolicy::default().grace)?;
    let mpesa = MpesaConfig::from_env(&env)?;
    let aws = Aws::load()?;
    let service = PaymentService::new(
        DynamoPayments::new(
            Table::new(aws.dynamodb(), config.table_name)
                .with_audit_retention(config.audit_retention),
        ),
        mpesa.gateway()?,
        SqsNotificationQueue::new(aws.sqs(), queue_url),
        hand_off_grace,
    );
    let guard = CallbackGuard::new(mpesa.callback_token, mpesa.allowed_source_ips);
    bootstrap::run_http(payments::router(AppState {
        services: Arc::new(Callbacks { service, guard }),
        verifier: config.verifier,
    }))
    .await
}
