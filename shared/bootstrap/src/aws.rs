//! The AWS SDK configuration, loaded once at cold start; every client of the function is
//! built from it and shares its HTTP connector and credentials.
//!
//! Invariants: init does only what every invocation needs. Credentials and region are
//! read from the environment Lambda sets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`), not probed through the whole default chain (which
//! builds an STS client for web identity, and with it a TLS connector); TLS trusts only
//! the Amazon Trust Services roots that AWS endpoints chain to, compiled in, instead of
//! reading every file under /etc/ssl/certs; the configuration is built directly, not
//! through `aws_config`'s loader (which reads shared config files and probes a dozen
//! settings: 0.17 ms of init and 1.3 MB of binary, measured with `make bench`'s probe);
//! every call is bounded by [`timeouts`].
//! Locally `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`) point the clients at the
//! emulators, over plain HTTP.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;
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
pub struct Aws {
    config: SdkConfig,
    /// `AWS_ENDPOINT_URL_DYNAMODB`: the table's own emulator, locally.
    dynamodb_endpoint: Option<String>,
}

/// The HTTP client could not be set up (a bug: the roots are compiled in).
#[derive(Debug, thiserror::Error)]
#[error("setting up the AWS HTTP client: {0}")]
pub struct HttpClientError(String);

impl Aws {
    /// Reads credentials, region and endpoint overrides from the environment, once.
    pub fn load() -> Result<Self, HttpClientError> {
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
        // Built directly rather than through `aws_config::defaults(..).load()`, which also
        // reads shared config files and probes a dozen settings a function never sets.
        let mut config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(
                EnvironmentVariableCredentialsProvider::new(),
            ))
            .http_client(http_client)
            .timeout_config(timeouts())
            .retry_config(RetryConfig::standard());
        config.set_sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep());
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        config.set_region(
            var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .map(Region::new),
        );
        config.set_endpoint_url(var("AWS_ENDPOINT_URL"));
        Ok(Self {
            config: config.build(),
            dynamodb_endpoint: var("AWS_ENDPOINT_URL_DYNAMODB"),
        })
    }

    /// A DynamoDB client.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let mut config = aws_sdk_dynamodb::config::Builder::from(&self.config);
        if let Some(endpoint) = &self.dynamodb_endpoint {
            config = config.endpoint_url(endpoint);
        }
        aws_sdk_dynamodb::Client::from_conf(config.build())
    }

    /// An SQS client.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// An SES v2 client.
    pub fn ses(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.config)
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
