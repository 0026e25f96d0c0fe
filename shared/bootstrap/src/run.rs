//! The two ways a function runs: an HTTP router behind API Gateway, or a handler of events
//! (SQS batches, schedules).

use std::future::Future;

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What a cold start or the runtime loop can fail with.
pub type Error = lambda_runtime::Error;

/// Serves `router` for API Gateway (HTTP API, payload 2.0) until the runtime stops.
pub async fn run_http(router: axum::Router) -> Result<(), Error> {
    lambda_http::run(router).await
}

/// Calls `handler` with each event's payload and answers with what it returns.
pub async fn run_events<E, R, F, Fut>(handler: F) -> Result<(), Error>
where
    E: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Error>> + Send + 'static,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<E>| {
        handler(event.payload)
    }))
    .await
}
