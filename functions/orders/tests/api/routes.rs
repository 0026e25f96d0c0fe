//! The function's routes are declared the same way everywhere it is reached.

#[test]
fn routes_match_template_yaml_and_the_local_router() {
    let routes = orders::routes::<
        storage::DynamoOrders,
        queue::SqsNotificationQueue,
        storage::DynamoPayments,
        mpesa::DarajaGateway,
    >();
    testkit::routes::assert_declared("OrdersFunction", "orders", routes.routes());
}
