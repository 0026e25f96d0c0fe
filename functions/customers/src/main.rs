//! Lambda entrypoint of the customer route area: wiring only.

use storage::DynamoCustomers;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    http_api::run_api(
        |aws, config| DynamoCustomers::new(aws.dynamodb(), config.table_name.as_str()),
        customers::router,
    )
    .await
}
