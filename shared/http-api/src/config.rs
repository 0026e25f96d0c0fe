//! What every API function reads at cold start besides its own settings: the table, the
//! verifier of our access tokens and how long the change history is kept.
//!
//! | variable | meaning |
//! |---|---|
//! | `TABLE_NAME` | the DynamoDB table |
//! | `JWT_PUBLIC_JWKS`, `JWT_ISSUER`, `JWT_AUDIENCE` | what verifies access tokens |
//! | `AUDIT_RETENTION_DAYS` | days a history entry is kept before DynamoDB's TTL removes it (1–3650, default 400) |

use std::sync::Arc;

use bootstrap::{Aws, ConfigError, Env};
use domain::audit::Retention;

use crate::auth::TokenVerifier;
use crate::routing::AppState;

/// Configuration shared by the API functions.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// Verifier of access tokens (`JWT_PUBLIC_JWKS`, `JWT_ISSUER`, `JWT_AUDIENCE`).
    pub verifier: Arc<TokenVerifier>,
    /// How long history entries are kept (`AUDIT_RETENTION_DAYS`).
    pub audit_retention: Retention,
}

impl ApiConfig {
    /// Reads the configuration from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let verifier = TokenVerifier::from_jwks(
            &env.required("JWT_PUBLIC_JWKS")?,
            &env.required("JWT_ISSUER")?,
            &env.required("JWT_AUDIENCE")?,
        )
        .map_err(|e| ConfigError::Invalid("JWT_PUBLIC_JWKS", e.to_string()))?;
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            verifier: Arc::new(verifier),
            audit_retention: bootstrap::history::retention(env)?,
        })
    }
}

/// The whole cold start of an API function whose handlers need only a store on the table:
/// JSON logs, [`ApiConfig`] from the environment, the store built by `store` from the AWS
/// configuration and the function's configuration, and `router` served until the runtime
/// stops.
pub async fn run_api<S>(
    store: impl FnOnce(&Aws, &ApiConfig) -> S,
    router: impl FnOnce(AppState<S>) -> axum::Router,
) -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let config = ApiConfig::from_env(&Env::process())?;
    let services = store(&Aws::load()?, &config);
    bootstrap::run_http(router(AppState {
        services,
        verifier: config.verifier,
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_variable_that_is_missing_or_wrong() {
        assert_eq!(
            ApiConfig::from_env(&Env::from_pairs([("JWT_ISSUER", "i")])).expect_err("missing"),
            ConfigError::Missing("JWT_PUBLIC_JWKS")
        );
        let not_a_set = Env::from_pairs([
            ("JWT_PUBLIC_JWKS", "{}"),
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("TABLE_NAME", "t"),
        ]);
        assert!(matches!(
            ApiConfig::from_env(&not_a_set),
            Err(ConfigError::Invalid("JWT_PUBLIC_JWKS", _))
        ));
    }
}
