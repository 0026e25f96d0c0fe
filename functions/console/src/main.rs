//! Lambda entrypoint of the back-office console: wiring only (no configuration, no AWS
//! client: the app is compiled in).

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    bootstrap::run_http(console::router()).await
}
