//! Lambda entrypoint of the customer route area: wiring only.

use storage::DynamoCustomers;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    http_api::run_api(
        |aws, table| DynamoCustomers::new(aws.dynamodb(), table),
        customers::router,
    )
    .await
}
