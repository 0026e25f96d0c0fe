//! The customers Lambda, driven with real API Gateway v2 events against moto: the
//! profile, the phone-number rule, and every way an access token is refused.

use domain::customer::{CustomerName, SignIn};
use domain::customer_use_cases::Accounts;
use http_api::auth::{ACCESS_TOKEN_TTL_SECONDS, Identity};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::SecretKey;
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use testkit::env::{AUDIENCE, ISSUER, TestEnv};
use testkit::events::ApiRequest;
use testkit::keys;
use testkit::oidc::unsigned_token;

const ME: &str = "/api/v1/customer/me";

struct App {
    env: TestEnv,
    router: axum::Router,
    /// A signed-in customer and their token.
    identity: Identity,
    token: String,
}

async fn app() -> App {
    let env = TestEnv::new().await;
    let router = customers::router(env.customers_state());
    let customer = Accounts::new(&env.customers())
        .sign_in(SignIn {
            subject: format!("sub-{}", ulid::Ulid::new()),
            email: "wanjiku@example.com".into(),
            name: CustomerName::parse("Wanjiku").expect("name"),
            is_admin: false,
        })
        .await
        .expect("sign in");
    let identity = Identity {
        customer_id: customer.id.to_string(),
        email: customer.email,
        name: "Wanjiku".into(),
        admin: false,
    };
    let token = env.token_for(&identity);
    App {
        env,
        router,
        identity,
        token,
    }
}

impl App {
    async fn get_me(&self, token: &str) -> testkit::events::ApiResponse {
        ApiRequest::get(ME).bearer(token).send(&self.router).await
    }

    async fn patch_me(&self, body: Value) -> testkit::events::ApiResponse {
        ApiRequest::patch(ME)
            .bearer(&self.token)
            .json(&body)
            .send(&self.router)
            .await
    }
}

#[tokio::test]
async fn a_new_customer_has_no_phone_number_until_they_set_one() {
    let app = app().await;
    let me = app.get_me(&app.token).await;
    me.expect_status(200);
    assert_eq!(me.body["id"], app.identity.customer_id.as_str());
    assert_eq!(me.body["email"], "wanjiku@example.com");
    assert_eq!(me.body["name"], "Wanjiku");
    assert_eq!(me.body["phone_number"], Value::Null);
    assert_eq!(me.body["is_admin"], false);
    assert!(me.body["created_at"].is_string() && me.body["updated_at"].is_string());

    let updated = app
        .patch_me(json!({"phone_number": "+254 712 345 678", "name": "Wanjiku K."}))
        .await;
    updated.expect_status(200);
    assert_eq!(updated.body["phone_number"], "+254712345678");
    assert_eq!(updated.body["name"], "Wanjiku K.");
    assert_eq!(
        app.get_me(&app.token).await.body["phone_number"],
        "+254712345678"
    );

    // Every accepted form lands as E.164.
    for raw in ["0712345678", "712345678", "254712345678", "0110 123 456"] {
        let response = app.patch_me(json!({"phone_number": raw})).await;
        response.expect_status(200);
        assert!(
            response.body["phone_number"]
                .as_str()
                .is_some_and(|p| p.starts_with("+254") && p.len() == 13),
            "{raw}: {}",
            response.body
        );
    }
    // null removes it; a name-only change leaves the phone alone.
    let cleared = app.patch_me(json!({"phone_number": null})).await;
    assert_eq!(cleared.body["phone_number"], Value::Null);
    let renamed = app.patch_me(json!({"name": "W"})).await;
    assert_eq!(renamed.body["phone_number"], Value::Null);
}

#[tokio::test]
async fn invalid_profile_changes_are_422_and_change_nothing() {
    let app = app().await;
    app.patch_me(json!({"phone_number": "0712345678"}))
        .await
        .expect_status(200);
    let before = app.env.snapshot().await;
    for (body, field) in [
        (json!({"phone_number": "0201234567"}), "phone_number"),
        (json!({"phone_number": "+1 415 555 0100"}), "phone_number"),
        (json!({"phone_number": "call me"}), "phone_number"),
        (json!({"phone_number": 712345678}), "phone_number"),
        (json!({"name": ""}), "name"),
        (json!({"name": null}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"email": "new@example.com"}), "email"),
        (json!(["Wanjiku", null]), "body"),
    ] {
        let problem = app.patch_me(body.clone()).await.expect_problem(422).clone();
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    ApiRequest::patch(ME)
        .bearer(&app.token)
        .header("content-type", "application/json")
        .raw_body(b"{".to_vec())
        .send(&app.router)
        .await
        .expect_problem(400);
    ApiRequest::patch(ME)
        .bearer(&app.token)
        .raw_body(b"{}".to_vec())
        .send(&app.router)
        .await
        .expect_problem(415);
    assert_eq!(app.env.snapshot().await, before);
}

#[tokio::test]
async fn a_valid_token_without_a_customer_is_404_and_wrong_methods_405() {
    let app = app().await;
    let stranger = app.env.customer_token();
    app.get_me(&stranger).await.expect_problem(404);
    ApiRequest::delete(ME)
        .bearer(&app.token)
        .send(&app.router)
        .await
        .expect_problem(405);
}

fn claims(identity: &Identity, iss: &str, aud: &str) -> Value {
    let now = keys::now_seconds();
    json!({
        "sub": identity.customer_id, "email": identity.email, "name": identity.name,
        "admin": false, "iss": iss, "aud": aud, "iat": now, "exp": now + 3600,
    })
}

#[tokio::test]
async fn every_bad_token_is_refused_with_401() {
    let app = app().await;
    let identity = &app.identity;
    let test_keys = &app.env.keys;
    app.get_me(&app.token).await.expect_status(200);

    let no_token = ApiRequest::get(ME).send(&app.router).await;
    no_token.expect_problem(401);
    assert!(
        no_token
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer"))
    );

    // Signed by another key published under our kid.
    let impostor = keys::generate(&test_keys.kid).expect("keys");
    let bad_signature = keys::token(
        &impostor.signer(ISSUER, AUDIENCE).expect("signer"),
        identity,
    )
    .expect("token");
    // A payload swapped after signing.
    let mut parts: Vec<String> = app.token.split('.').map(str::to_owned).collect();
    let other_claims = json!({"sub": "someone-else", "admin": true});
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        other_claims.to_string(),
    );
    let tampered = parts.join(".");
    // HS256 "signed" with our public key as the secret (algorithm confusion).
    let public_pem = SecretKey::from_pkcs8_pem(&test_keys.private_pem)
        .expect("private key")
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("public pem");
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(test_keys.kid.clone());
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims(identity, ISSUER, AUDIENCE),
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .expect("hs256");
    let signer = |iss: &str, aud: &str| test_keys.signer(iss, aud).expect("signer");
    let wrong_iss = keys::token(&signer("someone-else", AUDIENCE), identity).expect("token");
    let wrong_aud = keys::token(&signer(ISSUER, "another-api"), identity).expect("token");
    let expired = signer(ISSUER, AUDIENCE)
        .sign(identity, keys::now_seconds() - 2 * ACCESS_TOKEN_TTL_SECONDS)
        .expect("token");
    let unknown_kid = keys::generate("unknown-kid").expect("keys");
    let unknown = keys::token(
        &unknown_kid.signer(ISSUER, AUDIENCE).expect("signer"),
        identity,
    )
    .expect("token");

    let cases = [
        ("malformed", "not-a-jwt".to_owned()),
        ("bad signature", bad_signature),
        ("tampered payload", tampered),
        (
            "alg none",
            unsigned_token(&test_keys.kid, &claims(identity, ISSUER, AUDIENCE)),
        ),
        ("HS256 with our public key", confused),
        ("wrong iss", wrong_iss),
        ("wrong aud", wrong_aud),
        ("expired", expired),
        ("unknown kid", unknown),
    ];
    for (what, token) in cases {
        let response = app.get_me(&token).await;
        assert_eq!(response.status.as_u16(), 401, "{what}: {}", response.body);
        response.expect_problem(401);
        assert!(
            response
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{what}"
        );
        let patch = ApiRequest::patch(ME)
            .bearer(&token)
            .json(&json!({"phone_number": "0712345678"}))
            .send(&app.router)
            .await;
        assert_eq!(patch.status.as_u16(), 401, "{what}");
    }
    assert_eq!(
        app.get_me(&app.token).await.body["phone_number"],
        Value::Null
    );
}
