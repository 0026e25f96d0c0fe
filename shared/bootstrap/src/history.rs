//! How long the change history is kept, read by every function that records history.
//!
//! | variable | meaning |
//! |---|---|
//! | `AUDIT_RETENTION_DAYS` | days a history entry is kept before DynamoDB's TTL removes it (1–3650, default 400) |

use domain::audit::Retention;

use crate::{ConfigError, Env};

/// `AUDIT_RETENTION_DAYS`, or the default retention when it is not set.
pub fn retention(env: &Env) -> Result<Retention, ConfigError> {
    match env.parsed::<u32>("AUDIT_RETENTION_DAYS")? {
        Some(days) => Retention::days(days)
            .map_err(|e| ConfigError::Invalid("AUDIT_RETENTION_DAYS", e.to_string())),
        None => Ok(Retention::DEFAULT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_retention_defaults_to_400_days_and_is_bounded() {
        let with =
            |days: &'static str| retention(&Env::from_pairs([("AUDIT_RETENTION_DAYS", days)]));
        assert_eq!(
            retention(&Env::from_pairs([("X", "1")])),
            Ok(Retention::DEFAULT)
        );
        assert_eq!(with("30"), Ok(Retention::days(30).expect("days")));
        for bad in ["0", "3651", "forever"] {
            assert!(
                matches!(
                    with(bad),
                    Err(ConfigError::Invalid("AUDIT_RETENTION_DAYS", _))
                ),
                "{bad}"
            );
        }
    }
}
