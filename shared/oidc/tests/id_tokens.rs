//! ID-token verification and key handling against a scripted provider (wiremock), and
//! the authorization-code flow against the real local provider.

use std::time::Duration;

use oidc::{IdTokenError, OidcClient, OidcError, ProviderConfig};
use serde_json::Value;
use testkit::oidc::{ScriptedProvider, unsigned_token};
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

const CLIENT: &str = "client-1";

/// A client as the auth function builds it: its HTTP client made on first use.
fn client_of(issuer: &str) -> OidcClient {
    OidcClient::lazy(ProviderConfig {
        issuer_url: issuer.to_owned(),
        client_id: CLIENT.into(),
        client_secret: secrecy::SecretString::from("secret"),
    })
    .with_min_key_refresh_interval(Duration::ZERO)
}

fn refused(result: Result<oidc::VerifiedIdentity, OidcError>) -> IdTokenError {
    match result {
        Err(OidcError::InvalidIdToken(reason)) => reason,
        other => panic!("expected an invalid ID token, got {other:?}"),
    }
}

#[tokio::test]
async fn accepts_a_valid_token_and_caches_discovery_and_keys() {
    let provider = ScriptedProvider::start().await;
    let client = client_of(&provider.issuer());
    let token = provider.sign(&provider.claims(CLIENT, "sub-1", "a@example.com"));
    let identity = client.verify_id_token(&token, None).await.expect("valid");
    assert_eq!(identity.subject, "sub-1");
    assert_eq!(identity.email, "a@example.com");
    assert_eq!(identity.name.as_deref(), Some("Scripted User"));
    client.verify_id_token(&token, None).await.expect("valid");
    assert_eq!(provider.jwks_fetches().await, 1, "keys are cached");
}

#[tokio::test]
async fn refreshes_the_keys_when_a_token_names_an_unknown_kid() {
    let mut provider = ScriptedProvider::start().await;
    let client = client_of(&provider.issuer());
    let first = provider.sign(&provider.claims(CLIENT, "s", "a@example.com"));
    client.verify_id_token(&first, None).await.expect("valid");
    provider.rotate("k2").await;
    let rotated = provider.sign(&provider.claims(CLIENT, "s", "a@example.com"));
    client
        .verify_id_token(&rotated, None)
        .await
        .expect("the new key is fetched");
    assert_eq!(provider.jwks_fetches().await, 1);
}

#[tokio::test]
async fn unknown_kids_refresh_at_most_once_per_interval() {
    let mut provider = ScriptedProvider::start().await;
    let client =
        client_of(&provider.issuer()).with_min_key_refresh_interval(Duration::from_secs(3600));
    let first = provider.sign(&provider.claims(CLIENT, "s", "a@example.com"));
    client.verify_id_token(&first, None).await.expect("valid");
    provider.rotate("k2").await;
    let rotated = provider.sign(&provider.claims(CLIENT, "s", "a@example.com"));
    assert_eq!(
        refused(client.verify_id_token(&rotated, None).await),
        IdTokenError::UnknownKey
    );
    assert_eq!(
        provider.jwks_fetches().await,
        0,
        "no refetch inside the interval"
    );
}

#[tokio::test]
async fn refuses_tokens_that_do_not_prove_the_user() {
    let provider = ScriptedProvider::start().await;
    let client = client_of(&provider.issuer());
    let valid = provider.claims(CLIENT, "s", "a@example.com");
    let with = |field: &str, value: Value| {
        let mut claims = valid.clone();
        claims[field] = value;
        provider.sign(&claims)
    };
    let now = testkit::keys::now_seconds();
    let cases = [
        (
            with("iss", "https://elsewhere.example".into()),
            IdTokenError::WrongIssuer,
        ),
        (
            with("aud", "another-client".into()),
            IdTokenError::WrongAudience,
        ),
        (with("exp", (now - 3600).into()), IdTokenError::Expired),
        (
            with("email_verified", false.into()),
            IdTokenError::EmailNotVerified,
        ),
        (
            with("email_verified", Value::Null),
            IdTokenError::EmailNotVerified,
        ),
        (unsigned_token("k1", &valid), IdTokenError::Malformed),
        (
            provider.key.sign_hs256_with_public_key(&valid),
            IdTokenError::UnsupportedAlgorithm,
        ),
        ("not.a.token".to_owned(), IdTokenError::Malformed),
    ];
    for (token, reason) in cases {
        assert_eq!(refused(client.verify_id_token(&token, None).await), reason);
    }
    // Signed by a key the provider never published, under its kid.
    let mut impostor = ScriptedProvider::start().await;
    impostor.rotate("k1").await;
    assert_eq!(
        refused(client.verify_id_token(&impostor.sign(&valid), None).await),
        IdTokenError::BadSignature
    );
}

#[tokio::test]
async fn checks_the_nonce_when_one_was_sent() {
    let provider = ScriptedProvider::start().await;
    let client = client_of(&provider.issuer());
    let mut claims = provider.claims(CLIENT, "s", "a@example.com");
    claims["nonce"] = "n-1".into();
    let token = provider.sign(&claims);
    client
        .verify_id_token(&token, Some("n-1"))
        .await
        .expect("nonce matches");
    assert_eq!(
        refused(client.verify_id_token(&token, Some("n-2")).await),
        IdTokenError::NonceMismatch
    );
    let without = provider.sign(&provider.claims(CLIENT, "s", "a@example.com"));
    assert_eq!(
        refused(client.verify_id_token(&without, Some("n-1")).await),
        IdTokenError::NonceMismatch
    );
}

#[tokio::test]
async fn a_failing_provider_is_a_provider_error() {
    let provider = ScriptedProvider::start().await;
    provider.server.reset().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&provider.server)
        .await;
    let client = client_of(&provider.issuer());
    let token = provider.sign(&provider.claims(CLIENT, "s", "a@example.com"));
    assert!(matches!(
        client.verify_id_token(&token, None).await,
        Err(OidcError::Provider(_))
    ));
    // A discovery document naming another issuer is not trusted.
    let other = ScriptedProvider::start().await;
    provider.server.reset().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": other.issuer(),
            "authorization_endpoint": "x", "token_endpoint": "x",
            "jwks_uri": format!("{}/jwks", other.issuer()),
        })))
        .mount(&provider.server)
        .await;
    assert!(matches!(
        client.verify_id_token(&token, None).await,
        Err(OidcError::Provider(_))
    ));
}

#[tokio::test]
async fn authorization_urls_carry_pkce_s256_state_nonce_and_scopes() {
    let provider = ScriptedProvider::start().await;
    let client = client_of(&provider.issuer());
    let request = client
        .authorization_request("http://127.0.0.1:9000/cb")
        .await
        .expect("request");
    let url = url::Url::parse(&request.url).expect("url");
    let param = |name: &str| testkit::oidc::query_param(&url, name);
    assert_eq!(url.path(), "/authorize");
    assert_eq!(param("response_type").as_deref(), Some("code"));
    assert_eq!(param("client_id").as_deref(), Some(CLIENT));
    assert_eq!(param("scope").as_deref(), Some("openid email profile"));
    assert_eq!(param("state").as_deref(), Some(request.state.as_str()));
    assert_eq!(param("nonce").as_deref(), Some(request.nonce.as_str()));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(
        param("code_challenge"),
        Some(testkit::oidc::pkce_s256(&request.pkce_verifier))
    );
    assert_eq!(
        param("redirect_uri").as_deref(),
        Some("http://127.0.0.1:9000/cb")
    );
    assert!(request.state.len() >= 32 && request.nonce.len() >= 32);
    let again = client
        .authorization_request("http://127.0.0.1:9000/cb")
        .await
        .expect("request");
    assert_ne!(again.state, request.state);
    assert_ne!(again.nonce, request.nonce);
    assert_ne!(again.pkce_verifier, request.pkce_verifier);
}
