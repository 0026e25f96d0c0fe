//! A queue bridge for `make dev`: stands in for Lambda's SQS event source mapping with
//! `ReportBatchItemFailures`, between the local SQS (moto) and a function served by
//! `cargo lambda watch`. Dev only.
//!
//! Each [`Bridge::poll_once`] receives up to `batch_size` messages (with every system
//! attribute, so `ApproximateReceiveCount` comes along), sends them to the function's
//! invoke URL as the SQS event Lambda would send ([`sqs_event`]), and then does what the
//! event source mapping does with the answer:
//! - HTTP 2xx with an empty body, `null`, or an object whose `batchItemFailures` is
//!   absent, `null` or `[]`: every message succeeded and is deleted;
//! - HTTP 2xx with `{"batchItemFailures":[{"itemIdentifier":"<messageId>"}, ...]}`: the
//!   messages listed failed, every other one is deleted;
//! - anything else — a non-2xx status (cargo lambda answers 500 when the handler returns
//!   an error), a body that is not such JSON, an `itemIdentifier` that is missing, empty
//!   or not a message of the batch, or no answer at all: the whole batch failed.
//!
//! Invariants: a failed message is never deleted and its visibility is never changed, so
//! it comes back after the queue's visibility timeout and SQS's redrive policy moves it to
//! the dead-letter queue after `maxReceiveCount` receives, exactly as in AWS. Logs carry
//! message ids and counts only, never bodies nor the function's answers.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use crate::DevkitError;

/// Default largest batch (SQS's own maximum per receive).
pub const DEFAULT_BATCH_SIZE: i32 = 10;
/// Default long-poll wait. Zero, not Lambda's 20 s, so that stopping `make dev` never
/// waits on an open poll.
pub const DEFAULT_WAIT_SECONDS: i32 = 0;
/// Pause after an empty short poll (wait 0), so an idle bridge polls once a second.
const IDLE_PAUSE: Duration = Duration::from_secs(1);
/// Pause after a failed poll (SQS or the function unreachable).
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// Lambda's longest timeout: an invocation taking longer is abandoned (its messages come
/// back after their visibility timeout).
const INVOKE_TIMEOUT: Duration = Duration::from_secs(900);

/// How the bridge receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeOptions {
    /// Most messages per batch, 1 to 10.
    pub batch_size: i32,
    /// Long-poll wait of each receive, 0 to 20 seconds.
    pub wait_seconds: i32,
}

impl Default for BridgeOptions {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            wait_seconds: DEFAULT_WAIT_SECONDS,
        }
    }
}

/// What one [`Bridge::poll_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Messages received (and sent to the function).
    pub received: usize,
    /// Messages deleted from the queue.
    pub deleted: usize,
    /// Messages left on the queue: reported failed, or all of them when the batch failed.
    pub failed: usize,
}

/// One SQS queue feeding one function, as an event source mapping would.
#[derive(Debug)]
pub struct Bridge {
    sqs: Client,
    queue_url: String,
    invoke_url: String,
    http: reqwest::Client,
    options: BridgeOptions,
    queue_arn: OnceCell<String>,
}

impl Bridge {
    /// A bridge from `queue_url` to the function at `invoke_url` (for `cargo lambda
    /// watch`: `http://127.0.0.1:9000/2015-03-31/functions/<name>/invocations`).
    pub fn new(
        sqs: Client,
        queue_url: impl Into<String>,
        invoke_url: impl Into<String>,
        options: BridgeOptions,
    ) -> Result<Self, DevkitError> {
        if !(1..=10).contains(&options.batch_size) {
            return Err(DevkitError::Other(format!(
                "batch size {} is not between 1 and 10",
                options.batch_size
            )));
        }
        if !(0..=20).contains(&options.wait_seconds) {
            return Err(DevkitError::Other(format!(
                "wait of {} s is not between 0 and 20",
                options.wait_seconds
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(INVOKE_TIMEOUT)
            .build()
            .map_err(|e| DevkitError::Other(format!("HTTP client: {e}")))?;
        Ok(Self {
            sqs,
            queue_url: queue_url.into(),
            invoke_url: invoke_url.into(),
            http,
            options,
            queue_arn: OnceCell::new(),
        })
    }

    /// The queue's ARN, asked of SQS once.
    async fn queue_arn(&self) -> Result<&str, DevkitError> {
        self.queue_arn
            .get_or_try_init(|| crate::queues::queue_arn(&self.sqs, &self.queue_url))
            .await
            .map(String::as_str)
    }

    /// The queue's name, for logs.
    fn queue_name(&self) -> &str {
        self.queue_url.rsplit('/').next().unwrap_or(&self.queue_url)
    }

    /// One receive, one invocation with what it got (if anything), and the deletes its
    /// answer calls for. An unreachable function is an error (nothing is deleted); a
    /// function that failed, in whole or in part, is not: see [`BatchReport::failed`].
    pub async fn poll_once(&self) -> Result<BatchReport, DevkitError> {
        let messages = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.options.batch_size)
            .wait_time_seconds(self.options.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(sqs_err)?
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            return Ok(BatchReport::default());
        }
        let received = messages.len();
        let ids: Vec<&str> = messages
            .iter()
            .map(|m| m.message_id().unwrap_or(""))
            .collect();
        let event = sqs_event(&messages, self.queue_arn().await?);

        let response = self
            .http
            .post(&self.invoke_url)
            .json(&event)
            .send()
            .await
            .map_err(|e| invoke_err(&self.invoke_url, e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| invoke_err(&self.invoke_url, e))?;
        let batch: HashSet<&str> = ids.iter().copied().collect();
        let failed_ids = match outcome(status, &body, &batch) {
            Ok(failed) => failed,
            Err(reason) => {
                tracing::warn!(
                    queue = self.queue_name(),
                    message_ids = %ids.join(","),
                    reason = %reason,
                    "queue bridge: batch failed, nothing deleted"
                );
                return Ok(BatchReport {
                    received,
                    deleted: 0,
                    failed: received,
                });
            }
        };

        let entries = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed_ids.contains(m.message_id().unwrap_or("")))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        let deleted = if entries.is_empty() {
            0
        } else {
            let output = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(sqs_err)?;
            for failure in &output.failed {
                tracing::warn!(
                    queue = self.queue_name(),
                    entry = %failure.id,
                    code = %failure.code,
                    "queue bridge: delete failed"
                );
            }
            output.successful.len()
        };
        let mut failed: Vec<&str> = failed_ids.into_iter().collect();
        failed.sort_unstable();
        tracing::info!(
            queue = self.queue_name(),
            message_ids = %ids.join(","),
            received,
            deleted,
            failed_ids = %failed.join(","),
            "queue bridge: batch"
        );
        Ok(BatchReport {
            received,
            deleted,
            failed: failed.len(),
        })
    }

    /// Polls forever: after an error it logs and pauses a second; after an empty short
    /// poll it pauses a second too. Never returns.
    pub async fn run(&self) {
        tracing::info!(
            queue = self.queue_name(),
            invoke_url = %self.invoke_url,
            batch_size = self.options.batch_size,
            wait_seconds = self.options.wait_seconds,
            "queue bridge: polling"
        );
        loop {
            match self.poll_once().await {
                Ok(report) if report.received == 0 && self.options.wait_seconds == 0 => {
                    tokio::time::sleep(IDLE_PAUSE).await;
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::error!(queue = self.queue_name(), error = %err, "queue bridge: poll failed");
                    tokio::time::sleep(ERROR_PAUSE).await;
                }
            }
        }
    }
}

fn sqs_err<E>(err: E) -> DevkitError
where
    E: std::error::Error + 'static,
{
    DevkitError::Other(format!("SQS: {}", DisplayErrorContext(&err)))
}

fn invoke_err(url: &str, err: reqwest::Error) -> DevkitError {
    let mut message = format!("invoking {url}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    DevkitError::Other(message)
}

/// The function's answer read as the event source mapping reads it: `Ok` with the ids
/// of the messages it reported failed (none: all succeeded), or `Err` with why the whole
/// batch counts as failed.
fn outcome<'a>(
    status: u16,
    body: &[u8],
    batch: &HashSet<&'a str>,
) -> Result<HashSet<&'a str>, String> {
    if !(200..300).contains(&status) {
        return Err(format!("the function answered HTTP {status}"));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(HashSet::new());
    }
    let answer: Value =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
    let failures = match &answer {
        Value::Null => return Ok(HashSet::new()),
        Value::Object(fields) => match fields.get("batchItemFailures") {
            None | Some(Value::Null) => return Ok(HashSet::new()),
            Some(Value::Array(failures)) => failures,
            Some(_) => return Err("batchItemFailures is not a list".into()),
        },
        _ => return Err("the answer is not a batch response object".into()),
    };
    let mut failed = HashSet::new();
    for failure in failures {
        let id = failure
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| "a batch item failure has no itemIdentifier".to_owned())?;
        let id = batch
            .get(id)
            .ok_or_else(|| "an itemIdentifier is not a message of the batch".to_owned())?;
        failed.insert(*id);
    }
    Ok(failed)
}

/// The Lambda SQS event for `messages` received from the queue `queue_arn`, as AWS builds
/// it: `{"Records":[{"messageId", "receiptHandle", "body", "attributes",
/// "messageAttributes", "md5OfBody", "eventSource": "aws:sqs", "eventSourceARN",
/// "awsRegion"}]}` (plus `md5OfMessageAttributes` when a message has attributes).
pub fn sqs_event(messages: &[Message], queue_arn: &str) -> Value {
    // arn:aws:sqs:<region>:<account>:<name>
    let region = queue_arn.split(':').nth(3).unwrap_or("us-east-1");
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            let attributes: BTreeMap<&str, &str> = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            let message_attributes: Map<String, Value> = message
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.clone(), lambda_message_attribute(value)))
                .collect();
            let mut record = json!({
                "messageId": message.message_id(),
                "receiptHandle": message.receipt_handle(),
                "body": message.body(),
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": message.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            });
            if let (Some(md5), Some(fields)) =
                (message.md5_of_message_attributes(), record.as_object_mut())
            {
                fields.insert("md5OfMessageAttributes".into(), md5.into());
            }
            record
        })
        .collect();
    json!({ "Records": records })
}

/// A message attribute in the event's camel-case shape, binary values in base64.
fn lambda_message_attribute(value: &MessageAttributeValue) -> Value {
    let mut attribute = json!({
        "stringListValues": value.string_list_values(),
        "binaryListValues": value
            .binary_list_values()
            .iter()
            .map(|b| STANDARD.encode(b.as_ref()))
            .collect::<Vec<_>>(),
        "dataType": value.data_type(),
    });
    if let Some(fields) = attribute.as_object_mut() {
        if let Some(text) = value.string_value() {
            fields.insert("stringValue".into(), text.into());
        }
        if let Some(binary) = value.binary_value() {
            fields.insert(
                "binaryValue".into(),
                STANDARD.encode(binary.as_ref()).into(),
            );
        }
    }
    attribute
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> HashSet<&'static str> {
        ["m-1", "m-2", "m-3"].into_iter().collect()
    }

    fn read(status: u16, body: &str) -> Result<Vec<&'static str>, String> {
        let batch = batch();
        outcome(status, body.as_bytes(), &batch).map(|failed| {
            let mut failed: Vec<&'static str> = failed.into_iter().collect();
            failed.sort_unstable();
            failed
        })
    }

    #[test]
    fn empty_null_and_absent_failures_mean_every_message_succeeded() {
        for body in [
            "",
            "  ",
            "null",
            "{}",
            r#"{"batchItemFailures":null}"#,
            r#"{"batchItemFailures":[]}"#,
        ] {
            assert_eq!(read(200, body), Ok(vec![]), "{body:?}");
        }
        assert_eq!(read(202, ""), Ok(vec![]));
    }

    #[test]
    fn listed_identifiers_are_the_failed_messages() {
        assert_eq!(
            read(
                200,
                r#"{"batchItemFailures":[{"itemIdentifier":"m-3"},{"itemIdentifier":"m-1"}]}"#
            ),
            Ok(vec!["m-1", "m-3"])
        );
    }

    #[test]
    fn anything_else_fails_the_whole_batch() {
        for (status, body) in [
            (500, r#"{"errorType":"x","errorMessage":"y"}"#),
            (404, ""),
            (200, "ok"),
            (200, r#""ok""#),
            (200, "[]"),
            (200, r#"{"batchItemFailures":{}}"#),
            (200, r#"{"batchItemFailures":[{"itemIdentifier":"m-9"}]}"#),
            (200, r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#),
            (200, r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#),
            (200, r#"{"batchItemFailures":[{"id":"m-1"}]}"#),
            (200, r#"{"batchItemFailures":["m-1"]}"#),
        ] {
            assert!(read(status, body).is_err(), "{status} {body}");
        }
    }

    #[test]
    fn the_event_has_lambdas_shape() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("rh-1")
            .body(r#"{"order_id":"01J"}"#)
            .md5_of_body("0123456789abcdef0123456789abcdef")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1700000000000")
            .message_attributes(
                "kind",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("order.confirmed")
                    .build()
                    .expect("attribute"),
            )
            .md5_of_message_attributes("fedcba9876543210fedcba9876543210")
            .build();
        let event = sqs_event(
            &[message],
            "arn:aws:sqs:eu-west-1:123456789012:dev-notifications",
        );
        assert_eq!(
            event,
            json!({"Records": [{
                "messageId": "m-1",
                "receiptHandle": "rh-1",
                "body": r#"{"order_id":"01J"}"#,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "messageAttributes": {"kind": {
                    "stringValue": "order.confirmed",
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": "String",
                }},
                "md5OfBody": "0123456789abcdef0123456789abcdef",
                "md5OfMessageAttributes": "fedcba9876543210fedcba9876543210",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:dev-notifications",
                "awsRegion": "eu-west-1",
            }]})
        );
    }

    #[test]
    fn options_out_of_range_are_refused() {
        let sqs = crate::queues::local_sqs_client("http://127.0.0.1:1");
        for options in [
            BridgeOptions {
                batch_size: 0,
                wait_seconds: 0,
            },
            BridgeOptions {
                batch_size: 11,
                wait_seconds: 0,
            },
            BridgeOptions {
                batch_size: 10,
                wait_seconds: 21,
            },
        ] {
            assert!(Bridge::new(sqs.clone(), "q", "http://f", options).is_err());
        }
        assert!(Bridge::new(sqs, "q", "http://f", BridgeOptions::default()).is_ok());
    }
}
