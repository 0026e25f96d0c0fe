//! A person's first sign-in, raced against itself (two browser tabs, a double click):
//! one customer, whichever request wins the registration.

use std::collections::HashSet;

use domain::customer::{CustomerName, SignIn};
use domain::customer_use_cases::Accounts;
use testkit::env::TestEnv;

#[tokio::test]
async fn concurrent_first_sign_ins_of_one_subject_make_one_customer() {
    let env = TestEnv::new().await;
    let sign_in = SignIn {
        subject: format!("google-{}", ulid::Ulid::new()),
        email: "achieng@example.com".into(),
        name: CustomerName::parse("Achieng").expect("name"),
        is_admin: false,
    };
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (store, sign_in) = (env.customers(), sign_in.clone());
        attempts.spawn(async move { Accounts::new(&store).sign_in(sign_in).await });
    }
    let mut ids = HashSet::new();
    while let Some(result) = attempts.join_next().await {
        ids.insert(result.expect("task").expect("sign in").id);
    }
    assert_eq!(ids.len(), 1, "every attempt names the same customer");

    let items = env.snapshot().await;
    let customers = items
        .iter()
        .filter(|i| i.contains("PK=S(\"CUSTOMER#"))
        .count();
    let identities = items
        .iter()
        .filter(|i| i.contains("PK=S(\"IDENTITY#"))
        .count();
    assert_eq!((customers, identities), (1, 1), "{items:#?}");
}
