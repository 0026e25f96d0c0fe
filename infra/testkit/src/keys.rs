//! ES256 key pairs for local use, and tokens signed with them.

use http_api::auth::Identity;
use http_api::{TokenSigner, TokenVerifier};
use p256::SecretKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand_core::OsRng;
use serde_json::Value;

use crate::KitError;

/// A key pair: the private key as PKCS#8 PEM and the public key as a JWK Set.
#[derive(Debug, Clone)]
pub struct KeyPair {
    pub kid: String,
    pub private_pem: String,
    pub jwks: String,
}

/// A fresh P-256 key pair published under `kid`.
pub fn generate(kid: &str) -> Result<KeyPair, KitError> {
    let secret = SecretKey::random(&mut OsRng);
    let private_pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KitError::Other(format!("encoding the private key: {e}")))?
        .to_string();
    Ok(KeyPair {
        kid: kid.to_owned(),
        jwks: jwks_of(&secret, kid)?,
        private_pem,
    })
}

fn jwks_of(secret: &SecretKey, kid: &str) -> Result<String, KitError> {
    let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())
        .map_err(|e| KitError::Other(format!("public JWK: {e}")))?;
    if let Some(fields) = jwk.as_object_mut() {
        fields.insert("kid".into(), kid.into());
        fields.insert("alg".into(), "ES256".into());
        fields.insert("use".into(), "sig".into());
    }
    Ok(serde_json::json!({ "keys": [jwk] }).to_string())
}

impl KeyPair {
    pub fn signer(&self, issuer: &str, audience: &str) -> Result<TokenSigner, KitError> {
        TokenSigner::from_pem(&self.kid, &self.private_pem, issuer, audience)
            .map_err(|e| KitError::Other(e.to_string()))
    }

    pub fn verifier(&self, issuer: &str, audience: &str) -> Result<TokenVerifier, KitError> {
        TokenVerifier::from_jwks(&self.jwks, issuer, audience)
            .map_err(|e| KitError::Other(e.to_string()))
    }
}

/// Current Unix time in seconds.
pub fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A token for `identity` signed by `signer`, issued now.
pub fn token(signer: &TokenSigner, identity: &Identity) -> Result<String, KitError> {
    signer
        .sign(identity, now_seconds())
        .map_err(|e| KitError::Other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_tokens_their_verifier_accepts() {
        let pair = generate("test-key").expect("keys");
        let token = token(
            &pair.signer("iss", "aud").expect("signer"),
            &Identity {
                customer_id: "c1".into(),
                email: "a@b.c".into(),
                name: "A".into(),
                admin: true,
            },
        )
        .expect("token");
        let claims = pair
            .verifier("iss", "aud")
            .expect("verifier")
            .verify(&token)
            .expect("valid");
        assert!(claims.admin);
        assert_eq!(claims.exp - claims.iat, 86_400);
        let other = generate("test-key").expect("keys");
        assert!(
            other
                .verifier("iss", "aud")
                .expect("verifier")
                .verify(&token)
                .is_err()
        );
    }
}
