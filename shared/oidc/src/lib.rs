//! OpenID Connect relying party, provider-agnostic: Google in production and a local
//! provider offline go through the same code, configured only by the issuer URL, the client
//! id and the client secret.
//!
//! - **Discovery**: the provider's endpoints come from
//!   `<issuer>/.well-known/openid-configuration`, fetched on first use and kept for the life
//!   of the process (warm Lambda invocations reuse it); its `issuer` must be the configured
//!   one.
//! - **Keys**: the provider's JWK Set is cached the same way and fetched again when a token
//!   names a key it does not hold (rotation), at most once per
//!   [`OidcClient::with_min_key_refresh_interval`].
//! - **ID tokens**: RS256 or ES256 only, signature by a provider key, `iss`, `aud` (our client
//!   id), `exp`, the `nonce` when one was sent, and `email_verified`.
//! - **Authorization-code flow** (the `oauth2` crate): authorization URL with PKCE (S256),
//!   `state`, `nonce` and scope `openid email profile`; code exchange with the verifier.
//!
//! No secret (code, token, verifier, client secret) is ever logged or put in an error.

mod error;
mod keys;

use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};

pub use error::{IdTokenError, OidcError};
use keys::{KeyCache, ProviderKey, provider_key};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, RwLock};

/// Google's issuer, the production default.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// How far clocks may disagree when checking `exp`, in seconds.
pub const CLOCK_LEEWAY_SECONDS: u64 = 60;

/// The provider and our registration with it.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The issuer URL; discovery is at `<issuer>/.well-known/openid-configuration`.
    pub issuer_url: String,
    pub client_id: String,
    /// Never printed: `Debug` leaves it out and `SecretString` redacts it anyway.
    pub client_secret: SecretString,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Who the provider vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable subject identifier.
    pub subject: String,
    /// A provider-verified email address.
    pub email: String,
    pub name: Option<String>,
}

/// A sign-in to start: send the user to `url`, keep the rest server-side.
#[derive(Clone)]
pub struct AuthorizationRequest {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .finish_non_exhaustive()
    }
}

/// The parts of the discovery document we use.
#[derive(Debug, Clone, Deserialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The token endpoint's extra field: the ID token.
#[derive(Debug, Clone, Deserialize, Serialize)]
struct IdTokenField {
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

type CodeFlowClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The ID token claims we read.
#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    name: Option<String>,
    nonce: Option<String>,
}

/// The relying party of one provider. Cheap to share (`Arc`); caches discovery and keys.
pub struct OidcClient {
    config: ProviderConfig,
    /// Built on first use ([`OidcClient::lazy`]) or given ([`OidcClient::new`]).
    http: OnceCell<reqwest::Client>,
    metadata: OnceCell<ProviderMetadata>,
    keys: RwLock<KeyCache>,
    min_key_refresh_interval: Duration,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An HTTP client for provider calls: no redirects (they would open the token request to
/// SSRF), bounded time.
pub fn http_client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(8))
        .build()
        .map_err(|e| OidcError::Config(format!("HTTP client: {e}")))
}

fn random_token() -> String {
    // 32 random bytes, base64url.
    CsrfToken::new_random_len(32).secret().clone()
}

/// The issuers whose tokens we accept: the configured one, and for Google the scheme-less
/// form it also uses in ID tokens.
fn accepted_issuers(issuer: &str) -> Vec<String> {
    let mut issuers = vec![issuer.to_owned()];
    if issuer == GOOGLE_ISSUER {
        issuers.push("accounts.google.com".to_owned());
    }
    issuers
}

impl OidcClient {
    /// A client of the provider in `config`, making its calls with `http` (see
    /// [`http_client`]). Nothing is fetched until first use.
    pub fn new(config: ProviderConfig, http: reqwest::Client) -> Self {
        let client = Self::lazy(config);
        // A fresh cell takes its first value.
        let _ = client.http.set(http);
        client
    }

    /// A client of the provider in `config` whose HTTP client ([`http_client`]) is built
    /// on its first call to the provider: a function instance that never signs anyone in
    /// (it serves `jwks.json`, say) never pays for the TLS set-up, and one that does pays
    /// it once, on a request that goes to the provider over TLS anyway.
    pub fn lazy(config: ProviderConfig) -> Self {
        let issuer_url = config.issuer_url.trim_end_matches('/').to_owned();
        Self {
            config: ProviderConfig {
                issuer_url,
                ..config
            },
            http: OnceCell::new(),
            metadata: OnceCell::new(),
            keys: RwLock::new(KeyCache::default()),
            min_key_refresh_interval: Duration::from_secs(30),
        }
    }

    /// The shortest time between two fetches of the provider's keys triggered by unknown
    /// key ids (default 30 s), so forged `kid`s cannot make us hammer the provider.
    pub fn with_min_key_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_key_refresh_interval = interval;
        self
    }

    /// Our client id at the provider.
    pub fn client_id(&self) -> &str {
        &self.config.client_id
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        url: &str,
    ) -> Result<T, OidcError> {
        let response = self
            .http()
            .await?
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("{what}: {}", e.without_url())))?;
        if !response.status().is_success() {
            return Err(OidcError::Provider(format!(
                "{what}: HTTP {}",
                response.status().as_u16()
            )));
        }
        response
            .json::<T>()
            .await
            .map_err(|e| OidcError::Provider(format!("{what}: {}", e.without_url())))
    }

    /// The HTTP client, built on first use.
    async fn http(&self) -> Result<&reqwest::Client, OidcError> {
        self.http.get_or_try_init(|| async { http_client() }).await
    }

    async fn metadata(&self) -> Result<&ProviderMetadata, OidcError> {
        self.metadata
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer_url
                );
                let metadata: ProviderMetadata = self.get_json("discovery document", &url).await?;
                if metadata.issuer.trim_end_matches('/') != self.config.issuer_url {
                    return Err(OidcError::Provider(
                        "discovery document names another issuer".into(),
                    ));
                }
                tracing::info!(issuer = %metadata.issuer, "OpenID provider discovered");
                Ok(metadata)
            })
            .await
    }

    async fn fetch_keys(&self) -> Result<Vec<ProviderKey>, OidcError> {
        let jwks_uri = self.metadata().await?.jwks_uri.clone();
        let set: JwkSet = self.get_json("JWK Set", &jwks_uri).await?;
        let keys: Vec<ProviderKey> = set.keys.iter().filter_map(provider_key).collect();
        tracing::info!(keys = keys.len(), "provider keys fetched");
        Ok(keys)
    }

    /// The keys that may have signed a token with this `kid` and algorithm, fetching the
    /// provider's keys when none is known (first use or rotation).
    async fn keys_for(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<Vec<DecodingKey>, OidcError> {
        {
            let cache = self.keys.read().await;
            let found = cache.candidates(kid, algorithm);
            if !found.is_empty() {
                return Ok(found);
            }
        }
        let mut cache = self.keys.write().await;
        // Another request may have refreshed the keys while we waited.
        let found = cache.candidates(kid, algorithm);
        if !found.is_empty() {
            return Ok(found);
        }
        let may_refresh = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.min_key_refresh_interval);
        if may_refresh {
            cache.keys = self.fetch_keys().await?;
            cache.fetched_at = Some(Instant::now());
        }
        let found = cache.candidates(kid, algorithm);
        if found.is_empty() {
            return Err(IdTokenError::UnknownKey.into());
        }
        Ok(found)
    }

    /// Verifies an ID token: signature by a provider key, `iss`, `aud`, `exp`, `nonce`
    /// (when `expected_nonce` is given; a token without one is then refused) and a verified
    /// email.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<VerifiedIdentity, OidcError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| IdTokenError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(IdTokenError::UnsupportedAlgorithm.into());
        }
        let metadata = self.metadata().await?;
        let keys = self.keys_for(header.kid.as_deref(), header.alg).await?;

        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&accepted_issuers(&metadata.issuer));
        validation.set_audience(&[self.config.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECONDS;

        let mut outcome = Err(IdTokenError::BadSignature);
        for key in &keys {
            outcome = jsonwebtoken::decode::<IdClaims>(id_token, key, &validation)
                .map(|data| data.claims)
                .map_err(|err| {
                    use jsonwebtoken::errors::ErrorKind;
                    match err.kind() {
                        ErrorKind::InvalidSignature => IdTokenError::BadSignature,
                        ErrorKind::ExpiredSignature => IdTokenError::Expired,
                        ErrorKind::InvalidIssuer => IdTokenError::WrongIssuer,
                        ErrorKind::InvalidAudience => IdTokenError::WrongAudience,
                        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
                            "iss" => IdTokenError::MissingClaim("iss"),
                            "aud" => IdTokenError::MissingClaim("aud"),
                            "exp" => IdTokenError::MissingClaim("exp"),
                            _ => IdTokenError::MissingClaim("sub"),
                        },
                        _ => IdTokenError::Malformed,
                    }
                });
            if !matches!(outcome, Err(IdTokenError::BadSignature)) {
                break;
            }
        }
        let claims = outcome?;

        if let Some(expected) = expected_nonce
            && claims.nonce.as_deref() != Some(expected)
        {
            return Err(IdTokenError::NonceMismatch.into());
        }
        let verified = match &claims.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        let email = claims
            .email
            .filter(|e| !e.trim().is_empty())
            .ok_or(IdTokenError::MissingClaim("email"))?;
        if !verified {
            return Err(IdTokenError::EmailNotVerified.into());
        }
        if claims.sub.is_empty() {
            return Err(IdTokenError::MissingClaim("sub").into());
        }
        Ok(VerifiedIdentity {
            subject: claims.sub,
            email,
            name: claims.name,
        })
    }

    fn code_flow_client(
        &self,
        metadata: &ProviderMetadata,
        redirect_uri: &str,
    ) -> Result<CodeFlowClient, OidcError> {
        let config = |what: &str, e: url::ParseError| OidcError::Config(format!("{what}: {e}"));
        Ok(
            oauth2::Client::new(ClientId::new(self.config.client_id.clone()))
                .set_client_secret(ClientSecret::new(
                    self.config.client_secret.expose_secret().to_owned(),
                ))
                .set_auth_uri(
                    AuthUrl::new(metadata.authorization_endpoint.clone())
                        .map_err(|e| OidcError::Provider(format!("authorization endpoint: {e}")))?,
                )
                .set_token_uri(
                    TokenUrl::new(metadata.token_endpoint.clone())
                        .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?,
                )
                .set_redirect_uri(
                    RedirectUrl::new(redirect_uri.to_owned())
                        .map_err(|e| config("redirect URI", e))?,
                ),
        )
    }

    /// A new sign-in: the provider's authorization URL (code flow, PKCE S256, `state`,
    /// `nonce`, scope `openid email profile`) and the secrets to keep until the callback.
    pub async fn authorization_request(
        &self,
        redirect_uri: &str,
    ) -> Result<AuthorizationRequest, OidcError> {
        let metadata = self.metadata().await?;
        let client = self.code_flow_client(metadata, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = random_token();
        let (url, state) = client
            .authorize_url(|| CsrfToken::new(random_token()))
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_extra_param("nonce", nonce.clone())
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges an authorization code (with its PKCE verifier and the redirect URI it was
    /// issued for) for the provider's ID token. The token still needs
    /// [`verify_id_token`](Self::verify_id_token).
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, OidcError> {
        let metadata = self.metadata().await?;
        let client = self.code_flow_client(metadata, redirect_uri)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(self.http().await?)
            .await
            .map_err(|err| match err {
                RequestTokenError::ServerResponse(refusal) => {
                    OidcError::CodeRejected(refusal.error().to_string())
                }
                RequestTokenError::Request(e) => {
                    OidcError::Provider(format!("token endpoint: {e}"))
                }
                RequestTokenError::Parse(_, _) => {
                    OidcError::Provider("token endpoint: unreadable response".into())
                }
                RequestTokenError::Other(_) => {
                    OidcError::Provider("token endpoint: unexpected response".into())
                }
            })?;
        response
            .extra_fields()
            .id_token
            .clone()
            .ok_or_else(|| OidcError::Provider("token endpoint returned no id_token".into()))
    }
}
