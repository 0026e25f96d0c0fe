//! The function's routes are declared the same way everywhere it is reached.

#[test]
fn routes_match_template_yaml_and_the_local_router() {
    let routes = categories::routes::<storage::DynamoCatalog>();
    testkit::routes::assert_declared("CategoriesFunction", "categories", routes.routes());
}
