//! Lambda entrypoint of the notifier: wiring only. Triggered by the notifications queue
//! (batches, `ReportBatchItemFailures`); locally the devkit queue bridge invokes it at
//! `POST :9000/2015-03-31/functions/notifier/invocations`.

use aws_lambda_events::event::sqs::SqsEvent;
use domain::notification::Notifier;
use lambda_runtime::{LambdaEvent, service_fn};
use messaging::{AfricasTalking, SesEmail};
use notifier::BatchHandler;
use notifier::config::NotifierConfig;
use queue::SqsNotificationQueue;
use storage::{DynamoCatalog, DynamoCustomers, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    http_api::logging::init();
    let config = NotifierConfig::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let notifier = Notifier::new(
        DynamoOrders::new(DynamoCatalog::new(
            dynamodb.clone(),
            config.table_name.as_str(),
        )),
        DynamoCustomers::new(dynamodb, config.table_name.as_str()),
        AfricasTalking::new(config.sms)?,
        SesEmail::new(
            aws_sdk_sesv2::Client::new(&aws),
            config.email_from,
            config.email_to,
            config.configuration_set,
        ),
        config.claim_lease,
    );
    let queue = SqsNotificationQueue::new(aws_sdk_sqs::Client::new(&aws), config.queue_url);
    let handler = BatchHandler::new(notifier, queue, config.backoff);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let handler = handler.clone();
        async move { Ok::<_, lambda_runtime::Error>(handler.handle(event.payload).await) }
    }))
    .await
}
