//! The access tokens a warm instance has verified, so that a token's ES256 signature is
//! checked once per instance, not on every request: a check costs about 0.16 ms with
//! aws-lc in the bench's `perf` build (0.4 ms with the RustCrypto P-256 it replaced),
//! measured 2026-12-07 by timing 2 000 `jsonwebtoken::decode`s of one token.
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

/// The most tokens one instance remembers (a token is about 400 bytes).
pub const CAPACITY: usize = 1024;

/// Verified tokens with their claims `C` and expiry (Unix seconds); clones share them.
#[derive(Debug, Clone)]
pub struct VerifiedTokens<C> {
    tokens: Arc<Mutex<HashMap<String, (C, i64)>>>,
}

impl<C> Default for VerifiedTokens<C> {
    fn default() -> Self {
        Self {
            tokens: Arc::default(),
        }
    }
}

/// A remembered token's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembered<C> {
    /// Verified before and still unexpired: its claims.
    Valid(C),
    /// Verified before, expired since (and now forgotten).
    Expired,
    /// Not verified by this instance (or forgotten): verify it in full.
    Unknown,
}

impl<C: Clone> VerifiedTokens<C> {
    /// What this instance knows of `token` at `now` (Unix seconds), allowing `leeway`
    /// seconds past its expiry.
    pub fn recall(&self, token: &str, now: i64, leeway: i64) -> Remembered<C> {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        match tokens.get(token) {
            None => Remembered::Unknown,
            Some((claims, exp)) if exp.saturating_add(leeway) >= now => {
                Remembered::Valid(claims.clone())
            }
            Some(_) => {
                tokens.remove(token);
                Remembered::Expired
            }
        }
    }

    /// Remembers `token`, just verified at `now`: its `claims`, expiring at `exp`.
    pub fn remember(&self, token: &str, claims: C, exp: i64, now: i64, leeway: i64) {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if tokens.len() >= CAPACITY {
            tokens.retain(|_, (_, kept)| kept.saturating_add(leeway) >= now);
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
        }
        tokens.insert(token.to_owned(), (claims, exp));
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

    /// Claims that say when they expire.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Claims {
        sub: &'static str,
        exp: i64,
    }

    fn claims(exp: i64) -> Claims {
        Claims { sub: "c1", exp }
    }

    fn remember(tokens: &VerifiedTokens<Claims>, token: &str, exp: i64, now: i64) {
        tokens.remember(token, claims(exp), exp, now, 30);
    }

    #[test]
    fn a_remembered_token_is_valid_until_its_expiry_and_leeway_then_forgotten() {
        let tokens = VerifiedTokens::default();
        assert_eq!(tokens.recall("t", 1_000, 30), Remembered::Unknown);
        remember(&tokens, "t", 1_000, 900);
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
        remember(&tokens, "header.payload.signature", 1_000, 900);
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
            remember(&tokens, &format!("live{i}"), 5_000, 900);
        }
        remember(&tokens, "old", 950, 900);
        assert_eq!(tokens.len(), CAPACITY);
        // At 1 000 "old" has expired: it alone makes room.
        remember(&tokens, "new", 5_000, 1_000);
        assert_eq!(tokens.len(), CAPACITY);
        assert_eq!(tokens.recall("old", 900, 30), Remembered::Unknown);
        assert!(matches!(
            tokens.recall("live0", 1_000, 30),
            Remembered::Valid(_)
        ));
        // None expired: all are forgotten, and the newcomer kept.
        remember(&tokens, "newer", 5_000, 1_000);
        assert_eq!(tokens.len(), 1);
        assert!(matches!(
            tokens.recall("newer", 1_000, 30),
            Remembered::Valid(_)
        ));
    }
}
