//! The function's routes are declared the same way everywhere it is reached.

#[test]
fn routes_match_template_yaml_and_the_local_router() {
    let routes = customers::routes::<storage::DynamoCustomers>();
    testkit::routes::assert_declared("CustomersFunction", "customers", routes.routes());
}
