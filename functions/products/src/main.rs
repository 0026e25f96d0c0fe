//! Lambda entrypoint of the products route area: wiring only.

use storage::DynamoCatalog;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    http_api::run_api(
        |aws, table| DynamoCatalog::new(aws.dynamodb(), table),
        products::router,
    )
    .await
}
