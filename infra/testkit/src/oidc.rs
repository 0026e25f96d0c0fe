//! OpenID providers for tests.
//!
//! - [`LocalProvider`]: the real OpenID Connect provider (`oidc-provider-mock`, pinned in
//!   infra/requirements.txt) that `make test` and `make dev` run on loopback; its URL comes
//!   from `OIDC_ISSUER_URL`. Tests register users with the claims they need and sign in as
//!   them by submitting the provider's authorization form, as a browser would.
//! - [`ScriptedProvider`]: a wiremock server publishing a discovery document and a JWK Set
//!   of keys the test holds, for what the real provider will not do: sign expired or
//!   otherwise bad tokens, rotate its keys, or fail.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::SecretKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::keys::now_seconds;

/// The client id tests register with the providers.
pub const TEST_CLIENT_ID: &str = "order-system-test-client";
/// The client secret tests use (the local provider accepts any).
pub const TEST_CLIENT_SECRET: &str = "local-secret";
/// The redirect URI tests configure (nothing listens there: tests read the redirect).
pub const TEST_REDIRECT_URI: &str = "http://127.0.0.1:9000/api/v1/auth/google/callback";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("HTTP client: {e}"))
}

/// The local OpenID provider started by `make test` / `make dev`.
#[derive(Debug, Clone)]
pub struct LocalProvider {
    /// Its issuer URL (`http://127.0.0.1:<port>`).
    pub issuer: String,
    http: reqwest::Client,
}

impl LocalProvider {
    /// The provider at `OIDC_ISSUER_URL`.
    pub fn from_env() -> Self {
        let issuer = std::env::var("OIDC_ISSUER_URL").unwrap_or_else(|_| {
            panic!(
                "OIDC_ISSUER_URL is not set: run the tests with `make test`, which starts the local OpenID provider"
            )
        });
        Self::at(&issuer)
    }

    /// The provider at `issuer`.
    pub fn at(issuer: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            http: http(),
        }
    }

    /// Registers (or replaces) the user `sub` with these claims (`email`,
    /// `email_verified`, `name`, …).
    pub async fn put_user(&self, sub: &str, claims: Value) {
        let response = self
            .http
            .put(format!("{}/users/{sub}", self.issuer))
            .json(&claims)
            .send()
            .await
            .unwrap_or_else(|e| panic!("local provider unreachable: {e}"));
        assert!(
            response.status().is_success(),
            "registering user {sub}: HTTP {}",
            response.status()
        );
    }

    /// A new user with a verified email and a name; returns its subject.
    pub async fn new_user(&self, email: &str, name: &str) -> String {
        let sub = format!("user-{}", ulid::Ulid::new().to_string().to_lowercase());
        self.put_user(
            &sub,
            json!({"email": email, "email_verified": true, "name": name}),
        )
        .await;
        sub
    }

    /// Signs in as `sub` at `authorization_url` (submits the provider's form) and returns
    /// where the provider redirects the browser: the callback URL with `code` and `state`.
    pub async fn authorize(&self, authorization_url: &str, sub: &str) -> url::Url {
        let response = self
            .http
            .post(authorization_url)
            .form(&[("sub", sub)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("local provider unreachable: {e}"));
        assert!(
            response.status().is_redirection(),
            "the provider did not redirect (HTTP {}): {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("redirect without Location"));
        url::Url::parse(location).unwrap_or_else(|e| panic!("Location {location:?}: {e}"))
    }

    /// An ID token for `sub` issued to `client_id` straight from the provider (as a
    /// Google Sign-In client would hold one), going through the whole code flow.
    pub async fn id_token_for(&self, sub: &str, client_id: &str, redirect_uri: &str) -> String {
        self.id_token_via(&self.issuer, sub, client_id, redirect_uri)
            .await
    }

    /// Like [`id_token_for`](Self::id_token_for), but reaching the provider at `base`
    /// (another name of the same server makes it issue tokens with another `iss`).
    pub async fn id_token_via(
        &self,
        base: &str,
        sub: &str,
        client_id: &str,
        redirect_uri: &str,
    ) -> String {
        let mut authorize =
            url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap_or_else(|e| panic!("{e}"));
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", "s")
            .append_pair("nonce", "client-side-nonce");
        let redirect = self.authorize(authorize.as_str(), sub).await;
        let code = query_param(&redirect, "code").unwrap_or_else(|| panic!("no code"));
        let response: Value = self
            .http
            .post(format!("{base}/oauth2/token"))
            .basic_auth(client_id, Some(TEST_CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("token endpoint: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("token response: {e}"));
        response["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no id_token in {response}"))
            .to_owned()
    }
}

/// The value of query parameter `name` in `url`.
pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A P-256 key of a scripted provider.
#[derive(Debug, Clone)]
pub struct ProviderKey {
    pub kid: String,
    pub secret: SecretKey,
}

impl ProviderKey {
    fn new(kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            secret: SecretKey::random(&mut rand_core::OsRng),
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk: Value = serde_json::from_str(&self.secret.public_key().to_jwk_string())
            .unwrap_or_else(|e| panic!("{e}"));
        jwk["kid"] = self.kid.clone().into();
        jwk["use"] = "sig".into();
        jwk["alg"] = "ES256".into();
        jwk
    }

    /// `claims` signed ES256 with this key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        let pem = self
            .secret
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap_or_else(|e| panic!("{e}"));
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &key).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `claims` "signed" HS256 with this key's public PEM as the HMAC secret (the
    /// algorithm-confusion attack).
    pub fn sign_hs256_with_public_key(&self, claims: &Value) -> String {
        let public = self
            .secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// An unsigned token (`alg: none`) with `kid`.
pub fn unsigned_token(kid: &str, claims: &Value) -> String {
    let header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// A wiremock provider: discovery document and JWK Set of keys the test holds.
#[derive(Debug)]
pub struct ScriptedProvider {
    pub server: MockServer,
    /// The key that signs now.
    pub key: ProviderKey,
}

impl ScriptedProvider {
    /// A provider publishing one key, `k1`.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let key = ProviderKey::new("k1");
        let provider = Self { server, key };
        provider.publish(&[&provider.key]).await;
        provider
    }

    /// Its issuer URL.
    pub fn issuer(&self) -> String {
        self.server.uri()
    }

    /// Replaces everything the provider serves: discovery and a JWK Set of `keys`.
    pub async fn publish(&self, keys: &[&ProviderKey]) {
        self.server.reset().await;
        let issuer = self.issuer();
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
            })))
            .mount(&self.server)
            .await;
        let jwks = json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() });
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
            .mount(&self.server)
            .await;
    }

    /// Rotates to a new signing key `kid`, publishing only that one.
    pub async fn rotate(&mut self, kid: &str) {
        self.key = ProviderKey::new(kid);
        self.publish(&[&self.key]).await;
    }

    /// Claims of a valid ID token for `client_id`: verified email, an hour to live.
    pub fn claims(&self, client_id: &str, sub: &str, email: &str) -> Value {
        let now = now_seconds();
        json!({
            "iss": self.issuer(), "aud": client_id, "sub": sub,
            "email": email, "email_verified": true, "name": "Scripted User",
            "iat": now, "exp": now + 3600,
        })
    }

    /// `claims` signed by the current key.
    pub fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims)
    }

    /// How many times the JWK Set was fetched.
    pub async fn jwks_fetches(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == "/jwks")
            .count()
    }
}

/// The PKCE S256 challenge of `verifier`: base64url(SHA-256(verifier)).
pub fn pkce_s256(verifier: &str) -> String {
    use sha2::Digest;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}
