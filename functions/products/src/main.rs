//! Lambda entrypoint of the products route area: wiring only.

use http_api::{AppState, Config};
use storage::DynamoCatalog;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http_api::logging::init();
    let config = Config::from_env()?;
    let store = DynamoCatalog::new(http_api::config::dynamodb_client().await, config.table_name);
    let app = products::router(AppState {
        store,
        verifier: config.verifier,
    });
    lambda_http::run(app).await
}
