//! The floor of the cold-start comparison: a `lambda_runtime` function that answers its
//! event with itself and does nothing at init. Built with the same profile as ours, its
//! init is what any Rust function on this runtime pays.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
