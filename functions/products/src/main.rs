//! Lambda entrypoint of the products route area: wiring only.

use bootstrap::{Aws, Env};
use http_api::{ApiConfig, AppState};
use storage::DynamoCatalog;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let config = ApiConfig::from_env(&Env::process())?;
    let store = DynamoCatalog::new(Aws::load().await.dynamodb(), config.table_name);
    bootstrap::run_http(products::router(AppState {
        services: store,
        verifier: config.verifier,
    }))
    .await
}
