//! Typed configuration, read once from the environment at cold start.

use std::sync::Arc;

use crate::auth::{KeyConfigError, TokenVerifier};

/// Why the environment does not configure the function.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("JWT_PUBLIC_JWKS: {0}")]
    Keys(#[from] KeyConfigError),
}

/// Configuration shared by the catalog functions.
#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// Verifier of access tokens (`JWT_PUBLIC_JWKS`, `JWT_ISSUER`, `JWT_AUDIENCE`).
    pub verifier: Arc<TokenVerifier>,
}

fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let verifier = TokenVerifier::from_jwks(
            &required("JWT_PUBLIC_JWKS")?,
            &required("JWT_ISSUER")?,
            &required("JWT_AUDIENCE")?,
        )?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            verifier: Arc::new(verifier),
        })
    }
}

/// A DynamoDB client from the standard AWS configuration chain (region, credentials and,
/// locally, `AWS_ENDPOINT_URL`).
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_dynamodb::Client::new(&config)
}
