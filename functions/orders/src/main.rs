//! Lambda entrypoint of the orders route area: wiring only.

use std::sync::Arc;

use bootstrap::orders::OrdersConfig;
use bootstrap::payments::MpesaConfig;
use bootstrap::{Aws, Env};
use domain::order::OrderService;
use domain::payment_use_cases::PaymentService;
use http_api::{ApiConfig, AppState};
use orders::Orders;
use queue::SqsNotificationQueue;
use storage::{DynamoOrders, DynamoPayments, Table};

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let env = Env::process();
    let config = ApiConfig::from_env(&env)?;
    let orders = OrdersConfig::from_env(&env)?;
    let mpesa = MpesaConfig::from_env(&env)?;
    let aws = Aws::load()?;
    // One DynamoDB client for both services: a client is a handle, cheap to clone, and
    // building one is not (its runtime plugins and configuration layers).
    let dynamodb = aws.dynamodb();
    let queue = SqsNotificationQueue::new(aws.sqs(), orders.queue_url);
    let service = OrderService::new(
        DynamoOrders::new(dynamodb.clone(), config.table_name.as_str())
            .with_audit_retention(config.audit_retention),
        queue.clone(),
        orders.vat,
        orders.hand_off,
    );
    let payments = PaymentService::new(
        DynamoPayments::new(
            Table::new(dynamodb, config.table_name).with_audit_retention(config.audit_retention),
        ),
        mpesa.gateway()?,
        queue,
        orders.hand_off.grace,
    );
    bootstrap::run_http(orders::router(AppState {
        services: Orders {
            orders: Arc::new(service),
            payments: Arc::new(payments),
        },
        verifier: config.verifier,
    }))
    .await
}
