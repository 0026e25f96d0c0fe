//! Lambda entrypoint of the reconciler: wiring only. Invoked by its schedule (any event:
//! the everyday run), or once after a deploy with `{"run": "upgrades"}` (the one-off
//! upgrades); locally `cargo lambda watch` serves it at
//! `POST :9000/2015-03-31/functions/reconciler/invocations`.

use std::sync::Arc;
use std::time::SystemTime;

use bootstrap::orders::OrdersConfig;
use bootstrap::payments::MpesaConfig;
use bootstrap::{Aws, Env};
use domain::order::OrderService;
use domain::payment_use_cases::PaymentService;
use queue::SqsNotificationQueue;
use storage::{DynamoCatalog, DynamoOrders, DynamoPayments, Table};

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let env = Env::process();
    let table_name = env.required("TABLE_NAME")?;
    let config = OrdersConfig::from_env(&env)?;
    let mpesa = MpesaConfig::from_env(&env)?;
    let audit_retention = bootstrap::history::retention(&env)?;
    // Set by Lambda; names the metrics' dimension (reconciler::metrics).
    let function_name: Arc<str> = env
        .optional("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|| "reconciler".to_owned())
        .into();
    let aws = Aws::load()?;
    let dynamodb = aws.dynamodb();
    let orders = DynamoOrders::new(dynamodb.clone(), table_name.clone());
    let catalog = DynamoCatalog::new(dynamodb.clone(), table_name.clone());
    let queue = SqsNotificationQueue::new(aws.sqs(), config.queue_url);
    let service = Arc::new(OrderService::new(
        orders.clone(),
        queue.clone(),
        config.vat,
        config.hand_off,
    ));
    let payments = Arc::new(PaymentService::new(
        DynamoPayments::new(Table::new(dynamodb, table_name).with_audit_retention(audit_retention)),
        mpesa.gateway()?,
        queue,
        config.hand_off.grace,
    ));
    bootstrap::run_events(move |event: serde_json::Value| {
        let (service, orders, catalog) = (service.clone(), orders.clone(), catalog.clone());
        let (payments, function_name) = (payments.clone(), function_name.clone());
        Box::pin(async move {
            if reconciler::asks_for_upgrades(&event) {
                let report = reconciler::upgrades::run(&orders, &catalog).await?;
                return Ok(serde_json::to_value(report)?);
            }
            let report = reconciler::run(&service).await?;
            // Its own failures are logged: they never hold up the re-sends' report.
            let swept = reconciler::sweep_payments(&payments).await;
            // An EMF document must be a line of its own on stdout, not a tracing event.
            println!(
                "{}",
                reconciler::metrics::emf_line(&function_name, &report, SystemTime::now())
            );
            Ok(serde_json::to_value(reconciler::Invocation {
                hand_offs: report,
                payments: swept,
            })?)
        })
    })
    .await
}
