//! The AWS SDK configuration, loaded once at cold start; every client of the function is
//! built from it and shares its HTTP connector and credentials.
//!
//! Invariants: init does only what every invocation needs. Credentials and region are
//! read from the environment Lambda sets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`), not probed through the whole default chain (which
//! builds an STS client for web identity, and with it a TLS connector); TLS trusts only
//! the Amazon Trust Services roots that AWS endpoints chain to, compiled in, instead of
//! reading every file under /etc/ssl/certs; every call is bounded by [`timeouts`].
//! Locally `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`) point the clients at the
//! emulators, over plain HTTP.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

/// Amazon Root CA 1–4 and Starfield Services Root CA G2: the roots of every AWS service
/// endpoint's certificate (Amazon Trust Services).
const AMAZON_TRUST_SERVICES: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

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

/// The HTTP client could not be set up (a bug: the roots are compiled in).
#[derive(Debug, thiserror::Error)]
#[error("setting up the AWS HTTP client: {0}")]
pub struct HttpClientError(String);

impl Aws {
    /// Reads credentials, region and endpoint overrides from the environment, once.
    pub async fn load() -> Result<Self, HttpClientError> {
        let trust = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AMAZON_TRUST_SERVICES);
        let tls_context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|e| HttpClientError(e.to_string()))?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(tls_context)
            .build_https();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .credentials_provider(EnvironmentVariableCredentialsProvider::new())
            .region(EnvironmentVariableRegionProvider::new())
            .http_client(http_client)
            .timeout_config(timeouts())
            .load()
            .await;
        Ok(Self(config))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_store_holds_the_five_amazon_trust_services_roots() {
        let pem = std::str::from_utf8(AMAZON_TRUST_SERVICES).expect("PEM is text");
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
    }
}
