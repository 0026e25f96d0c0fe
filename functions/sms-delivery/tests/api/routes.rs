//! The function's routes are declared the same way everywhere it is reached.

use storage::DynamoOrders;

#[test]
fn routes_match_template_yaml_and_the_local_router() {
    let routes = sms_delivery::routes::<DynamoOrders>();
    testkit::routes::assert_declared("SmsDeliveryFunction", "sms-delivery", routes.routes());
}
