//! The AWS SDK configuration (region, credentials, and locally `AWS_ENDPOINT_URL`), loaded
//! once at cold start; every client of the function is built from it and shares its HTTP
//! connector and credentials cache.

use aws_config::{BehaviorVersion, SdkConfig};

/// The function's AWS configuration.
#[derive(Debug, Clone)]
pub struct Aws(SdkConfig);

impl Aws {
    /// Resolves the standard configuration chain once.
    pub async fn load() -> Self {
        Self(aws_config::load_defaults(BehaviorVersion::latest()).await)
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
