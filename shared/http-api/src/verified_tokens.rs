//! The access tokens a warm instance has verified, so that a token's ES256 signature is
//! checked once per instance, not on every request: the verification is the largest part
//! of an authenticated request's own time (about 0.4 ms of p256 arithmetic on this build).
//!
//! Invariants:
//! - Only a token that passed every check (signature by a configured key, `iss`, `aud`,
//!   `exp`) is remembered, under its exact text: a token differing in any byte is
//!   verified in full.
//! - A remembered token is answered only while it is unexpired (by the verifier's leeway),
//!   then forgotten: expiry is checked on every use, as a full verification would.
//! - At most [`CAPACITY`] tokens are kept; when full, the expired ones are dropped, and if
//!   none had expired, all of them (they are verified again on their next use).
//! - The keys are fixed for the life of the instance (read once at cold start), so a
//!   remembered token stays as valid as it was when verified.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::auth::Claims;

/// The most tokens one instance remembers (a token is about 400 bytes).
pub const CAPACITY: usize = 1024;

/// Verified tokens and their claims; clones share them.
#[derive(Debug, Clone, Default)]
pub struct VerifiedTokens {
    tokens: Arc<Mutex<HashMap<String, Claims>>>,
}

/// A remembered token's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembered {
    /// Verified before and still unexpired.
    Valid(Claims),
    /// Verified before, expired since (and now forgotten).
    Expired,
    /// Not verified by this instance (or forgotten): verify it in full.
    Unknown,
}

impl VerifiedTokens {
    /// What this instance knows of `token` at `now` (Unix seconds), allowing `leeway`
    /// seconds past its expiry.
    pub fn recall(&self, token: &str, now: i64, leeway: i64) -> Remembered {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        match tokens.get(token) {
            None => Remembered::Unknown,
            Some(claims) if claims.exp.saturating_add(leeway) >= now => {
                Remembered::Valid(claims.clone())
            }
            Some(_) => {
                tokens.remove(token);
                Remembered::Expired
            }
        }
    }

    /// Remembers `token`, just verified at `now` with `claims`.
    pub fn remember(&self, token: &str, claims: &Claims, now: i64, leeway: i64) {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if tokens.len() >= CAPACITY {
            tokens.retain(|_, kept| kept.exp.saturating_add(leeway) >= now);
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
        }
        tokens.insert(token.to_owned(), claims.clone());
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
            email: "wanjiku@example.com".into(),
            name: "Wanjiku".into(),
            admin: false,
            iss: "https://shop.example".into(),
            aud: "shop-api".into(),
            iat: exp - 100,
            exp,
        }
    }

    #[test]
    fn a_remembered_token_is_valid_until_its_expiry_and_leeway_then_forgotten() {
        let tokens = VerifiedTokens::default();
        assert_eq!(tokens.recall("t", 1_000, 30), Remembered::Unknown);
        tokens.remember("t", &claims(1_000), 900, 30);
        assert_eq!(
            tokens.recall("t", 1_030, 30),
            Remembered::Valid(claims(1_000))
        );
        assert_eq!(tokens.recall("t", 1_031, 30), Remembered::Expired);
        assert_eq!(tokens.recall("t", 1_000, 30), Remembered::Unknown);
        assert!(tokens.is_empty());
    }

    #[test]
    fn only_the_exact_text_is_recalled() {
        let tokens = VerifiedTokens::default();
        tokens.remember("header.payload.signature", &claims(1_000), 900, 30);
        for other in [
            "header.payload.signaturE",
            "header.payload.signature ",
            "header.payload",
        ] {
            assert_eq!(tokens.recall(other, 900, 30), Remembered::Unknown);
        }
    }

    #[test]
    fn when_full_the_expired_go_first_and_otherwise_all() {
        let tokens = VerifiedTokens::default();
        for i in 0..CAPACITY - 1 {
            tokens.remember(&format!("live{i}"), &claims(5_000), 900, 30);
        }
        tokens.remember("old", &claims(950), 900, 30);
        assert_eq!(tokens.len(), CAPACITY);
        // At 1 000 "old" has expired: it alone makes room.
        tokens.remember("new", &claims(5_000), 1_000, 30);
        assert_eq!(tokens.len(), CAPACITY);
        assert_eq!(tokens.recall("old", 900, 30), Remembered::Unknown);
        assert!(matches!(
            tokens.recall("live0", 1_000, 30),
            Remembered::Valid(_)
        ));
        // None expired: all are forgotten, and the newcomer kept.
        tokens.remember("newer", &claims(5_000), 1_000, 30);
        assert_eq!(tokens.len(), 1);
        assert!(matches!(
            tokens.recall("newer", 1_000, 30),
            Remembered::Valid(_)
        ));
    }
}
