//! Lambda entrypoint of the orders route area: wiring only.

use std::sync::Arc;

use bootstrap::orders::OrdersConfig;
use bootstrap::{Aws, Env};
use domain::order::OrderService;
use http_api::{ApiConfig, AppState};
use queue::SqsNotificationQueue;
use storage::DynamoOrders;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let env = Env::process();
    let config = ApiConfig::from_env(&env)?;
    let orders = OrdersConfig::from_env(&env)?;
    let aws = Aws::load()?;
    let service = OrderService::new(
        DynamoOrders::new(aws.dynamodb(), config.table_name)
            .with_audit_retention(config.audit_retention),
        SqsNotificationQueue::new(aws.sqs(), orders.queue_url),
        orders.vat,
        orders.hand_off,
    );
    bootstrap::run_http(orders::router(AppState {
        services: Arc::new(service),
        verifier: config.verifier,
    }))
    .await
}
