//! Lambda entrypoint of the customer route area: wiring only.

use http_api::{AppState, Config};
use storage::DynamoCustomers;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http_api::logging::init();
    let config = Config::from_env()?;
    let store = DynamoCustomers::new(http_api::config::dynamodb_client().await, config.table_name);
    let app = customers::router(AppState {
        store,
        verifier: config.verifier,
    });
    lambda_http::run(app).await
}
