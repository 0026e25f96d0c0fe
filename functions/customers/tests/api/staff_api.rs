//! Staff's customer directory (`GET /customers`, `GET /customers/{id}`) through the real
//! handler against DynamoDB Local: newest first, paging through every customer exactly
//! once, the exact case-insensitive email lookup, each customer's own order count, who may
//! look, bad parameters, and the DynamoDB requests of each route.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_api::auth::Identity;
use serde_json::{Value, json};
use testkit::env::customer_identity;

use crate::support::{CUSTOMERS, Shop, Staff, ids};

/// The ids newest first: descending (customer ids are ULIDs).
fn newest_first(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids
}

#[tokio::test]
async fn the_list_shows_every_customer_newest_first_and_pages_through_each_exactly_once() {
    let staff = Staff::new().await;
    // No customer yet: an empty last page, one query.
    let (empty, requests) = staff.admin_get(CUSTOMERS).await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    assert_eq!(requests, 1);

    let mut signed_up = Vec::new();
    for i in 0..7 {
        signed_up.push(staff.sign_up(&format!("c{i}@example.com")).await);
    }
    let expected = newest_first(signed_up.iter().map(|c| c.id.to_string()).collect());

    // One page: one query, then one order count per customer.
    let (page, requests) = staff.admin_get(CUSTOMERS).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(ids(items), expected);
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(requests, 1 + 7);
    let created: Vec<&str> = items
        .iter()
        .map(|c| c["created_at"].as_str().expect("created_at"))
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");

    // Each item is the `/customer/me` object plus `order_count`.
    let newest = signed_up.last().expect("a customer");
    let me = testkit::events::ApiRequest::get("/api/v1/customer/me")
        .bearer(&staff.env.token_for(&Identity {
            customer_id: newest.id.to_string(),
            email: newest.email.clone(),
            name: "Wanjiku".into(),
            admin: false,
        }))
        .send(&staff.router)
        .await;
    me.expect_status(200);
    let mut with_count = me.body.clone();
    with_count["order_count"] = json!(0);
    assert_eq!(items[0], with_count);
    let fields: BTreeSet<&str> = items[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "id",
            "email",
            "name",
            "phone_number",
            "is_admin",
            "created_at",
            "updated_at",
            "order_count"
        ])
    );

    // Pages of 3: every customer once, in order; a page is 1 query + its counts, and the
    // short last page needs no further read.
    let (all, per_page) = staff.every_page(&format!("{CUSTOMERS}?limit=3")).await;
    assert_eq!(ids(&all), expected);
    assert_eq!(per_page, [1 + 3, 1 + 3, 1 + 1]);
    // A full last page ends the list: no cursor to an empty page.
    let (all, per_page) = staff.every_page(&format!("{CUSTOMERS}?limit=7")).await;
    assert_eq!(ids(&all), expected);
    assert_eq!(per_page, [1 + 7]);
    let (all, per_page) = staff.every_page(&format!("{CUSTOMERS}?limit=1")).await;
    assert_eq!(ids(&all), expected);
    assert_eq!(per_page, [2; 7]);
}

#[tokio::test]
async fn the_email_lookup_is_exact_and_ignores_case() {
    let staff = Staff::new().await;
    let wanjiku = staff.sign_in("sub-wanjiku", "Wanjiku.K@Example.com").await;
    for other in [
        "otieno@example.com",
        "wanjiku.k@example.co",
        "xwanjiku.k@example.com",
        "wanjiku.k@example.com.ke",
    ] {
        staff.sign_up(other).await;
    }
    let lookup = |email: &str| format!("{CUSTOMERS}?email={email}");

    for spelling in [
        "wanjiku.k@example.com",
        "WANJIKU.K@EXAMPLE.COM",
        "Wanjiku.K@Example.com",
    ] {
        let (page, requests) = staff.admin_get(&lookup(spelling)).await;
        let items = page["items"].as_array().expect("items");
        assert_eq!(ids(items), [wanjiku.id.to_string()], "{spelling}");
        assert_eq!(items[0]["email"], "Wanjiku.K@Example.com", "as stored");
        assert_eq!(page["next_cursor"], Value::Null);
        assert_eq!(requests, 2, "one query, one order count");
    }
    // Exact: no prefix, suffix or trimming; no match is an empty list after one query.
    for miss in [
        "wanjiku.k@example",
        "anjiku.k@example.com",
        "wanjiku.k@example.c",
        "%20wanjiku.k@example.com",
        "wanjiku.k%40example.com%20",
        "nobody@example.com",
        // Anything a query string can carry is only compared, never a database error.
        "%00",
        "%F0%9F%A6%81%C4%B0%E2%80%AE",
        "%22%27%3B%23%3A%2F%5C",
    ] {
        let (page, requests) = staff.admin_get(&lookup(miss)).await;
        assert_eq!(page, json!({"items": [], "next_cursor": null}), "{miss}");
        assert_eq!(requests, 1, "{miss}");
    }
    // Percent-encoded, the address is the same.
    let (page, _) = staff.admin_get(&lookup("WANJIKU.K%40example.COM")).await;
    assert_eq!(ids(page["items"].as_array().expect("items")).len(), 1);

    // A sign-in with a new address re-files the customer under it, and only it.
    let renamed = staff.sign_in("sub-wanjiku", "w.kamau@example.com").await;
    assert_eq!(renamed.id, wanjiku.id);
    let (page, _) = staff.admin_get(&lookup("wanjiku.k@example.com")).await;
    assert_eq!(page["items"], json!([]));
    let (page, _) = staff.admin_get(&lookup("W.Kamau@example.com")).await;
    assert_eq!(
        ids(page["items"].as_array().expect("items")),
        [wanjiku.id.to_string()]
    );
    let (all, _) = staff.every_page(&format!("{CUSTOMERS}?limit=100")).await;
    assert_eq!(all.len(), 5, "still listed once");

    // An address that passed to another account finds both, newest first, page by page.
    let newer = staff.sign_up("w.KAMAU@example.com").await;
    let (both, per_page) = staff
        .every_page(&format!("{}&limit=1", lookup("w.kamau@example.com")))
        .await;
    assert_eq!(ids(&both), [newer.id.to_string(), wanjiku.id.to_string()]);
    assert_eq!(per_page, [2, 2]);
}

#[tokio::test]
async fn every_customer_carries_the_count_of_its_own_orders() {
    let staff = Staff::new().await;
    let shop = Shop::new(&staff.env).await;
    let phone = staff.env.product("Phone", "100.00", 100).await;
    let case = staff.env.product("Case", "10.00", 100).await;
    let (a, b, c) = (
        staff.sign_up("a@example.com").await,
        staff.sign_up("b@example.com").await,
        staff.sign_up("c@example.com").await,
    );
    // Orders in more than one status count alike.
    shop.place(a.id, &[phone], false, "Moi Avenue 1", None)
        .await;
    shop.place(a.id, &[phone, case], true, "Moi Avenue 1", None)
        .await;
    shop.place(a.id, &[case], false, "Moi Avenue 1", None).await;
    shop.place(c.id, &[phone], true, "Kenyatta Avenue 2", None)
        .await;

    let (page, requests) = staff.admin_get(CUSTOMERS).await;
    let counts: Vec<(String, u64)> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().expect("id").to_owned(),
                i["order_count"].as_u64().expect("order_count"),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            (c.id.to_string(), 1),
            (b.id.to_string(), 0),
            (a.id.to_string(), 3)
        ]
    );
    assert_eq!(requests, 1 + 3);

    // One customer: the same object as in the list, from one GetItem and one count.
    for (customer, expected) in [(&a, 3), (&b, 0), (&c, 1)] {
        let (one, requests) = staff
            .admin_get(&format!("{CUSTOMERS}/{}", customer.id))
            .await;
        assert_eq!(one["order_count"], expected);
        let listed = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"] == one["id"])
            .expect("listed");
        assert_eq!(&one, listed);
        assert_eq!(requests, 2);
    }
}

#[tokio::test]
async fn an_order_count_goes_on_past_the_first_megabyte_of_orders() {
    let staff = Staff::new().await;
    let shop = Shop::new(&staff.env).await;
    let buyer = staff.sign_up("big.buyer@example.com").await;
    // Large orders: 50 lines with 72-character product names (the longest testkit's
    // helper takes), a 500-character address and 1,000 characters of notes (over 12 KB
    // each), so a count query stops at DynamoDB's 1 MB a query and must follow
    // LastEvaluatedKey.
    let mut products = Vec::new();
    for i in 0..50 {
        let name = format!("{i:02} {}", "x".repeat(69));
        products.push(staff.env.product(&name, "1.00", 1_000).await);
    }
    let address = "A".repeat(500);
    let notes = "N".repeat(1_000);
    const ORDERS: u64 = 100;
    for _ in 0..ORDERS {
        shop.place(buyer.id, &products, false, &address, Some(&notes))
            .await;
    }
    let (one, requests) = staff.admin_get(&format!("{CUSTOMERS}/{}", buyer.id)).await;
    assert_eq!(one["order_count"], ORDERS);
    assert_eq!(
        requests,
        1 + 2,
        "one GetItem, then a count query for each of the two pages the orders fill"
    );
    let (page, list_requests) = staff.admin_get(CUSTOMERS).await;
    assert_eq!(page["items"][0]["order_count"], ORDERS);
    assert_eq!(list_requests, requests, "1 query in place of the GetItem");
}

#[tokio::test]
async fn only_admins_look_customers_up_and_customers_still_see_only_themselves() {
    let staff = Staff::new().await;
    let me = staff.sign_up("wanjiku@example.com").await;
    let identity = Identity {
        customer_id: me.id.to_string(),
        email: me.email.clone(),
        name: "Wanjiku".into(),
        admin: false,
    };
    let customer_token = staff.env.token_for(&identity);
    let one = format!("{CUSTOMERS}/{}", me.id);
    let before = staff.env.snapshot().await;

    for path in [
        CUSTOMERS.to_owned(),
        format!("{CUSTOMERS}?email=wanjiku@example.com"),
        format!("{CUSTOMERS}?limit=0"),
        one.clone(),
    ] {
        let (anonymous, requests) = staff.get(&path, None).await;
        anonymous.expect_problem(401);
        assert!(
            anonymous
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{path}"
        );
        assert_eq!(requests, 0, "{path}");
        let (refused, requests) = staff.get(&path, Some(&customer_token)).await;
        assert_eq!(
            refused.expect_problem(403)["type"],
            "/problems/forbidden",
            "{path}"
        );
        assert_eq!(requests, 0, "{path}");
        // A customer token of someone who is not a customer at all: 403 too.
        let (refused, _) = staff
            .get(&path, Some(&staff.env.token_for(&customer_identity())))
            .await;
        refused.expect_problem(403);
    }
    // Unknown and malformed ids: 404, like every `{id}` route; a malformed one reads nothing.
    let (unknown, requests) = staff
        .get(
            &format!("{CUSTOMERS}/{}", domain::CustomerId::generate()),
            Some(&staff.admin),
        )
        .await;
    assert_eq!(unknown.expect_problem(404)["detail"], "customer not found");
    assert_eq!(requests, 1, "one GetItem, no count");
    for malformed in ["not-an-id", "01jda0r5e2m8qk4t6v9xzb3c1n", "0"] {
        let (response, requests) = staff
            .get(&format!("{CUSTOMERS}/{malformed}"), Some(&staff.admin))
            .await;
        response.expect_problem(404);
        assert_eq!(requests, 0, "{malformed}");
    }
    // Wrong methods reach the function: 405.
    for path in [CUSTOMERS.to_owned(), one.clone()] {
        testkit::events::ApiRequest::post(&path)
            .bearer(&staff.admin)
            .json(&json!({}))
            .send(&staff.router)
            .await
            .expect_problem(405);
    }
    // The customer's own profile is still theirs alone, without staff's fields.
    let (own, _) = staff
        .get("/api/v1/customer/me", Some(&customer_token))
        .await;
    own.expect_status(200);
    assert_eq!(own.body["id"], me.id.to_string());
    assert!(own.body.get("order_count").is_none());

    assert_eq!(
        staff.env.snapshot().await,
        before,
        "refusals change nothing"
    );
}

#[tokio::test]
async fn bad_parameters_are_400_and_read_nothing() {
    let staff = Staff::new().await;
    staff.sign_up("shared@example.com").await;
    staff.sign_up("Shared@example.com").await;
    staff.sign_up("other@example.com").await;
    // Cursors of two lists: every customer, and the customers with one email.
    let (all, _) = staff.admin_get(&format!("{CUSTOMERS}?limit=1")).await;
    let all_cursor = all["next_cursor"].as_str().expect("cursor").to_owned();
    let by_email = format!("{CUSTOMERS}?email=shared@example.com");
    let (shared, _) = staff.admin_get(&format!("{by_email}&limit=1")).await;
    let email_cursor = shared["next_cursor"].as_str().expect("cursor").to_owned();
    let foreign_key = URL_SAFE_NO_PAD.encode(
        json!({"PK": "PRODUCT#1", "SK": "PRODUCT#1", "GSI2PK": "PRODUCTS", "GSI2SK": "1"})
            .to_string(),
    );
    let before = staff.env.snapshot().await;

    let too_long = "a".repeat(250) + "@x.co";
    let cases = [
        format!("{CUSTOMERS}?limit=0"),
        format!("{CUSTOMERS}?limit=101"),
        format!("{CUSTOMERS}?limit=ten"),
        format!("{CUSTOMERS}?limit=-1"),
        format!("{CUSTOMERS}?limit="),
        format!("{CUSTOMERS}?cursor="),
        format!("{CUSTOMERS}?cursor=!!!"),
        format!("{CUSTOMERS}?cursor={}", URL_SAFE_NO_PAD.encode("[1]")),
        format!("{CUSTOMERS}?cursor={foreign_key}"),
        format!("{CUSTOMERS}?cursor={email_cursor}"),
        format!("{by_email}&cursor={all_cursor}"),
        format!("{CUSTOMERS}?email={email_cursor}&cursor={email_cursor}"),
        format!("{CUSTOMERS}?email="),
        format!("{CUSTOMERS}?email={too_long}"),
        format!("{CUSTOMERS}?email=a&email=b"),
    ];
    for path in &cases {
        let (response, requests) = staff.get(path, Some(&staff.admin)).await;
        assert_eq!(response.status.as_u16(), 400, "{path}: {}", response.body);
        response.expect_problem(400);
        assert_eq!(requests, 0, "{path}");
    }
    // The longest address a lookup takes is fine.
    let longest = "a".repeat(249) + "@x.co";
    let (page, _) = staff
        .admin_get(&format!("{CUSTOMERS}?email={longest}"))
        .await;
    assert_eq!(page["items"], json!([]));
    assert_eq!(
        staff.env.snapshot().await,
        before,
        "refusals change nothing"
    );
}
