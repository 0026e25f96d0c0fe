//! Lambda entrypoint of the notifier: wiring only. Triggered by the notifications queue
//! (batches, `ReportBatchItemFailures`); locally devstack's queue bridge invokes it at
//! `POST :9000/2015-03-31/functions/notifier/invocations`.

use aws_lambda_events::event::sqs::SqsEvent;
use bootstrap::{Aws, Env};
use domain::notification::Notifier;
use messaging::{AfricasTalking, SesEmail};
use notifier::BatchHandler;
use notifier::config::NotifierConfig;
use queue::SqsNotificationQueue;
use storage::{DynamoCustomers, DynamoOrders};

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let config = NotifierConfig::from_env(&Env::process())?;
    let aws = Aws::load()?;
    let dynamodb = aws.dynamodb();
    let notifier = Notifier::new(
        DynamoOrders::new(dynamodb.clone(), config.table_name.as_str()),
        DynamoCustomers::new(dynamodb, config.table_name.as_str()),
        AfricasTalking::new(config.sms)?,
        SesEmail::new(
            aws.ses(),
            config.email_from,
            config.email_to,
            config.configuration_set,
        ),
        config.claim_lease,
    )
    .with_paybill(config.paybill);
    let queue = SqsNotificationQueue::new(aws.sqs(), config.queue_url);
    let handler = BatchHandler::new(notifier, queue, config.backoff);
    bootstrap::run_events(move |event: SqsEvent| {
        let handler = handler.clone();
        async move { Ok(handler.handle(event).await) }
    })
    .await
}
