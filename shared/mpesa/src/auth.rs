//! Daraja's OAuth: `GET {base}/oauth/v1/generate?grant_type=client_credentials` with
//! HTTP Basic (consumer key and secret), answered `{"access_token","expires_in"}`.
//!
//! Invariants:
//! - The token is held in the [`crate::Daraja`] value (which outlives one Lambda
//!   invocation) behind an async mutex: concurrent calls that find it stale fetch one new
//!   token between them.
//! - Renewal rule: a token is used only while more than [`renewal_margin`] of its life is
//!   left: the larger of 60 s and a tenth of its lifetime (6 minutes of Daraja's hour),
//!   which covers a request's timeout and clock skew with room to spare. Its age is read
//!   on the wall clock, which (unlike a monotonic one) keeps counting while Lambda
//!   freezes the process between invocations; a clock that went back makes it stale.
//! - `expires_in` comes as a string (`"3599"`) or a number; both are read.
//! - A call refused with `404.001.03` ("Invalid Access Token") drops the token it used
//!   (only that one: a newer token fetched meanwhile is kept).

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::answers::ErrorAnswer;
use crate::error::{NoAnswer, TokenFailure};

/// The least life a token must have left to be used.
const MIN_MARGIN: Duration = Duration::from_secs(60);

/// How much life a token of `lifetime` must have left to be used: the larger of 60 s
/// and a tenth of `lifetime`.
pub fn renewal_margin(lifetime: Duration) -> Duration {
    MIN_MARGIN.max(lifetime / 10)
}

/// Whether a token issued at `issued_at` for `lifetime` may still be used at `now`.
pub fn token_is_fresh(issued_at: OffsetDateTime, lifetime: Duration, now: OffsetDateTime) -> bool {
    let Ok(age) = Duration::try_from(now - issued_at) else {
        return false; // the clock went back: do not trust the age
    };
    age.saturating_add(renewal_margin(lifetime)) < lifetime
}

/// A token, as the OAuth endpoint gave it.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub access_token: SecretString,
    pub lifetime: Duration,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: Seconds,
}

/// `expires_in`: Daraja writes a string, other servers a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
}

impl Seconds {
    fn duration(&self) -> Option<Duration> {
        match self {
            Self::Number(seconds) => Some(*seconds),
            Self::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse().ok()
            }
            Self::Text(_) => None,
        }
        .map(Duration::from_secs)
    }
}

/// Sorts the OAuth endpoint's answer (`status`, `body`) into a token or a failure.
pub fn classify_token(http_status: u16, body: &str) -> Result<TokenAnswer, TokenFailure> {
    if (200..=299).contains(&http_status) {
        let unreadable = || TokenFailure::NoAnswer(NoAnswer::Unreadable { http_status });
        let answer: TokenBody = serde_json::from_str(body).map_err(|_| unreadable())?;
        let lifetime = answer.expires_in.duration().ok_or_else(unreadable)?;
        if answer.access_token.is_empty() {
            return Err(unreadable());
        }
        return Ok(TokenAnswer {
            access_token: SecretString::from(answer.access_token),
            lifetime,
        });
    }
    let answer = ErrorAnswer::read(body);
    Err(match (http_status, answer) {
        (429, answer) => TokenFailure::NoAnswer(NoAnswer::Busy {
            http_status,
            code: answer.map(|a| a.code),
        }),
        (400..=499, Some(answer)) => TokenFailure::Refused(answer.refusal(http_status)),
        (500..=599, answer) => TokenFailure::NoAnswer(NoAnswer::ServerError {
            http_status,
            code: answer.map(|a| a.code),
        }),
        _ => TokenFailure::NoAnswer(NoAnswer::Unreadable { http_status }),
    })
}

/// A token kept for reuse.
#[derive(Debug)]
pub(crate) struct CachedToken {
    pub(crate) token: SecretString,
    pub(crate) issued_at: OffsetDateTime,
    pub(crate) lifetime: Duration,
    /// Tells this token from the ones before and after it.
    pub(crate) generation: u64,
}

/// The token slot of a [`crate::Daraja`].
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    pub(crate) current: Option<CachedToken>,
    /// Tokens fetched so far.
    pub(crate) fetched: u64,
}

impl TokenCache {
    /// The current token if it may still be used at `now`.
    pub(crate) fn fresh(&self, now: OffsetDateTime) -> Option<(SecretString, u64)> {
        self.current
            .as_ref()
            .filter(|cached| token_is_fresh(cached.issued_at, cached.lifetime, now))
            .map(|cached| (cached.token.clone(), cached.generation))
    }

    /// Keeps a token fetched at `issued_at`; returns it with its generation.
    pub(crate) fn keep(
        &mut self,
        answer: TokenAnswer,
        issued_at: OffsetDateTime,
    ) -> (SecretString, u64) {
        self.fetched += 1;
        let token = answer.access_token.clone();
        self.current = Some(CachedToken {
            token: answer.access_token,
            issued_at,
            lifetime: answer.lifetime,
            generation: self.fetched,
        });
        (token, self.fetched)
    }

    /// Drops the token of `generation` if it is still the current one.
    pub(crate) fn forget(&mut self, generation: u64) {
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            self.current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use time::macros::datetime;

    use super::*;
    use crate::error::Refusal;

    const HOUR: Duration = Duration::from_secs(3599);

    #[test]
    fn expires_in_is_read_as_a_string_or_a_number() {
        for body in [
            r#"{"access_token":"c9SQxWWhmdVRlyh0zh8gZDTkubVF","expires_in":"3599"}"#,
            r#"{"access_token":"c9SQxWWhmdVRlyh0zh8gZDTkubVF","expires_in":3599}"#,
        ] {
            let answer = classify_token(200, body).expect(body);
            assert_eq!(answer.lifetime, HOUR);
            assert_eq!(
                answer.access_token.expose_secret(),
                "c9SQxWWhmdVRlyh0zh8gZDTkubVF"
            );
        }
    }

    #[test]
    fn odd_token_answers_are_unreadable() {
        for body in [
            r#"{"access_token":"abc","expires_in":"soon"}"#,
            r#"{"access_token":"abc","expires_in":"-1"}"#,
            r#"{"access_token":"abc","expires_in":""}"#,
            r#"{"access_token":"abc","expires_in":3599.5}"#,
            r#"{"access_token":"abc"}"#,
            r#"{"access_token":"","expires_in":"3599"}"#,
            r#"{"expires_in":"3599"}"#,
            "<html>",
            "",
        ] {
            assert!(
                matches!(
                    classify_token(200, body),
                    Err(TokenFailure::NoAnswer(NoAnswer::Unreadable {
                        http_status: 200
                    }))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn token_failures_are_refusals_or_no_answer() {
        let bad_credentials = r#"{"requestId":"","errorCode":"400.008.01","errorMessage":"Invalid Authentication passed"}"#;
        assert!(matches!(
            classify_token(400, bad_credentials),
            Err(TokenFailure::Refused(Refusal { http_status: 400, ref code, .. })) if code == "400.008.01"
        ));
        assert!(matches!(
            classify_token(503, ""),
            Err(TokenFailure::NoAnswer(NoAnswer::ServerError {
                http_status: 503,
                code: None
            }))
        ));
        assert!(matches!(
            classify_token(429, ""),
            Err(TokenFailure::NoAnswer(NoAnswer::Busy {
                http_status: 429,
                ..
            }))
        ));
        assert!(matches!(
            classify_token(400, "Bad Request"),
            Err(TokenFailure::NoAnswer(NoAnswer::Unreadable {
                http_status: 400
            }))
        ));
    }

    #[test]
    fn the_margin_is_the_larger_of_a_minute_and_a_tenth() {
        assert_eq!(renewal_margin(HOUR), Duration::from_millis(359_900));
        assert_eq!(
            renewal_margin(Duration::from_secs(600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            renewal_margin(Duration::from_secs(30)),
            Duration::from_secs(60)
        );
        assert_eq!(renewal_margin(Duration::ZERO), Duration::from_secs(60));
    }

    #[test]
    fn tokens_are_renewed_before_they_lapse() {
        let issued = datetime!(2026-12-06 22:30:00 UTC);
        let at = |seconds: i64| issued + time::Duration::seconds(seconds);
        assert!(token_is_fresh(issued, HOUR, at(0)));
        // 3599 s of life, renewed with 359.9 s left: fresh until 3239.1 s.
        assert!(token_is_fresh(issued, HOUR, at(3239)));
        assert!(!token_is_fresh(issued, HOUR, at(3240)));
        assert!(!token_is_fresh(issued, HOUR, at(3599)));
        assert!(!token_is_fresh(issued, HOUR, at(100_000)));
        // A clock that went back: the age is unknown.
        assert!(!token_is_fresh(issued, HOUR, at(-1)));
        // A token with too short a life is never reused.
        assert!(!token_is_fresh(issued, Duration::from_secs(60), at(0)));
        assert!(!token_is_fresh(issued, Duration::ZERO, at(0)));
        assert!(token_is_fresh(issued, Duration::from_secs(61), at(0)));
    }

    fn answer(token: &str) -> TokenAnswer {
        TokenAnswer {
            access_token: SecretString::from(token),
            lifetime: HOUR,
        }
    }

    #[test]
    fn the_cache_forgets_only_the_refused_token() {
        let now = datetime!(2026-12-06 22:30:00 UTC);
        let mut cache = TokenCache::default();
        assert!(cache.fresh(now).is_none());
        let (_, first) = cache.keep(answer("one"), now);
        let (token, generation) = cache.fresh(now).expect("fresh");
        assert_eq!((token.expose_secret(), generation), ("one", first));
        let (_, second) = cache.keep(answer("two"), now);
        cache.forget(first);
        assert_eq!(
            cache.fresh(now).map(|(_, g)| g),
            Some(second),
            "a newer token stays"
        );
        cache.forget(second);
        assert!(cache.fresh(now).is_none());
        assert!(cache.fresh(now + time::Duration::hours(1)).is_none());
    }

    #[test]
    fn debug_hides_the_token() {
        let mut cache = TokenCache::default();
        cache.keep(answer("secret-token"), datetime!(2026-01-01 00:00:00 UTC));
        assert!(!format!("{cache:?}").contains("secret-token"));
    }
}
