//! Lambda entrypoint of the change-history route area: wiring only.

use storage::DynamoCatalog;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    http_api::run_api(
        |aws, config| DynamoCatalog::new(aws.dynamodb(), config.table_name.as_str()),
        audit::router,
    )
    .await
}
