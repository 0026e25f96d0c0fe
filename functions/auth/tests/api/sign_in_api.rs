//! The auth Lambda, driven with real API Gateway v2 events against moto and the real local
//! OpenID provider (`OIDC_ISSUER_URL`, started by `make test`); a scripted provider
//! (wiremock) stands in where a test needs a provider that misbehaves.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use auth::{Auth, admin_list};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::SignInStateStore;
use domain::customer::PendingSignIn;
use http_api::AppState;
use oidc::{OidcClient, ProviderConfig};
use serde_json::{Value, json};
use testkit::env::TestEnv;
use testkit::events::{ApiRequest, ApiResponse};
use testkit::oidc::{
    LocalProvider, ScriptedProvider, TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_REDIRECT_URI,
    pkce_s256, query_param, unsigned_token,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const OTHER_REDIRECT_URI: &str = "http://127.0.0.1:3000/signed-in";
const ADMIN_EMAIL: &str = "Boss@Example.com";

struct World {
    env: TestEnv,
    auth: axum::Router,
    customers: axum::Router,
    categories: axum::Router,
}

async fn world_at(issuer: &str) -> World {
    let env = TestEnv::new().await;
    let oidc = OidcClient::new(
        ProviderConfig {
            issuer_url: issuer.to_owned(),
            client_id: TEST_CLIENT_ID.into(),
            client_secret: secrecy::SecretString::from(TEST_CLIENT_SECRET),
        },
        oidc::http_client().expect("http client"),
    )
    .with_min_key_refresh_interval(Duration::ZERO);
    let jwks: Value = serde_json::from_str(&env.keys.jwks).expect("jwks");
    let auth = auth::router(AppState {
        services: Auth {
            store: env.customers(),
            oidc: Arc::new(oidc),
            signer: Arc::new(env.signer.clone()),
            jwks: Arc::new(jwks),
            redirect_uris: vec![TEST_REDIRECT_URI.to_owned(), OTHER_REDIRECT_URI.to_owned()].into(),
            admin_emails: admin_list(&["admin@elsewhere.example".into(), ADMIN_EMAIL.into()]),
        },
        verifier: env.verifier.clone(),
    });
    let customers = customers::router(env.customers_state());
    let categories = categories::router(env.catalog_state());
    World {
        env,
        auth,
        customers,
        categories,
    }
}

async fn world() -> (World, LocalProvider) {
    let provider = LocalProvider::from_env();
    (world_at(&provider.issuer).await, provider)
}

fn unique_email(who: &str) -> String {
    format!(
        "{who}-{}@example.com",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

impl World {
    async fn get(&self, path: &str) -> ApiResponse {
        ApiRequest::get(path).send(&self.auth).await
    }

    /// `GET /auth/google/login`: the authorization URL and state.
    async fn login(&self) -> (String, String) {
        let response = self.get("/api/v1/auth/google/login").await;
        response.expect_status(200);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        (
            response.body["authorization_url"]
                .as_str()
                .expect("url")
                .to_owned(),
            response.body["state"].as_str().expect("state").to_owned(),
        )
    }

    /// The callback request the browser makes after the provider's redirect.
    async fn callback(&self, redirect: &url::Url) -> ApiResponse {
        assert!(
            redirect.as_str().starts_with(TEST_REDIRECT_URI),
            "{redirect}"
        );
        let path_and_query = format!("{}?{}", redirect.path(), redirect.query().unwrap_or(""));
        self.get(&path_and_query).await
    }

    /// The whole browser flow for user `sub`: login, the provider's form, the callback.
    async fn sign_in(&self, provider: &LocalProvider, sub: &str) -> ApiResponse {
        let (url, _) = self.login().await;
        let redirect = provider.authorize(&url, sub).await;
        self.callback(&redirect).await
    }

    async fn post_id_token(&self, id_token: &str) -> ApiResponse {
        ApiRequest::post("/api/v1/auth/google/id-token")
            .json(&json!({ "id_token": id_token }))
            .send(&self.auth)
            .await
    }

    async fn me(&self, token: &str) -> ApiResponse {
        ApiRequest::get("/api/v1/customer/me")
            .bearer(token)
            .send(&self.customers)
            .await
    }

    /// The stored pending sign-in of `state`, read straight from the table.
    async fn state_item(&self, state: &str) -> Option<HashMap<String, AttributeValue>> {
        let key = storage::keys::sign_in_state(state);
        self.env
            .client
            .get_item()
            .table_name(&self.env.table)
            .key("PK", AttributeValue::S(key.pk))
            .key("SK", AttributeValue::S(key.sk))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }
}

fn token_of(response: &ApiResponse) -> String {
    response.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

#[tokio::test]
async fn a_new_user_signs_in_sets_a_phone_number_and_stays_one_customer() {
    let (world, provider) = world().await;
    let email = unique_email("wanjiku");
    let sub = provider.new_user(&email, "Wanjiku Kamau").await;

    let signed_in = world.sign_in(&provider, &sub).await;
    signed_in.expect_status(200);
    assert_eq!(signed_in.header("cache-control"), Some("no-store"));
    assert_eq!(signed_in.body["token_type"], "Bearer");
    assert_eq!(signed_in.body["expires_in"], 86_400);
    let customer = &signed_in.body["customer"];
    assert_eq!(customer["email"], email.as_str());
    assert_eq!(customer["name"], "Wanjiku Kamau");
    assert_eq!(
        customer["phone_number"],
        Value::Null,
        "no made-up phone number"
    );
    assert_eq!(customer["is_admin"], false);

    // Our token: ES256 with our kid, claims as the contract says, 24 h.
    let token = token_of(&signed_in);
    let header = jsonwebtoken::decode_header(&token).expect("header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(world.env.keys.kid.as_str()));
    let claims = world
        .env
        .verifier
        .verify(&token)
        .expect("our verifier accepts it");
    assert_eq!(claims.sub, customer["id"].as_str().expect("id"));
    assert_eq!(
        (claims.email.as_str(), claims.admin),
        (email.as_str(), false)
    );
    assert_eq!(claims.exp - claims.iat, 86_400);

    let me = world.me(&token).await;
    me.expect_status(200);
    assert_eq!(me.body["id"], customer["id"]);
    let patched = ApiRequest::patch("/api/v1/customer/me")
        .bearer(&token)
        .json(&json!({"phone_number": "0712 345 678"}))
        .send(&world.customers)
        .await;
    patched.expect_status(200);
    assert_eq!(patched.body["phone_number"], "+254712345678");

    // Signing in again (the provider now has a new name for them) is the same customer,
    // name kept current, phone number kept.
    provider
        .put_user(
            &sub,
            json!({"email": email, "email_verified": true, "name": "Wanjiku K."}),
        )
        .await;
    let again = world.sign_in(&provider, &sub).await;
    again.expect_status(200);
    assert_eq!(again.body["customer"]["id"], customer["id"]);
    assert_eq!(again.body["customer"]["name"], "Wanjiku K.");
    assert_eq!(again.body["customer"]["phone_number"], "+254712345678");
    assert_eq!(world.me(&token_of(&again)).await.body["name"], "Wanjiku K.");
}

#[tokio::test]
async fn the_admin_email_signs_in_as_admin_and_can_use_the_catalog_admin_routes() {
    let (world, provider) = world().await;
    let sub = provider.new_user("boss@example.com", "The Boss").await;
    let admin = world.sign_in(&provider, &sub).await;
    admin.expect_status(200);
    assert_eq!(
        admin.body["customer"]["is_admin"], true,
        "admin list is case-insensitive"
    );
    let token = token_of(&admin);
    assert!(world.env.verifier.verify(&token).expect("valid").admin);
    ApiRequest::post("/api/v1/categories")
        .bearer(&token)
        .json(&json!({"name": "Signed-in admin's category"}))
        .send(&world.categories)
        .await
        .expect_status(201);

    // An ordinary customer's token is refused there.
    let other = provider.new_user(&unique_email("shopper"), "Shopper").await;
    let customer = world.sign_in(&provider, &other).await;
    ApiRequest::post("/api/v1/categories")
        .bearer(&token_of(&customer))
        .json(&json!({"name": "Nope"}))
        .send(&world.categories)
        .await
        .expect_problem(403);
}

#[tokio::test]
async fn login_keeps_state_verifier_and_nonce_server_side_for_ten_minutes() {
    let (world, _provider) = world().await;
    let (url, state) = world.login().await;
    let url = url::Url::parse(&url).expect("url");
    let param = |name: &str| query_param(&url, name);
    assert_eq!(param("state").as_deref(), Some(state.as_str()));
    assert_eq!(param("scope").as_deref(), Some("openid email profile"));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("redirect_uri").as_deref(), Some(TEST_REDIRECT_URI));
    assert_eq!(param("client_id").as_deref(), Some(TEST_CLIENT_ID));

    let item = world
        .state_item(&state)
        .await
        .expect("pending sign-in stored");
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(param("nonce"), Some(text("nonce")));
    assert_eq!(
        param("code_challenge"),
        Some(pkce_s256(&text("pkce_verifier")))
    );
    let Some(AttributeValue::N(expires_at)) = item.get("expires_at") else {
        panic!("expires_at is the table's TTL number attribute");
    };
    let ttl = expires_at.parse::<i64>().expect("number") - testkit::keys::now_seconds();
    assert!((595..=600).contains(&ttl), "{ttl}");

    // Another allowed redirect URI; anything else is 400.
    let other = world
        .get(&format!(
            "/api/v1/auth/google/login?redirect_uri={OTHER_REDIRECT_URI}"
        ))
        .await;
    other.expect_status(200);
    let other_url =
        url::Url::parse(other.body["authorization_url"].as_str().expect("url")).expect("url");
    assert_eq!(
        query_param(&other_url, "redirect_uri").as_deref(),
        Some(OTHER_REDIRECT_URI)
    );
    world
        .get("/api/v1/auth/google/login?redirect_uri=https://evil.example/cb")
        .await
        .expect_problem(400);
}

#[tokio::test]
async fn forged_replayed_or_expired_states_are_400() {
    let (world, provider) = world().await;
    let sub = provider.new_user(&unique_email("replay"), "Replay").await;
    let (url, _) = world.login().await;
    let redirect = provider.authorize(&url, &sub).await;
    world.callback(&redirect).await.expect_status(200);
    let before = world.env.snapshot().await;
    // The same callback again: the state was used.
    world.callback(&redirect).await.expect_problem(400);

    // A state we never issued, with a real code.
    let (url, _) = world.login().await;
    let mut forged = provider.authorize(&url, &sub).await;
    let code = query_param(&forged, "code").expect("code");
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", &code)
        .append_pair("state", "forged-state");
    world.callback(&forged).await.expect_problem(400);
    world
        .get(&format!("/api/v1/auth/google/callback?code={code}"))
        .await
        .expect_problem(400);

    // A state whose ten minutes are over (DynamoDB's TTL deletion lags; the code checks).
    world
        .env
        .customers()
        .save_pending(PendingSignIn {
            state: "expired-state".into(),
            nonce: "n".into(),
            pkce_verifier: "v".repeat(43),
            redirect_uri: TEST_REDIRECT_URI.into(),
            expires_at: testkit::keys::now_seconds() - 1,
        })
        .await
        .expect("saved");
    world
        .get(&format!(
            "/api/v1/auth/google/callback?code={code}&state=expired-state"
        ))
        .await
        .expect_problem(400);
    assert!(
        world.state_item("expired-state").await.is_some(),
        "refused, not consumed"
    );

    let mut after = world.env.snapshot().await;
    after.retain(|item| !item.contains("SIGNIN_STATE#"));
    let mut before_customers = before;
    before_customers.retain(|item| !item.contains("SIGNIN_STATE#"));
    assert_eq!(after, before_customers, "no customer created or changed");
}

#[tokio::test]
async fn the_callback_refuses_a_bad_nonce_or_an_unverified_email() {
    let (world, provider) = world().await;
    let before = world.env.snapshot().await;

    // The nonce in the ID token is not the one this sign-in stored.
    let sub = provider.new_user(&unique_email("nonce"), "Nonce").await;
    let (url, _) = world.login().await;
    let mut tampered = url::Url::parse(&url).expect("url");
    let pairs: Vec<(String, String)> = tampered
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" {
                "attacker-nonce".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    let redirect = provider.authorize(tampered.as_str(), &sub).await;
    let refused = world.callback(&redirect).await;
    refused.expect_problem(401);
    assert!(
        refused.body["detail"]
            .as_str()
            .expect("detail")
            .contains("nonce")
    );

    // The provider does not vouch for the email.
    let unverified = format!("unverified-{}", ulid::Ulid::new());
    provider
        .put_user(
            &unverified,
            json!({"email": unique_email("unverified"), "email_verified": false, "name": "U"}),
        )
        .await;
    let refused = world.sign_in(&provider, &unverified).await;
    refused.expect_problem(401);
    assert!(
        refused.body["detail"]
            .as_str()
            .expect("detail")
            .contains("verified")
    );

    assert_eq!(
        world.env.snapshot().await,
        before,
        "nothing stored, states consumed"
    );
}

#[tokio::test]
async fn id_tokens_from_a_sign_in_client_are_verified_like_the_callbacks() {
    let (world, provider) = world().await;
    let email = unique_email("mobile");
    let sub = provider.new_user(&email, "Mobile User").await;

    let id_token = provider
        .id_token_for(&sub, TEST_CLIENT_ID, TEST_REDIRECT_URI)
        .await;
    let signed_in = world.post_id_token(&id_token).await;
    signed_in.expect_status(200);
    assert_eq!(signed_in.body["customer"]["email"], email.as_str());
    assert_eq!(signed_in.body["token_type"], "Bearer");
    // The browser flow for the same subject is the same customer.
    let browser = world.sign_in(&provider, &sub).await;
    assert_eq!(
        browser.body["customer"]["id"],
        signed_in.body["customer"]["id"]
    );

    let before = world.env.snapshot().await;
    // Issued to another client.
    let other_app = provider
        .id_token_for(&sub, "another-app", TEST_REDIRECT_URI)
        .await;
    let refused = world.post_id_token(&other_app).await;
    refused.expect_problem(401);
    assert!(
        refused.body["detail"]
            .as_str()
            .expect("detail")
            .contains("another client")
    );
    // Issued by another issuer (the same server under another name signs with the same
    // key but names itself differently).
    let localhost = provider.issuer.replace("127.0.0.1", "localhost");
    let other_issuer = provider
        .id_token_via(&localhost, &sub, TEST_CLIENT_ID, TEST_REDIRECT_URI)
        .await;
    let refused = world.post_id_token(&other_issuer).await;
    refused.expect_problem(401);
    assert!(
        refused.body["detail"]
            .as_str()
            .expect("detail")
            .contains("issuer")
    );
    // Unverified email.
    let unverified = format!("unverified-{}", ulid::Ulid::new());
    provider
        .put_user(
            &unverified,
            json!({"email": unique_email("u"), "email_verified": false}),
        )
        .await;
    let token = provider
        .id_token_for(&unverified, TEST_CLIENT_ID, TEST_REDIRECT_URI)
        .await;
    world.post_id_token(&token).await.expect_problem(401);
    // Garbage, and a body that is not the contract's.
    world.post_id_token("not-a-token").await.expect_problem(401);
    ApiRequest::post("/api/v1/auth/google/id-token")
        .json(&json!({"token": id_token}))
        .send(&world.auth)
        .await
        .expect_problem(422);
    assert_eq!(world.env.snapshot().await, before);
}

#[tokio::test]
async fn expired_forged_or_unsigned_id_tokens_are_401_and_rotated_keys_are_fetched() {
    let mut provider = ScriptedProvider::start().await;
    let world = world_at(&provider.issuer()).await;
    let valid = provider.claims(TEST_CLIENT_ID, "scripted-1", &unique_email("scripted"));
    world
        .post_id_token(&provider.sign(&valid))
        .await
        .expect_status(200);

    let before = world.env.snapshot().await;
    let mut expired = valid.clone();
    expired["exp"] = (testkit::keys::now_seconds() - 600).into();
    let mut wrong_iss = valid.clone();
    wrong_iss["iss"] = "https://accounts.google.com".into();
    let mut wrong_aud = valid.clone();
    wrong_aud["aud"] = "someone-else".into();
    let mut unverified = valid.clone();
    unverified["email_verified"] = false.into();
    let impostor = ScriptedProvider::start().await;
    for (what, token, reason) in [
        ("expired", provider.sign(&expired), "expired"),
        ("wrong issuer", provider.sign(&wrong_iss), "issuer"),
        ("wrong audience", provider.sign(&wrong_aud), "client"),
        ("unverified", provider.sign(&unverified), "verified"),
        ("bad signature", impostor.sign(&valid), "signature"),
        ("alg none", unsigned_token("k1", &valid), "malformed"),
        (
            "HS256 with the public key",
            provider.key.sign_hs256_with_public_key(&valid),
            "RS256 or ES256",
        ),
    ] {
        let refused = world.post_id_token(&token).await;
        assert_eq!(refused.status.as_u16(), 401, "{what}: {}", refused.body);
        assert!(
            refused.body["detail"]
                .as_str()
                .expect("detail")
                .contains(reason),
            "{what}: {}",
            refused.body
        );
    }
    assert_eq!(world.env.snapshot().await, before);

    // The provider rotates its key: the unknown kid makes us fetch its keys again.
    provider.rotate("k2").await;
    world
        .post_id_token(&provider.sign(&valid))
        .await
        .expect_status(200);
    assert_eq!(provider.jwks_fetches().await, 1);
}

#[tokio::test]
async fn provider_failures_are_502_and_refused_codes_400() {
    let provider = ScriptedProvider::start().await;
    let world = world_at(&provider.issuer()).await;
    // Discovery works, the token endpoint fails.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&provider.server)
        .await;
    let (_, state) = world.login().await;
    let failed = world
        .get(&format!(
            "/api/v1/auth/google/callback?code=c&state={state}"
        ))
        .await;
    failed.expect_problem(502);
    assert!(!failed.body.to_string().contains("boom"));

    // The token endpoint refuses the code.
    provider.publish(&[&provider.key]).await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&provider.server)
        .await;
    let (_, state) = world.login().await;
    world
        .get(&format!(
            "/api/v1/auth/google/callback?code=c&state={state}"
        ))
        .await
        .expect_problem(400);
    // The user denied access at the provider.
    let (_, state) = world.login().await;
    world
        .get(&format!(
            "/api/v1/auth/google/callback?error=access_denied&state={state}"
        ))
        .await
        .expect_problem(400);

    // The provider is down altogether.
    let down = ScriptedProvider::start().await;
    let world = world_at(&down.issuer()).await;
    down.server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down.server)
        .await;
    world
        .get("/api/v1/auth/google/login")
        .await
        .expect_problem(502);
    world
        .post_id_token(&down.sign(&down.claims(TEST_CLIENT_ID, "s", "a@example.com")))
        .await
        .expect_problem(502);
}

#[tokio::test]
async fn jwks_publishes_the_keys_that_verify_our_tokens() {
    let (world, provider) = world().await;
    let response = world.get("/api/v1/auth/jwks.json").await;
    response.expect_status(200);
    let keys = response.body["keys"].as_array().expect("keys");
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "public keys only"
    );
    let published = http_api::TokenVerifier::from_jwks(
        &response.body.to_string(),
        testkit::env::ISSUER,
        testkit::env::AUDIENCE,
    )
    .expect("a usable JWK Set");
    let sub = provider.new_user(&unique_email("jwks"), "J").await;
    let signed_in = world.sign_in(&provider, &sub).await;
    published
        .verify(&token_of(&signed_in))
        .expect("verified by the published keys");
    ApiRequest::post("/api/v1/auth/jwks.json")
        .send(&world.auth)
        .await
        .expect_problem(405);
}
