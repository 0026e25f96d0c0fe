//! Lambda entrypoint of the customer route area: wiring only.

use bootstrap::{Aws, Env};
use http_api::{ApiConfig, AppState};
use storage::DynamoCustomers;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let config = ApiConfig::from_env(&Env::process())?;
    let store = DynamoCustomers::new(Aws::load().await.dynamodb(), config.table_name);
    bootstrap::run_http(customers::router(AppState {
        services: store,
        verifier: config.verifier,
    }))
    .await
}
