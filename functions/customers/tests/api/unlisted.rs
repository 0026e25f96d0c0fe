//! Customers stored before staff's lists existed (their items have no GSI1/GSI2 keys): a
//! sign-in files them, the one-off `index-customers` upgrade files the rest exactly once,
//! and a profile change never takes a listed customer out of the lists.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::customer::Customer;
use http_api::auth::Identity;
use serde_json::json;
use storage::keys;
use testkit::env::dynamodb_endpoint;
use testkit::events::ApiRequest;

use crate::support::{CUSTOMERS, Staff, ids};

const LIST_KEYS: [&str; 4] = [keys::GSI1PK, keys::GSI1SK, keys::GSI2PK, keys::GSI2SK];

/// Rewrites `customer`'s item as the release before the lists stored it: without the
/// list keys.
async fn as_stored_before_the_lists(staff: &Staff, customer: &Customer) {
    let key = keys::customer(customer.id);
    staff
        .env
        .client
        .update_item()
        .table_name(&staff.env.table)
        .key(keys::PK, AttributeValue::S(key.pk))
        .key(keys::SK, AttributeValue::S(key.sk))
        .update_expression(format!("REMOVE {}", LIST_KEYS.join(", ")))
        .send()
        .await
        .expect("strip the list keys");
}

/// The list keys `customer`'s item holds.
async fn list_keys(staff: &Staff, customer: &Customer) -> Vec<Option<String>> {
    let key = keys::customer(customer.id);
    let item = staff
        .env
        .client
        .get_item()
        .table_name(&staff.env.table)
        .key(keys::PK, AttributeValue::S(key.pk))
        .key(keys::SK, AttributeValue::S(key.sk))
        .consistent_read(true)
        .send()
        .await
        .expect("read")
        .item
        .expect("customer item");
    LIST_KEYS
        .iter()
        .map(|k| item.get(*k).and_then(|v| v.as_s().ok()).cloned())
        .collect()
}

fn expected_keys(customer: &Customer, email: &str) -> Vec<Option<String>> {
    let id = customer.id.to_string();
    vec![
        Some(format!("CUSTOMER_EMAIL#{email}")),
        Some(id.clone()),
        Some("CUSTOMERS".to_owned()),
        Some(id),
    ]
}

/// The ids of every customer staff's list shows.
async fn listed(staff: &Staff) -> Vec<String> {
    let (all, _) = staff.every_page(&format!("{CUSTOMERS}?limit=100")).await;
    ids(&all)
}

#[tokio::test]
async fn an_older_customer_is_filed_by_its_next_sign_in() {
    let staff = Staff::new().await;
    let old = staff.sign_in("sub-old", "Old.Timer@example.com").await;
    let new = staff.sign_up("new@example.com").await;
    as_stored_before_the_lists(&staff, &old).await;

    // Not listed, not found by email; still readable by id and by themselves.
    assert_eq!(listed(&staff).await, [new.id.to_string()]);
    let (page, _) = staff
        .admin_get(&format!("{CUSTOMERS}?email=old.timer@example.com"))
        .await;
    assert_eq!(page["items"], json!([]));
    let (one, _) = staff.admin_get(&format!("{CUSTOMERS}/{}", old.id)).await;
    assert_eq!(one["email"], "Old.Timer@example.com");

    // The next sign-in files them under the address it brings.
    staff.sign_in("sub-old", "old.timer@example.org").await;
    assert_eq!(
        list_keys(&staff, &old).await,
        expected_keys(&old, "old.timer@example.org")
    );
    assert_eq!(
        listed(&staff).await,
        [new.id.to_string(), old.id.to_string()]
    );
    let (page, _) = staff
        .admin_get(&format!("{CUSTOMERS}?email=OLD.TIMER@example.org"))
        .await;
    assert_eq!(
        ids(page["items"].as_array().expect("items")),
        [old.id.to_string()]
    );
}

#[tokio::test]
async fn the_one_off_upgrade_files_every_older_customer_exactly_once() {
    let staff = Staff::new().await;
    let mut customers = Vec::new();
    for i in 0..5 {
        let email = format!("Customer{i}@Example.com");
        customers.push(staff.sign_in(&format!("sub-{i}"), &email).await);
    }
    for old in &customers[..3] {
        as_stored_before_the_lists(&staff, old).await;
    }
    // One of them signs in before the upgrade runs: filed by then.
    staff.sign_in("sub-0", "Customer0@Example.com").await;
    assert_eq!(listed(&staff).await.len(), 3, "two still unlisted");

    // The operator's command, as it runs against a deployed table.
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_index-customers"))
            .args(["--table", &staff.env.table])
            .env("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("index-customers runs")
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{stdout} {:?}", first.stderr);
    assert!(
        stdout.contains(" 2 customers filed, 0 changed meanwhile"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("@example.com"),
        "no personal data: {stdout}"
    );
    for old in &customers[1..3] {
        assert_eq!(
            list_keys(&staff, old).await,
            expected_keys(old, &old.email.to_lowercase())
        );
    }
    let mut every = customers
        .iter()
        .map(|c| c.id.to_string())
        .collect::<Vec<_>>();
    every.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(listed(&staff).await, every);
    let (page, _) = staff
        .admin_get(&format!("{CUSTOMERS}?email=customer1@example.com"))
        .await;
    assert_eq!(
        ids(page["items"].as_array().expect("items")),
        [customers[1].id.to_string()]
    );

    // Idempotent: a second run files nothing and changes nothing.
    let filed = staff.env.snapshot().await;
    let again = run();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{stdout}");
    assert!(
        stdout.contains(" 0 customers filed, 0 changed meanwhile"),
        "{stdout}"
    );
    assert_eq!(staff.env.snapshot().await, filed);
    let report = staff
        .env
        .customers()
        .file_unlisted_customers()
        .await
        .expect("upgrade");
    assert_eq!((report.filed, report.changed_meanwhile), (0, 0));
    assert!(report.scanned_pages >= 1);

    // A bad command line is refused before anything is read.
    let usage = std::process::Command::new(env!("CARGO_BIN_EXE_index-customers"))
        .output()
        .expect("runs");
    assert_eq!(usage.status.code(), Some(2));
}

#[tokio::test]
async fn a_profile_change_keeps_the_customer_listed() {
    let staff = Staff::new().await;
    let wanjiku = staff.sign_up("Wanjiku@Example.com").await;
    let token = staff.env.token_for(&Identity {
        customer_id: wanjiku.id.to_string(),
        email: wanjiku.email.clone(),
        name: "Wanjiku".into(),
        admin: false,
    });
    let expected = expected_keys(&wanjiku, "wanjiku@example.com");
    assert_eq!(list_keys(&staff, &wanjiku).await, expected);
    for change in [
        json!({"phone_number": "0712345678"}),
        json!({"name": "Wanjiku K."}),
        json!({"phone_number": null}),
    ] {
        ApiRequest::patch("/api/v1/customer/me")
            .bearer(&token)
            .json(&change)
            .send(&staff.router)
            .await
            .expect_status(200);
        assert_eq!(list_keys(&staff, &wanjiku).await, expected, "{change}");
    }
    let (page, _) = staff
        .admin_get(&format!("{CUSTOMERS}?email=wanjiku@example.com"))
        .await;
    assert_eq!(page["items"][0]["name"], "Wanjiku K.");
    assert_eq!(listed(&staff).await, [wanjiku.id.to_string()]);
}
