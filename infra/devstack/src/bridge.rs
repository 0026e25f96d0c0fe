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

use std::collections::HashSet;
use std::time::Duration;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::StackError;

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
    ) -> Result<Self, StackError> {
        if !(1..=10).contains(&options.batch_size) {
            return Err(StackError::Other(format!(
                "batch size {} is not between 1 and 10",
                options.batch_size
            )));
        }
        if !(0..=20).contains(&options.wait_seconds) {
            return Err(StackError::Other(format!(
                "wait of {} s is not between 0 and 20",
                options.wait_seconds
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(INVOKE_TIMEOUT)
            .build()
            .map_err(|e| StackError::Other(format!("HTTP client: {e}")))?;
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
    async fn queue_arn(&self) -> Result<&str, StackError> {
        self.queue_arn
            .get_or_try_init(|| testkit::queues::queue_arn(&self.sqs, &self.queue_url))
            .await
            .map(String::as_str)
            .map_err(StackError::from)
    }

    /// The queue's name, for logs.
    fn queue_name(&self) -> &str {
        self.queue_url.rsplit('/').next().unwrap_or(&self.queue_url)
    }

    /// One receive, one invocation with what it got (if anything), and the deletes its
    /// answer calls for. An unreachable function is an error (nothing is deleted); a
    /// function that failed, in whole or in part, is not: see [`BatchReport::failed`].
    pub async fn poll_once(&self) -> Result<BatchReport, StackError> {
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

fn sqs_err<E>(err: E) -> StackError
where
    E: std::error::Error + 'static,
{
    StackError::Other(format!("SQS: {}", DisplayErrorContext(&err)))
}

fn invoke_err(url: &str, err: reqwest::Error) -> StackError {
    let mut message = format!("invoking {url}: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    StackError::Other(message)
}

/// The function's answer read as the event source mapping reads it: `Ok` with the ids
/// of the messages it reported failed (none: all succeeded), or `Err` with why the whole
/// batch counts as failed. An empty body, `null`, and an object whose `batchItemFailures`
/// is absent or `null` are Lambda's ways of saying that every message succeeded; anything
/// else must read as an [`SqsBatchResponse`] naming messages of the batch.
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
    match &answer {
        Value::Null => return Ok(HashSet::new()),
        Value::Object(fields) if fields.get("batchItemFailures").is_none_or(Value::is_null) => {
            return Ok(HashSet::new());
        }
        Value::Object(_) => {}
        _ => return Err("the answer is not a batch response object".into()),
    }
    let response: SqsBatchResponse = serde_json::from_value(answer)
        .map_err(|e| format!("the answer is not a batch response: {e}"))?;
    let mut failed = HashSet::new();
    for failure in &response.batch_item_failures {
        if failure.item_identifier.is_empty() {
            return Err("a batch item failure has an empty itemIdentifier".into());
        }
        let id = batch
            .get(failure.item_identifier.as_str())
            .ok_or_else(|| "an itemIdentifier is not a message of the batch".to_owned())?;
        failed.insert(*id);
    }
    Ok(failed)
}

/// The Lambda SQS event for `messages` received from the queue `queue_arn`, as AWS builds
/// it: one record per message with its id, receipt handle, body, system attributes,
/// message attributes (binary values in base64), MD5 digests, `aws:sqs` as the source,
/// the queue's ARN and its region.
pub fn sqs_event(messages: &[Message], queue_arn: &str) -> SqsEvent {
    // arn:aws:sqs:<region>:<account>:<name>
    let region = queue_arn.split(':').nth(3).unwrap_or("us-east-1");
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id.clone();
            record.receipt_handle = message.receipt_handle.clone();
            record.body = message.body.clone();
            record.md5_of_body = message.md5_of_body.clone();
            record.md5_of_message_attributes = message.md5_of_message_attributes.clone();
            record.attributes = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                .collect();
            record.message_attributes = message
                .message_attributes()
                .into_iter()
                .flatten()
                .map(|(name, value)| (name.clone(), lambda_message_attribute(value)))
                .collect();
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some(queue_arn.into());
            record.aws_region = Some(region.into());
            record
        })
        .collect();
    event
}

/// A message attribute as the event carries it.
fn lambda_message_attribute(value: &MessageAttributeValue) -> SqsMessageAttribute {
    let base64 = |bytes: &[u8]| {
        let mut data = Base64Data::default();
        data.extend_from_slice(bytes);
        data
    };
    let mut attribute = SqsMessageAttribute::default();
    attribute.string_value = value.string_value.clone();
    attribute.binary_value = value.binary_value().map(|b| base64(b.as_ref()));
    attribute.string_list_values = value.string_list_values().to_vec();
    attribute.binary_list_values = value
        .binary_list_values()
        .iter()
        .map(|b| base64(b.as_ref()))
        .collect();
    attribute.data_type = Some(value.data_type().to_owned());
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
            .message_attributes(
                "blob",
                MessageAttributeValue::builder()
                    .data_type("Binary")
                    .binary_value(aws_sdk_sqs::primitives::Blob::new(b"\x00\xff".to_vec()))
                    .build()
                    .expect("attribute"),
            )
            .md5_of_message_attributes("fedcba9876543210fedcba9876543210")
            .build();
        let event = sqs_event(
            &[message],
            "arn:aws:sqs:eu-west-1:123456789012:dev-notifications",
        );
        let json = serde_json::to_value(&event).expect("serialises");
        let record = &json["Records"][0];
        for (field, value) in [
            ("messageId", "m-1"),
            ("receiptHandle", "rh-1"),
            ("body", r#"{"order_id":"01J"}"#),
            ("md5OfBody", "0123456789abcdef0123456789abcdef"),
            ("md5OfMessageAttributes", "fedcba9876543210fedcba9876543210"),
            ("eventSource", "aws:sqs"),
            (
                "eventSourceARN",
                "arn:aws:sqs:eu-west-1:123456789012:dev-notifications",
            ),
            ("awsRegion", "eu-west-1"),
        ] {
            assert_eq!(record[field], value, "{field}");
        }
        assert_eq!(
            record["attributes"],
            serde_json::json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"})
        );
        let kind = &record["messageAttributes"]["kind"];
        assert_eq!(kind["stringValue"], "order.confirmed");
        assert_eq!(kind["dataType"], "String");
        assert_eq!(record["messageAttributes"]["blob"]["binaryValue"], "AP8=");
        // What a function reads is what was sent.
        let read: SqsEvent = serde_json::from_value(json).expect("reads back");
        assert_eq!(read, event);
    }

    #[test]
    fn options_out_of_range_are_refused() {
        let sqs = testkit::queues::local_sqs_client("http://127.0.0.1:1");
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
