//! Lambda entrypoint of the orders route area: wiring only.

use std::sync::Arc;

use domain::order::OrderService;
use http_api::{AppState, Config};
use orders::config::{OrdersConfig, sqs_client};
use queue::SqsNotificationQueue;
use storage::{DynamoCatalog, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http_api::logging::init();
    let config = Config::from_env()?;
    let orders = OrdersConfig::from_env()?;
    let table = DynamoCatalog::new(http_api::config::dynamodb_client().await, config.table_name);
    let service = OrderService::new(
        DynamoOrders::new(table),
        SqsNotificationQueue::new(sqs_client().await, orders.queue_url),
        orders.vat,
        orders.hand_off,
    );
    let app = orders::router(AppState {
        store: Arc::new(service),
        verifier: config.verifier,
    });
    lambda_http::run(app).await
}
