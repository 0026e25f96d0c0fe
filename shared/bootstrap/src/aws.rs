//! The AWS SDK configuration (region, credentials, and locally `AWS_ENDPOINT_URL`), loaded
//! once at cold start; every client of the function is built from it and shares its HTTP
//! connector and credentials cache.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Bounds on every AWS call, well inside the shortest function timeout (10 s): a
/// connection, one attempt, and the whole call with the SDK's retries (3 attempts with
/// backoff). A black-holed endpoint then ends as a 503 the client can retry, not as a
/// Lambda timeout.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(6))
        .build()
}

/// The function's AWS configuration.
#[derive(Debug, Clone)]
pub struct Aws(SdkConfig);

impl Aws {
    /// Resolves the standard configuration chain once.
    pub async fn load() -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts())
            .load()
            .await;
        Self(config)
    }

    /// A DynamoDB client.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.0)
    }

    /// An SQS client.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.0)
    }

    /// An SES v2 client.
    pub fn ses(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.0)
    }
}
