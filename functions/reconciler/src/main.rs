//! Lambda entrypoint of the reconciler: wiring only. Invoked by its schedule with any
//! event; locally `cargo lambda watch` serves it at
//! `POST :9000/2015-03-31/functions/reconciler/invocations`.

use std::sync::Arc;
use std::time::SystemTime;

use domain::order::OrderService;
use lambda_runtime::{LambdaEvent, service_fn};
use orders::config::{OrdersConfig, sqs_client};
use queue::SqsNotificationQueue;
use storage::{DynamoCatalog, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    http_api::logging::init();
    let table_name = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    // Set by Lambda; names the metrics' dimension (reconciler::metrics).
    let function_name: Arc<str> = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "reconciler".to_owned())
        .into();
    let config = OrdersConfig::from_env()?;
    let table = DynamoCatalog::new(http_api::config::dynamodb_client().await, table_name);
    let service = Arc::new(OrderService::new(
        DynamoOrders::new(table),
        SqsNotificationQueue::new(sqs_client().await, config.queue_url),
        config.vat,
        config.hand_off,
    ));
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let service = service.clone();
        let function_name = function_name.clone();
        async move {
            let report = reconciler::run(&service)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            // An EMF document must be a line of its own on stdout, not a tracing event.
            println!(
                "{}",
                reconciler::metrics::emf_line(&function_name, &report, SystemTime::now())
            );
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(report)
        }
    }))
    .await
}
