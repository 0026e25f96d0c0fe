//! The auth function's configuration, read once from the environment at cold start.
//!
//! | variable | meaning |
//! |---|---|
//! | `TABLE_NAME` | the DynamoDB table |
//! | `JWT_ISSUER`, `JWT_AUDIENCE` | `iss` and `aud` of our access tokens |
//! | `JWT_PRIVATE_KEY` | PKCS#8 PEM of the current EC P-256 signing key (a secret; `\n` escapes allowed) |
//! | `JWT_KEY_ID` | its `kid` |
//! | `JWT_PUBLIC_JWKS` | optional JWK Set of further accepted public keys (the previous key while rotating) |
//! | `OIDC_ISSUER_URL` | the provider's issuer (default `https://accounts.google.com`) |
//! | `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` | our registration with the provider (the secret is a secret) |
//! | `OIDC_REDIRECT_URIS` | comma-separated allowed redirect URIs (the API's callback and the console's `<origin>/console/callback`); the first is the default |
//! | `ADMIN_EMAILS` | comma-separated emails of admins (case-insensitive) |

use std::sync::Arc;

use bootstrap::{ConfigError, Env};
use http_api::{TokenSigner, TokenVerifier};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::signing_key;

/// Our signing key and every public key that verifies our tokens.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    pub signer: TokenSigner,
    /// The JWK Set `GET /auth/jwks.json` publishes: the current key first, then the
    /// other accepted ones (the previous key while keys rotate).
    pub jwks: Value,
    pub verifier: TokenVerifier,
}

impl SigningKeys {
    /// The keys from the current private key (`kid`) and the other accepted public keys.
    pub fn new(
        private_key_pem: &str,
        kid: &str,
        other_public_jwks: Option<&str>,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, ConfigError> {
        let pem = private_key_pem.replace("\\n", "\n");
        let mut current = signing_key::public_jwk(pem.trim())
            .map_err(|e| ConfigError::Invalid("JWT_PRIVATE_KEY", e.to_string()))?;
        current["kid"] = kid.into();
        current["alg"] = "ES256".into();
        current["use"] = "sig".into();
        let mut keys = vec![current];
        if let Some(raw) = other_public_jwks.filter(|s| !s.trim().is_empty()) {
            let set: Value = serde_json::from_str(raw)
                .map_err(|e| ConfigError::Invalid("JWT_PUBLIC_JWKS", e.to_string()))?;
            let others = set["keys"]
                .as_array()
                .ok_or_else(|| ConfigError::Invalid("JWT_PUBLIC_JWKS", "not a JWK Set".into()))?;
            keys.extend(
                others
                    .iter()
                    .filter(|k| k["kid"].as_str() != Some(kid))
                    .cloned(),
            );
        }
        let jwks = serde_json::json!({ "keys": keys });
        let verifier = TokenVerifier::from_jwks(&jwks.to_string(), issuer, audience)
            .map_err(|e| ConfigError::Invalid("JWT_PUBLIC_JWKS", e.to_string()))?;
        let signer = TokenSigner::from_pem(kid, &pem, issuer, audience)
            .map_err(|e| ConfigError::Invalid("JWT_PRIVATE_KEY", e.to_string()))?;
        Ok(Self {
            signer,
            jwks,
            verifier,
        })
    }
}

/// Everything the function reads from its environment.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub table_name: String,
    pub keys: SigningKeys,
    pub provider: oidc::ProviderConfig,
    pub redirect_uris: Vec<String>,
    pub admin_emails: Vec<String>,
}

impl AuthConfig {
    /// Reads the configuration from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let private_key = env.secret("JWT_PRIVATE_KEY")?;
        let keys = SigningKeys::new(
            private_key.expose_secret(),
            &env.required("JWT_KEY_ID")?,
            env.optional("JWT_PUBLIC_JWKS").as_deref(),
            &env.required("JWT_ISSUER")?,
            &env.required("JWT_AUDIENCE")?,
        )?;
        let redirect_uris = env.list("OIDC_REDIRECT_URIS");
        if redirect_uris.is_empty() {
            return Err(ConfigError::Missing("OIDC_REDIRECT_URIS"));
        }
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            keys,
            provider: oidc::ProviderConfig {
                issuer_url: env
                    .optional("OIDC_ISSUER_URL")
                    .unwrap_or_else(|| oidc::GOOGLE_ISSUER.to_owned()),
                client_id: env.required("OIDC_CLIENT_ID")?,
                client_secret: env.secret("OIDC_CLIENT_SECRET")?,
            },
            redirect_uris,
            admin_emails: env.list("ADMIN_EMAILS"),
        })
    }

    /// The shared verifier of our access tokens.
    pub fn verifier(&self) -> Arc<TokenVerifier> {
        Arc::new(self.keys.verifier.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_api::auth::Identity;
    use p256::SecretKey;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    fn pem() -> (SecretKey, String) {
        let secret = SecretKey::random(&mut rand_core::OsRng);
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pem")
            .to_string();
        (secret, pem)
    }

    fn identity() -> Identity {
        Identity {
            customer_id: "c".into(),
            email: "e@example.com".into(),
            name: "N".into(),
            admin: false,
        }
    }

    #[test]
    fn publishes_and_accepts_the_current_and_the_previous_key() {
        let (_, previous_pem) = pem();
        let previous = SigningKeys::new(&previous_pem, "k1", None, "iss", "aud").expect("keys");
        let old_token = previous.signer.sign(&identity(), 1_000).map(|_| ());
        assert!(old_token.is_ok());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let issued_before_rotation = previous.signer.sign(&identity(), now).expect("token");

        // Rotation: the new key signs, the previous public key is still accepted.
        let (_, current_pem) = pem();
        let escaped = current_pem.replace('\n', "\\n");
        let rotated = SigningKeys::new(
            &escaped,
            "k2",
            Some(&previous.jwks.to_string()),
            "iss",
            "aud",
        )
        .expect("keys");
        let kids: Vec<&str> = rotated.jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, ["k2", "k1"], "current key first");
        assert!(rotated.jwks["keys"][0].get("d").is_none(), "public only");
        let issued_after = rotated.signer.sign(&identity(), now).expect("token");
        assert!(rotated.verifier.verify(&issued_after).is_ok());
        assert!(rotated.verifier.verify(&issued_before_rotation).is_ok());
        // Once the previous key is dropped, its tokens are refused.
        let dropped = SigningKeys::new(&current_pem, "k2", None, "iss", "aud").expect("keys");
        assert!(dropped.verifier.verify(&issued_before_rotation).is_err());
    }

    #[test]
    fn refuses_keys_it_cannot_use() {
        assert!(matches!(
            SigningKeys::new("not a pem", "k", None, "i", "a"),
            Err(ConfigError::Invalid("JWT_PRIVATE_KEY", _))
        ));
        let (_, pem) = pem();
        assert!(matches!(
            SigningKeys::new(&pem, "k", Some("{}"), "i", "a"),
            Err(ConfigError::Invalid("JWT_PUBLIC_JWKS", _))
        ));
    }
}
