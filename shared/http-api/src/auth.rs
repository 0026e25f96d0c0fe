//! Our access tokens: ES256 JWTs with a `kid`, verified against configured public keys
//! (a JWK Set, so a current and a previous key can both be accepted while keys rotate).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::problem::ApiError;
use crate::verified_tokens::{Remembered, VerifiedTokens};

/// How long an access token lives: 24 hours.
pub const ACCESS_TOKEN_TTL_SECONDS: i64 = 24 * 60 * 60;

/// The claims of our access tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The customer's id.
    pub sub: String,
    pub email: String,
    pub name: String,
    pub admin: bool,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// The signed-in account as the change history records it (id and email).
    pub fn actor(&self) -> Result<domain::audit::Actor, ApiError> {
        let id = self.sub.parse().map_err(|_| {
            ApiError::Unauthorized("the token's subject is not a customer id".into())
        })?;
        Ok(domain::audit::Actor::account(id, self.email.clone()))
    }
}

/// Why a token was refused. Every variant is a 401; the text is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token algorithm must be ES256")]
    WrongAlgorithm,
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("token has expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

/// Why the key configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum KeyConfigError {
    #[error("public keys are not a JWK Set: {0}")]
    NotAJwkSet(serde_json::Error),
    #[error("the JWK Set holds no keys")]
    Empty,
    #[error("key {0:?} must be an EC P-256 key with a kid")]
    UnsupportedKey(String),
    #[error("key {kid:?} is unusable: {source}")]
    BadKey {
        kid: String,
        source: jsonwebtoken::errors::Error,
    },
    #[error("private key is not a PKCS#8 PEM EC key: {0}")]
    BadPrivateKey(jsonwebtoken::errors::Error),
}

/// Verifies access tokens: signature by a known key (`kid`), ES256 only, `iss`, `aud`
/// and `exp`.
///
/// A token it verified is remembered until it expires ([`VerifiedTokens`]): its
/// signature is checked once per warm instance.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    verified: VerifiedTokens<Claims>,
}

/// Seconds a token is still accepted after its `exp` (clock skew between instances).
const LEEWAY_SECONDS: i64 = 30;

/// The current time in Unix seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys())
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier trusting the EC P-256 keys of `jwks` (a JWK Set as JSON).
    pub fn from_jwks(jwks: &str, issuer: &str, audience: &str) -> Result<Self, KeyConfigError> {
        let set: JwkSet = serde_json::from_str(jwks).map_err(KeyConfigError::NotAJwkSet)?;
        if set.keys.is_empty() {
            return Err(KeyConfigError::Empty);
        }
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            let p256 = matches!(&jwk.algorithm, AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256);
            if kid.is_empty() || !p256 {
                return Err(KeyConfigError::UnsupportedKey(kid));
            }
            let key = DecodingKey::from_jwk(jwk).map_err(|source| KeyConfigError::BadKey {
                kid: kid.clone(),
                source,
            })?;
            keys.insert(kid, key);
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS.unsigned_abs();
        Ok(Self {
            keys,
            validation,
            verified: VerifiedTokens::default(),
        })
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = unix_now();
        match self.verified.recall(token, now, LEEWAY_SECONDS) {
            Remembered::Valid(claims) => return Ok(claims),
            Remembered::Expired => return Err(TokenError::Expired),
            Remembered::Unknown => {}
        }
        let claims = self.verify_in_full(token)?;
        self.verified
            .remember(token, claims.clone(), claims.exp, now, LEEWAY_SECONDS);
        Ok(claims)
    }

    /// `token`'s claims, checking its signature and every claim.
    fn verify_in_full(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::WrongAlgorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// Signs access tokens with our private key.
#[derive(Clone)]
pub struct TokenSigner {
    kid: String,
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Who a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub admin: bool,
}

impl TokenSigner {
    /// A signer using a PKCS#8 PEM EC P-256 private key published under `kid`.
    pub fn from_pem(
        kid: impl Into<String>,
        private_key_pem: &str,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, KeyConfigError> {
        let key = EncodingKey::from_ec_pem(private_key_pem.as_bytes())
            .map_err(KeyConfigError::BadPrivateKey)?;
        Ok(Self {
            kid: kid.into(),
            key,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// A token for `identity`, issued at `now` (Unix seconds), valid for 24 hours.
    pub fn sign(
        &self,
        identity: &Identity,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: identity.customer_id.clone(),
            email: identity.email.clone(),
            name: identity.name.clone(),
            admin: identity.admin,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECONDS,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, TokenError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let value = match value.to_str() {
        Ok(v) => v,
        Err(_) => return Some(Err(TokenError::Malformed)),
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Some(Err(TokenError::Malformed));
    }
    Some(Ok(token.trim()))
}

fn unauthorized(err: TokenError) -> ApiError {
    ApiError::Unauthorized(err.to_string())
}

/// The caller of a public route: anonymous, or authenticated by a valid token. A token
/// that is present but invalid is still refused with 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Claims>);

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.0.as_ref().is_some_and(|c| c.admin)
    }
}

impl Caller {
    /// The caller of a request with these headers: anonymous without an
    /// `Authorization` header, else the token's claims (401 when the token is invalid).
    pub fn from_headers(headers: &HeaderMap, verifier: &TokenVerifier) -> Result<Self, ApiError> {
        match bearer_token(headers) {
            None => Ok(Caller(None)),
            Some(token) => {
                let claims = token
                    .and_then(|t| verifier.verify(t))
                    .map_err(unauthorized)?;
                Ok(Caller(Some(claims)))
            }
        }
    }
}

/// Middleware: verifies the token of every request that carries one, public routes
/// included (an invalid token is a 401 everywhere), once, and leaves the [`Caller`] in the
/// request's extensions for the extractors.
pub async fn authenticate(
    State(verifier): State<Arc<TokenVerifier>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = Caller::from_headers(request.headers(), &verifier)?;
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        Caller::from_headers(&parts.headers, &Arc::<TokenVerifier>::from_ref(state))
    }
}

/// An authenticated customer (401 without a valid token).
#[derive(Debug, Clone)]
pub struct Customer(pub Claims);

impl<S> FromRequestParts<S> for Customer
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller(Some(claims)) => Ok(Customer(claims)),
            Caller(None) => Err(unauthorized(TokenError::Missing)),
        }
    }
}

/// An authenticated admin (401 without a valid token, 403 for a non-admin).
#[derive(Debug, Clone)]
pub struct Admin(pub Claims);

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    Arc<TokenVerifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Customer(claims) = Customer::from_request_parts(parts, state).await?;
        if !claims.admin {
            return Err(ApiError::Forbidden(
                "this action needs an admin account".into(),
            ));
        }
        Ok(Admin(claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::SecretKey;
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    const ISS: &str = "issuer";
    const AUD: &str = "audience";

    struct Keys {
        secret: SecretKey,
        kid: &'static str,
    }

    impl Keys {
        fn new(kid: &'static str) -> Self {
            Self {
                secret: SecretKey::random(&mut rand_core::OsRng),
                kid,
            }
        }

        fn jwk(&self) -> serde_json::Value {
            let mut jwk: serde_json::Value =
                serde_json::from_str(&self.secret.public_key().to_jwk_string()).expect("jwk");
            jwk["kid"] = self.kid.into();
            jwk
        }

        fn signer(&self, iss: &str, aud: &str) -> TokenSigner {
            let pem = self.secret.to_pkcs8_pem(LineEnding::LF).expect("pem");
            TokenSigner::from_pem(self.kid, &pem, iss, aud).expect("signer")
        }

        fn token(&self) -> String {
            self.signer(ISS, AUD)
                .sign(&identity(), now())
                .expect("token")
        }
    }

    fn identity() -> Identity {
        Identity {
            customer_id: "c1".into(),
            email: "a@example.com".into(),
            name: "A".into(),
            admin: false,
        }
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn verifier(keys: &[&Keys]) -> TokenVerifier {
        let set = serde_json::json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() });
        TokenVerifier::from_jwks(&set.to_string(), ISS, AUD).expect("verifier")
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn claims_json() -> serde_json::Value {
        serde_json::json!({
            "sub": "c1", "email": "a@example.com", "name": "A", "admin": true,
            "iss": ISS, "aud": AUD, "iat": now(), "exp": now() + 3600
        })
    }

    #[test]
    fn accepts_a_valid_token_from_the_current_or_previous_key() {
        let (current, previous) = (Keys::new("k2"), Keys::new("k1"));
        let verifier = verifier(&[&current, &previous]);
        assert_eq!(verifier.verify(&current.token()).expect("valid").sub, "c1");
        assert!(
            verifier.verify(&previous.token()).is_ok(),
            "a rotated-out key still verifies"
        );
    }

    #[test]
    fn refuses_tokens_with_bad_claims() {
        let keys = Keys::new("k1");
        let verifier = verifier(&[&keys]);
        let wrong_iss = keys
            .signer("someone-else", AUD)
            .sign(&identity(), now())
            .expect("token");
        let wrong_aud = keys
            .signer(ISS, "another-api")
            .sign(&identity(), now())
            .expect("token");
        let expired = keys
            .signer(ISS, AUD)
            .sign(&identity(), now() - 2 * ACCESS_TOKEN_TTL_SECONDS)
            .expect("token");
        assert_eq!(verifier.verify(&wrong_iss), Err(TokenError::Invalid));
        assert_eq!(verifier.verify(&wrong_aud), Err(TokenError::Invalid));
        assert_eq!(verifier.verify(&expired), Err(TokenError::Expired));
    }

    #[test]
    fn refuses_unknown_keys_and_bad_signatures() {
        let (keys, stranger) = (Keys::new("k1"), Keys::new("k9"));
        let verifier = verifier(&[&keys]);
        assert_eq!(
            verifier.verify(&stranger.token()),
            Err(TokenError::UnknownKey)
        );
        // Another key that claims our kid: the signature does not verify.
        let impostor = Keys {
            secret: SecretKey::random(&mut rand_core::OsRng),
            kid: "k1",
        };
        assert_eq!(verifier.verify(&impostor.token()), Err(TokenError::Invalid));
        // A payload changed after signing.
        let token = keys.token();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(&claims_json());
        parts[1] = &forged;
        assert_eq!(verifier.verify(&parts.join(".")), Err(TokenError::Invalid));
        // No kid at all.
        let header = b64(&serde_json::json!({"alg": "ES256", "typ": "JWT"}));
        let signature = token.rsplit('.').next().expect("signature");
        let no_kid = format!("{header}.{}.{signature}", b64(&claims_json()));
        assert_eq!(verifier.verify(&no_kid), Err(TokenError::UnknownKey));
        assert_eq!(verifier.verify("garbage"), Err(TokenError::Malformed));
    }

    #[test]
    fn a_verified_token_is_remembered_and_a_forged_copy_still_refused() {
        let keys = Keys::new("k1");
        let verifier = verifier(&[&keys]);
        let token = keys.token();
        let claims = verifier.verify(&token).expect("valid");
        assert_eq!(verifier.verified.len(), 1);
        assert_eq!(verifier.clone().verify(&token), Ok(claims));
        // The same header and signature over another payload: verified in full, refused.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(&claims_json());
        parts[1] = &forged;
        assert_eq!(verifier.verify(&parts.join(".")), Err(TokenError::Invalid));
        assert_eq!(
            verifier.verified.len(),
            1,
            "only valid tokens are remembered"
        );
    }

    #[test]
    fn refuses_other_algorithms_including_none_and_hs256_confusion() {
        let keys = Keys::new("k1");
        let verifier = verifier(&[&keys]);
        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "kid": "k1"})),
            b64(&claims_json())
        );
        assert!(verifier.verify(&none).is_err());
        // HS256 "signed" with our public key as the HMAC secret.
        let public_pem = keys
            .secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let confused = jsonwebtoken::encode(
            &header,
            &claims_json(),
            &EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .expect("hs256 token");
        assert_eq!(verifier.verify(&confused), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn refuses_key_sets_it_cannot_use() {
        assert!(matches!(
            TokenVerifier::from_jwks("{}", ISS, AUD),
            Err(KeyConfigError::NotAJwkSet(_))
        ));
        assert!(matches!(
            TokenVerifier::from_jwks(r#"{"keys":[]}"#, ISS, AUD),
            Err(KeyConfigError::Empty)
        ));
        let mut no_kid = Keys::new("k1").jwk();
        no_kid.as_object_mut().expect("object").remove("kid");
        let set = serde_json::json!({ "keys": [no_kid] }).to_string();
        assert!(matches!(
            TokenVerifier::from_jwks(&set, ISS, AUD),
            Err(KeyConfigError::UnsupportedKey(_))
        ));
    }
}
