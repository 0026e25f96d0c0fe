//! Lambda entrypoint of the categories route area: wiring only.

use storage::DynamoCatalog;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    http_api::run_api(
        |aws, config| {
            DynamoCatalog::new(aws.dynamodb(), config.table_name.as_str())
                .with_audit_retention(config.audit_retention)
        },
        categories::router,
    )
    .await
}
