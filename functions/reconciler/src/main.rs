//! Lambda entrypoint of the reconciler: wiring only. Invoked by its schedule with any
//! event; locally `cargo lambda watch` serves it at
//! `POST :9000/2015-03-31/functions/reconciler/invocations`.

use std::sync::Arc;
use std::time::SystemTime;

use bootstrap::orders::OrdersConfig;
use bootstrap::{Aws, Env};
use domain::order::OrderService;
use queue::SqsNotificationQueue;
use storage::{DynamoCatalog, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let env = Env::process();
    let table_name = env.required("TABLE_NAME")?;
    let config = OrdersConfig::from_env(&env)?;
    // Set by Lambda; names the metrics' dimension (reconciler::metrics).
    let function_name: Arc<str> = env
        .optional("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|| "reconciler".to_owned())
        .into();
    let aws = Aws::load()?;
    let dynamodb = aws.dynamodb();
    let orders = DynamoOrders::new(dynamodb.clone(), table_name.clone());
    let catalog = DynamoCatalog::new(dynamodb, table_name);
    let service = Arc::new(OrderService::new(
        orders.clone(),
        SqsNotificationQueue::new(aws.sqs(), config.queue_url),
        config.vat,
        config.hand_off,
    ));
    bootstrap::run_events(move |_: serde_json::Value| {
        let (service, orders, catalog) = (service.clone(), orders.clone(), catalog.clone());
        let function_name = function_name.clone();
        async move {
            reconciler::file_unsharded(&orders).await?;
            let report = reconciler::run(&service).await?;
            // An EMF document must be a line of its own on stdout, not a tracing event.
            println!(
                "{}",
                reconciler::metrics::emf_line(&function_name, &report, SystemTime::now())
            );
            // After the re-sends, so that a failing upgrade step never holds them up.
            reconciler::file_failed_notifications(&orders).await?;
            reconciler::rekey_category_siblings(&catalog).await?;
            Ok(report)
        }
    })
    .await
}
