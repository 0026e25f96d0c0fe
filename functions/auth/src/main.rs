//! Lambda entrypoint of the auth route area: wiring only.

use std::sync::Arc;

use auth::config::AuthConfig;
use auth::{Auth, admin_list};
use http_api::AppState;
use oidc::OidcClient;
use storage::DynamoCustomers;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http_api::logging::init();
    let config = AuthConfig::from_env()?;
    let store = DynamoCustomers::new(
        http_api::config::dynamodb_client().await,
        config.table_name.as_str(),
    );
    let verifier = config.verifier();
    let app = auth::router(AppState {
        store: Auth {
            store,
            oidc: Arc::new(OidcClient::new(config.provider, oidc::http_client()?)),
            signer: Arc::new(config.keys.signer),
            jwks: Arc::new(config.keys.jwks),
            redirect_uris: config.redirect_uris.into(),
            admin_emails: admin_list(&config.admin_emails),
        },
        verifier,
    });
    lambda_http::run(app).await
}
