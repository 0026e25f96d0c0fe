//! Two steps above the floor, to attribute init time: what every API function does at
//! init apart from its own configuration — JSON logs, the AWS configuration
//! (`bootstrap::Aws`) and a DynamoDB client — then `lambda_http` with a one-route router
//! whose answer makes one DynamoDB call (a `GetItem` of an item that does not exist in
//! `TABLE_NAME`), so a function's first response compares with the floor of the same work.

use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bootstrap::logging::init();
    let table = std::env::var("TABLE_NAME").unwrap_or_else(|_| "coldstart".to_owned());
    let dynamodb = bootstrap::Aws::load()?.dynamodb();
    let router = Router::new().fallback(get(move || {
        let (client, table) = (dynamodb.clone(), table.clone());
        async move {
            let key = AttributeValue::S("FLOOR#probe".to_owned());
            let read = client
                .get_item()
                .table_name(table)
                .key("PK", key.clone())
                .key("SK", key)
                .send()
                .await;
            match read {
                Ok(_) => (StatusCode::NOT_FOUND, "no such item"),
                Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the table did not answer"),
            }
        }
    }));
    lambda_http::run(router).await
}
