//! Every status change of an order made through the API — by the customer who owns it or
//! by an admin — records exactly one history entry in the same transaction; a refused
//! change records none, and placing an order is not a change (the order is its own record).

use domain::audit::{Action, AuditEntry, AuditListing, AuditLog, EntityType, Value};
use domain::{PageLimit, PageRequest};
use testkit::contention::Contention;
use testkit::env::{admin_identity, customer_identity, dynamodb_endpoint};

use crate::support::{App, order_body, retention};

/// The order's history, newest first.
async fn history(app: &App, order: &str) -> Vec<AuditEntry> {
    let listing = AuditListing::Entity(EntityType::Order, order.to_owned());
    let page = PageRequest {
        limit: PageLimit::new(100).expect("limit"),
        cursor: None,
    };
    let page = app
        .env
        .catalog()
        .audit_entries(listing, page)
        .await
        .expect("history");
    assert!(page.next_cursor.is_none());
    page.items
}

fn status_change(entry: &AuditEntry) -> (String, String) {
    let change = &entry.changes["status"];
    let text = |v: &Value| match v {
        Value::Text(s) => s.clone(),
        other => panic!("status is text: {other:?}"),
    };
    (text(&change.from), text(&change.to))
}

async fn place(app: &App, confirm: bool) -> String {
    let phone = app.product("Phone", "100.00", 10).await;
    let mut body = order_body(&[(phone, 1)]);
    body["confirm"] = confirm.into();
    let order = app.placed(&app.customer, &body).await;
    order["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn an_entry_expires_after_the_configured_retention() {
    let app = App::new().await;
    let order = place(&app, false).await;
    app.action(&app.customer, &order, "cancel")
        .await
        .expect_status(200);
    let entries = history(&app, &order).await;
    assert_eq!(entries.len(), 1, "one cancellation");
    let expiry = app.env.audit_entry_expiry(entries[0].id).await;
    assert_eq!(expiry, retention().expires_at(entries[0].at));
    assert_eq!(expiry, entries[0].at.unix_seconds() + 30 * 86_400);
}

#[tokio::test]
async fn each_status_change_records_who_made_it_and_from_what_to_what() {
    let app = App::new().await;
    let delivered = place(&app, false).await;
    assert!(
        history(&app, &delivered).await.is_empty(),
        "placing is no change"
    );

    app.action(&app.customer, &delivered, "confirm")
        .await
        .expect_status(200);
    for status in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        app.set_status(&app.admin, &delivered, status)
            .await
            .expect_status(200);
    }
    let entries = history(&app, &delivered).await;
    let actions: Vec<Action> = entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            Action::OrderStatusChanged,
            Action::OrderStatusChanged,
            Action::OrderStatusChanged,
            Action::OrderConfirmed
        ]
    );
    let steps: Vec<(String, String)> = entries.iter().rev().map(status_change).collect();
    let step = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        steps,
        [
            step("PENDING", "CONFIRMED"),
            step("CONFIRMED", "PROCESSING"),
            step("PROCESSING", "SHIPPED"),
            step("SHIPPED", "DELIVERED")
        ]
    );
    let customer = customer_identity();
    assert_eq!(entries[3].actor.id.to_string(), customer.customer_id);
    assert_eq!(entries[3].actor.email, Some(customer.email.clone()));
    let admin = admin_identity();
    assert!(
        entries[..3]
            .iter()
            .all(|e| e.actor.email.as_deref() == Some(admin.email.as_str()))
    );

    // Cancelled by its owner, and by an admin.
    let by_owner = place(&app, true).await;
    app.action(&app.customer, &by_owner, "cancel")
        .await
        .expect_status(200);
    let by_admin = place(&app, true).await;
    app.set_status(&app.admin, &by_admin, "PROCESSING")
        .await
        .expect_status(200);
    app.action(&app.admin, &by_admin, "cancel")
        .await
        .expect_status(200);
    let owner = history(&app, &by_owner).await;
    assert_eq!(owner.len(), 1);
    assert_eq!(owner[0].action, Action::OrderCancelled);
    assert_eq!(owner[0].actor.email, Some(customer.email));
    assert_eq!(
        status_change(&owner[0]),
        ("CONFIRMED".to_owned(), "CANCELLED".to_owned())
    );
    let admin_cancel = history(&app, &by_admin).await;
    assert_eq!(admin_cancel[0].action, Action::OrderCancelled);
    assert_eq!(admin_cancel[0].actor.email, Some(admin.email));
}

#[tokio::test]
async fn refused_status_changes_leave_the_table_and_history_byte_identical() {
    let app = App::new().await;
    let order = place(&app, true).await;
    app.set_status(&app.admin, &order, "PROCESSING")
        .await
        .expect_status(200);
    let before = app.env.snapshot().await;

    // 409: illegal transitions; a customer cancelling past CONFIRMED.
    app.set_status(&app.admin, &order, "DELIVERED")
        .await
        .expect_problem(409);
    app.action(&app.admin, &order, "confirm")
        .await
        .expect_problem(409);
    app.action(&app.customer, &order, "cancel")
        .await
        .expect_problem(409);
    // 403: a customer on the admin route; 404: another customer's order; 422: no status.
    app.set_status(&app.customer, &order, "SHIPPED")
        .await
        .expect_problem(403);
    app.action(&app.other, &order, "cancel")
        .await
        .expect_problem(404);
    app.set_status(&app.admin, &order, "LOST")
        .await
        .expect_problem(422);

    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn a_failed_transaction_leaves_neither_the_status_change_nor_its_entry() {
    let contention = Contention::start(&dynamodb_endpoint(), 0).await;
    let app = App::reaching_dynamodb_at(contention.endpoint()).await;
    let order = place(&app, true).await;
    app.messages().await;
    let before = app.env.snapshot().await;

    contention.refuse_next(usize::MAX);
    app.action(&app.customer, &order, "cancel")
        .await
        .expect_problem(409);
    app.set_status(&app.admin, &order, "PROCESSING")
        .await
        .expect_problem(409);
    assert!(contention.conflicts_answered() >= 2);

    assert_eq!(app.env.snapshot().await, before);
    assert!(history(&app, &order).await.is_empty());
}

#[tokio::test]
async fn a_status_change_is_still_two_requests_and_placing_still_two() {
    let app = App::new().await;
    let phone = app.product("Phone", "100.00", 10).await;
    let n = app.requests.count();
    let order = app.placed(&app.customer, &order_body(&[(phone, 1)])).await;
    assert_eq!(
        app.requests.count() - n,
        2,
        "placing: one read, one transaction"
    );
    let id = order["id"].as_str().expect("id");
    let n = app.requests.count();
    app.set_status(&app.admin, id, "PROCESSING")
        .await
        .expect_status(200);
    assert_eq!(
        app.requests.count() - n,
        2,
        "a status change: read the order, one transaction with its entry"
    );
    let n = app.requests.count();
    app.action(&app.admin, id, "cancel")
        .await
        .expect_status(200);
    assert_eq!(
        app.requests.count() - n,
        2,
        "a cancellation: read, one transaction (status, entry, every line's stock)"
    );
}
