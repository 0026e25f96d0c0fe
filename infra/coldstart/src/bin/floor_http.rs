//! A step above the floor, to attribute init time: `lambda_http` serving a one-route axum
//! router, and nothing else.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(Router::new().fallback(get(|| async { "ok" }))).await
}
