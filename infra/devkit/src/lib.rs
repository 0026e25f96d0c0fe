//! Local stack and test kit. Used by `make dev` (through the `devkit` binary) and by the
//! integration tests of every function; never deployed.
//!
//! - [`table`]: the DynamoDB table, created from `template.yaml` (the one definition).
//! - [`keys`]: ES256 key pairs and access tokens for local use.
//! - [`events`]: real API Gateway v2 (HTTP API) events sent through a function's router.
//! - [`gateway`]: a local stand-in for API Gateway in front of `cargo lambda watch` (fuzzing).
//! - [`testing`]: a fresh table on the local moto server, with tokens, per test.
//! - [`email`]: SES on the local emulator: the sender identity and the emails sent.
//! - [`queues`]: the notifications queue and its dead-letter queue.
//! - [`seed`]: a small demo catalog.
//! - [`oidc`]: the local OpenID provider (a real one, started by the scripts) and a
//!   scriptable stand-in for a misbehaving provider.
//! - [`outage`]: a forwarder in front of the local emulator that a test cuts and restores.
//! - [`sms_sandbox`]: a local stand-in for Africa's Talking's SMS API that keeps what it
//!   accepts.
//! - [`contention`]: a forwarder in front of the local DynamoDB that cancels transactions
//!   with `TransactionConflict`, as a concurrent writer in DynamoDB would.
//! - [`bridge`]: the queue bridge, standing in for Lambda's SQS event source mapping
//!   (with `ReportBatchItemFailures`) between the local queue and a function.

pub mod bridge;
pub mod contention;
pub mod email;
pub mod events;
pub mod gateway;
pub mod keys;
pub mod oidc;
pub mod outage;
pub mod queues;
pub mod routes;
pub mod seed;
pub mod sms_sandbox;
pub mod table;
pub mod testing;
pub mod wire;
pub mod writes;

/// The AWS configuration of the local emulator at `endpoint`: its URL, a fixed region and
/// static test credentials. Every local client (DynamoDB, SQS, SES) is built from it, so
/// none can reach a real AWS account.
pub fn local_aws_config(endpoint: &str) -> aws_config::SdkConfig {
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, Credentials, Region, SharedCredentialsProvider,
    };
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "devkit",
        )))
        .build()
}

/// Everything that can go wrong in the kit.
#[derive(Debug, thiserror::Error)]
pub enum DevkitError {
    #[error("template.yaml: {0}")]
    Template(String),
    #[error("DynamoDB: {0}")]
    Dynamo(String),
    #[error("{0}")]
    Other(String),
}

impl DevkitError {
    pub(crate) fn dynamo(err: impl std::error::Error) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        DevkitError::Dynamo(message)
    }
}
