//! Lambda entrypoint of the auth route area: wiring only.

use std::sync::Arc;

use auth::config::AuthConfig;
use auth::{Auth, admin_list};
use bootstrap::{Aws, Env};
use http_api::AppState;
use oidc::OidcClient;
use storage::DynamoCustomers;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let config = AuthConfig::from_env(&Env::process())?;
    let store = DynamoCustomers::new(Aws::load()?.dynamodb(), config.table_name.as_str());
    let verifier = config.verifier();
    bootstrap::run_http(auth::router(AppState {
        services: Auth {
            store,
            oidc: Arc::new(OidcClient::lazy(config.provider)),
            signer: Arc::new(config.keys.signer),
            jwks: Arc::new(config.keys.jwks),
            redirect_uris: config.redirect_uris.into(),
            admin_emails: admin_list(&config.admin_emails),
        },
        verifier,
    }))
    .await
}
