//! The function's routes are declared the same way everywhere it is reached.

use mpesa::DarajaGateway;
use queue::SqsNotificationQueue;
use storage::DynamoPayments;

#[test]
fn routes_match_template_yaml_and_the_local_router() {
    let routes = payments::routes::<DynamoPayments, DarajaGateway, SqsNotificationQueue>();
    testkit::routes::assert_declared("PaymentsFunction", "payments", routes.routes());
}
