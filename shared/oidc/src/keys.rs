//! The provider's signing keys: which JWKs we can use, and the cache of them.

use std::time::Instant;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One usable provider key.
#[derive(Clone)]
pub(crate) struct ProviderKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithm: Algorithm,
    pub(crate) key: DecodingKey,
}

#[derive(Default)]
pub(crate) struct KeyCache {
    pub(crate) keys: Vec<ProviderKey>,
    pub(crate) fetched_at: Option<Instant>,
}

impl KeyCache {
    /// The keys that may have signed a token with this header: the one with its `kid`, or
    /// without a `kid` every key of the algorithm (a provider with one key may omit it).
    pub(crate) fn candidates(&self, kid: Option<&str>, algorithm: Algorithm) -> Vec<DecodingKey> {
        self.keys
            .iter()
            .filter(|k| k.algorithm == algorithm)
            .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
            .map(|k| k.key.clone())
            .collect()
    }
}

/// The key a JWK describes, if it is a signing key we can verify with (RSA for RS256, P-256
/// for ES256).
pub(crate) fn provider_key(jwk: &jsonwebtoken::jwk::Jwk) -> Option<ProviderKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(ProviderKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key,
    })
}
