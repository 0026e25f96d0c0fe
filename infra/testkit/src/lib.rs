//! What the tests of every function link: a world of their own on the local emulators and
//! the means to drive the real handlers. Never deployed; `devstack` (the local stack of
//! `make dev`) builds on the same pieces.
//!
//! - [`env`]: a fresh table on DynamoDB Local per test, with tokens, request counting,
//!   table snapshots, and a function's router ready to call ([`env::TestApp`]).
//! - [`events`]: real API Gateway v2 (HTTP API) events sent through a function's router.
//! - [`table`]: the DynamoDB table, created from `template.yaml` (the one definition).
//! - [`queues`]: the notifications queue and its dead-letter queue, as template.yaml has them.
//! - [`email`]: SES on the local emulator: the sender identity and the emails sent.
//! - [`keys`]: ES256 key pairs and access tokens for local use.
//! - [`oidc`]: a scriptable stand-in for a misbehaving OpenID provider, and token helpers.
//! - [`routes`]: the routes declared in template.yaml, openapi.yaml and Cargo.toml (parity).
//! - [`callbacks`]: a recorder of callbacks on 127.0.0.1 that keeps every body it gets
//!   and answers as its test tells it (the shop's M-Pesa callback URLs, say), and the
//!   bounded polling tests wait with ([`callbacks::poll`]).
//! - [`logs`]: log lines captured by a subscriber scoped to the test's thread.
//! - [`outage`]: a forwarder in front of the local emulator that a test cuts and restores.
//! - [`contention`]: a forwarder in front of the local DynamoDB that cancels transactions
//!   with `TransactionConflict`, as a concurrent writer in DynamoDB would.
//!
//! Invariant: every AWS client built here points at a local endpoint with static test
//! credentials ([`local_aws_config`]); none can reach a real AWS account.

pub mod callbacks;
pub mod contention;
pub mod email;
pub mod env;
pub mod events;
pub mod keys;
pub mod logs;
pub mod oidc;
pub mod outage;
pub mod queues;
pub mod routes;
pub mod table;

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
            "test", "test", None, None, "testkit",
        )))
        .build()
}

/// Everything that can go wrong in the kit.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// template.yaml cannot be read or does not declare what the kit reads from it.
    #[error("template.yaml: {0}")]
    Template(String),
    /// The local DynamoDB refused or failed a request.
    #[error("DynamoDB: {0}")]
    Dynamo(String),
    /// Any other local service or file.
    #[error("{0}")]
    Other(String),
}

impl KitError {
    pub(crate) fn dynamo(err: impl std::error::Error) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        KitError::Dynamo(message)
    }
}
