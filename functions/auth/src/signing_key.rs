//! The public half of our signing key, as the JWK that `GET /auth/jwks.json` publishes.
//!
//! Invariants: the key is an EC P-256 private key in PKCS#8 PEM; aws-lc checks that its
//! public point matches the private scalar (or derives it) as it parses; the JWK carries
//! the public coordinates only, never `d`.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Why a signing key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("not a PEM block: {0}")]
    NotPem(#[from] pem::PemError),
    #[error("a PEM block of {0}, not PRIVATE KEY (PKCS#8)")]
    NotPkcs8(String),
    #[error("not an EC P-256 private key: {0}")]
    NotP256(String),
}

/// The public JWK (`kty`, `crv`, `x`, `y`) of the P-256 private key in `pkcs8_pem`.
pub fn public_jwk(pkcs8_pem: &str) -> Result<Value, SigningKeyError> {
    let block = pem::parse(pkcs8_pem)?;
    if block.tag() != "PRIVATE KEY" {
        return Err(SigningKeyError::NotPkcs8(block.tag().to_owned()));
    }
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, block.contents())
        .map_err(|e| SigningKeyError::NotP256(e.to_string()))?;
    // An uncompressed point: 0x04, then x and y, 32 bytes each.
    let point = pair.public_key().as_ref();
    let (x, y) = point
        .get(1..)
        .filter(|xy| point.first() == Some(&4) && xy.len() == 64)
        .map(|xy| xy.split_at(32))
        .ok_or_else(|| SigningKeyError::NotP256("not an uncompressed point".into()))?;
    Ok(json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(x),
        "y": URL_SAFE_NO_PAD.encode(y),
    }))
}

#[cfg(test)]
mod tests {
    use p256::SecretKey;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    use super::*;

    #[test]
    fn the_jwk_is_the_keys_public_half() {
        for _ in 0..8 {
            let secret = SecretKey::random(&mut rand_core::OsRng);
            let pem = secret.to_pkcs8_pem(LineEnding::LF).expect("pem");
            let expected: Value =
                serde_json::from_str(&secret.public_key().to_jwk_string()).expect("jwk");
            assert_eq!(public_jwk(&pem).expect("a P-256 key"), expected);
        }
    }

    #[test]
    fn refuses_what_is_not_a_p256_private_key() {
        assert!(matches!(
            public_jwk("not a pem"),
            Err(SigningKeyError::NotPem(_))
        ));
        let public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(
            matches!(public_jwk(public), Err(SigningKeyError::NotPkcs8(tag)) if tag == "PUBLIC KEY")
        );
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            public_jwk(garbage),
            Err(SigningKeyError::NotP256(_))
        ));
    }
}
