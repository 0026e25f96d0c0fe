//! The demo customers of `make dev`: stored with a phone number on the first bootstrap,
//! left as they are on every later one (a profile changed through the API is kept).

use devstack::seed::{DEMO_CUSTOMER_PHONE, demo_customers};
use domain::customer::ProfileChange;
use domain::{CustomerId, CustomerStore, PhoneNumber};
use testkit::env::{TestEnv, admin_identity, customer_identity};

#[tokio::test]
async fn the_printed_tokens_customers_are_stored_once_with_a_phone_number() {
    let env = TestEnv::new().await;
    let store = env.customers();
    assert_eq!(demo_customers(&store).await.expect("seeded"), 2);

    let id: CustomerId = customer_identity().customer_id.parse().expect("id");
    let customer = store.customer(id).await.expect("read").expect("stored");
    assert_eq!(customer.email, customer_identity().email);
    assert_eq!(
        customer.phone_number,
        Some(PhoneNumber::parse(DEMO_CUSTOMER_PHONE).expect("phone"))
    );
    assert!(!customer.is_admin);
    let admin_id: CustomerId = admin_identity().customer_id.parse().expect("id");
    let admin = store
        .customer(admin_id)
        .await
        .expect("read")
        .expect("stored");
    assert!(admin.is_admin && admin.phone_number.is_some());

    // A change made through the API survives the next `make dev`.
    store
        .update_profile(
            id,
            ProfileChange {
                name: None,
                phone_number: Some(None),
            },
        )
        .await
        .expect("updated");
    let before = env.snapshot().await;
    assert_eq!(demo_customers(&store).await.expect("seeded again"), 0);
    assert_eq!(
        env.snapshot().await,
        before,
        "the second bootstrap changed nothing"
    );
}

#[tokio::test]
async fn signing_in_as_the_local_providers_customer_reaches_the_printed_tokens_customer() {
    let env = TestEnv::new().await;
    let store = env.customers();
    demo_customers(&store).await.expect("seeded");
    for (subject, identity) in [
        ("customer", customer_identity()),
        ("admin", admin_identity()),
    ] {
        let found = store
            .customer_of_subject(subject)
            .await
            .expect("read")
            .map(|id| id.to_string());
        assert_eq!(found, Some(identity.customer_id), "{subject}");
    }
}
