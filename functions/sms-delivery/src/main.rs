//! Lambda entrypoint of Africa's Talking's SMS delivery reports: wiring only.

use std::sync::Arc;

use bootstrap::{Aws, Env};
use domain::notification::DeliveryReports;
use http_api::CallbackGuard;
use sms_delivery::Reports;
use storage::DynamoOrders;

#[tokio::main]
async fn main() -> Result<(), bootstrap::Error> {
    bootstrap::logging::init();
    let env = Env::process();
    let table = env.required("TABLE_NAME")?;
    let token = env.callback_token("SMS_DELIVERY_TOKEN")?;
    let aws = Aws::load()?;
    let reports = Reports {
        service: DeliveryReports::new(DynamoOrders::new(aws.dynamodb(), table)),
        guard: CallbackGuard::new(token, Vec::new()),
    };
    bootstrap::run_http(sms_delivery::router(Arc::new(reports))).await
}
