//! Two steps above the floor, to attribute init time: what every API function does at
//! init apart from its own configuration — JSON logs, the AWS configuration
//! (`bootstrap::Aws`) and a DynamoDB client — then `lambda_http` with a one-route router.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    bootstrap::logging::init();
    let dynamodb = bootstrap::Aws::load()?.dynamodb();
    let router = Router::new().fallback(get(move || {
        let _client = dynamodb.clone();
        async { "ok" }
    }));
    lambda_http::run(router).await
}
