//! The notifications queue and its dead-letter queue on the local moto server, with the
//! redrive settings of template.yaml's `NotificationsQueue`.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml::Value;

use crate::KitError;
use crate::table::template_path;

/// An SQS client for the moto server at `endpoint`, with static test credentials.
pub fn local_sqs_client(endpoint: &str) -> Client {
    Client::new(&crate::local_aws_config(endpoint))
}

/// Redrive settings of the notifications queue, as template.yaml declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    pub visibility_timeout: u32,
    pub max_receive_count: u32,
}

impl QueueSettings {
    /// Reads `Resources.NotificationsQueue` of the repository's template.yaml.
    pub fn from_repository() -> Result<Self, KitError> {
        let path = template_path();
        let yaml = std::fs::read_to_string(&path)
            .map_err(|e| KitError::Template(format!("{}: {e}", path.display())))?;
        let template: Value =
            serde_yaml::from_str(&yaml).map_err(|e| KitError::Template(e.to_string()))?;
        let props = &template["Resources"]["NotificationsQueue"]["Properties"];
        let number = |value: &Value, what: &str| {
            value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| KitError::Template(format!("NotificationsQueue: no {what}")))
        };
        Ok(Self {
            visibility_timeout: number(&props["VisibilityTimeout"], "VisibilityTimeout")?,
            max_receive_count: number(
                &props["RedrivePolicy"]["maxReceiveCount"],
                "RedrivePolicy.maxReceiveCount",
            )?,
        })
    }
}

/// URLs of a notifications queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct Queues {
    pub notifications: String,
    pub dead_letters: String,
}

fn sqs_err(err: impl std::error::Error) -> KitError {
    KitError::Other(format!("SQS: {err}"))
}

/// Creates (or finds) `<name>` and `<name>-dlq`, the first redriving to the second.
/// The ARN of the queue at `url`.
pub async fn queue_arn(client: &Client, url: &str) -> Result<String, KitError> {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sqs_err(e.into_service_error()))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| KitError::Other(format!("SQS: queue {url} has no ARN")))
}

pub async fn ensure_queues(
    client: &Client,
    name: &str,
    settings: QueueSettings,
) -> Result<Queues, KitError> {
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(|e| sqs_err(e.into_service_error()))?
        .queue_url
        .ok_or_else(|| KitError::Other("SQS: no dead-letter queue URL".into()))?;
    let dlq_arn = queue_arn(client, &dlq).await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": settings.max_receive_count,
    })
    .to_string();
    let notifications = client
        .create_queue()
        .queue_name(name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            settings.visibility_timeout.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(|e| sqs_err(e.into_service_error()))?
        .queue_url
        .ok_or_else(|| KitError::Other("SQS: no queue URL".into()))?;
    Ok(Queues {
        notifications,
        dead_letters: dlq,
    })
}

/// Receives every message now visible on `queue_url` (deleting them), bodies only.
pub async fn drain(client: &Client, queue_url: &str) -> Result<Vec<String>, KitError> {
    let mut bodies = Vec::new();
    loop {
        let output = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| sqs_err(e.into_service_error()))?;
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(bodies);
        }
        for message in messages {
            if let Some(receipt) = message.receipt_handle() {
                client
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(|e| sqs_err(e.into_service_error()))?;
            }
            bodies.extend(message.body);
        }
    }
}
