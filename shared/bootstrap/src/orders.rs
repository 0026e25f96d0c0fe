//! Settings of the order service, read by the orders function and the reconciler alike.
//!
//! | variable | meaning |
//! |---|---|
//! | `VAT_RATE` | a fraction: `0.16` for Kenya's 16 % |
//! | `NOTIFICATIONS_QUEUE_URL` | the SQS queue the notifier reads |
//! | `HAND_OFF_GRACE_SECONDS` | how long a confirmation may stay unacknowledged by the notifier before the reconciler re-sends it (default 300) |

use domain::order::{HandOffPolicy, VatRate};

use crate::{ConfigError, Env};

/// Settings of the order service.
#[derive(Debug, Clone)]
pub struct OrdersConfig {
    pub vat: VatRate,
    pub queue_url: String,
    pub hand_off: HandOffPolicy,
}

impl OrdersConfig {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let vat = env
            .parsed::<VatRate>("VAT_RATE")?
            .ok_or(ConfigError::Missing("VAT_RATE"))?;
        let default = HandOffPolicy::default();
        let hand_off = HandOffPolicy {
            grace: env.seconds("HAND_OFF_GRACE_SECONDS", default.grace)?,
            ..default
        };
        Ok(Self {
            vat,
            queue_url: env.required("NOTIFICATIONS_QUEUE_URL")?,
            hand_off,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn reads_vat_queue_and_grace() {
        let c = OrdersConfig::from_env(&Env::from_pairs([
            ("VAT_RATE", "0.16"),
            ("NOTIFICATIONS_QUEUE_URL", "http://q"),
            ("HAND_OFF_GRACE_SECONDS", "60"),
        ]))
        .expect("valid");
        assert_eq!(c.vat, VatRate::kenya_standard());
        assert_eq!(c.hand_off.grace, Duration::from_secs(60));
        assert_eq!(c.queue_url, "http://q");
        assert!(matches!(
            OrdersConfig::from_env(&Env::from_pairs([("NOTIFICATIONS_QUEUE_URL", "http://q")])),
            Err(ConfigError::Missing("VAT_RATE"))
        ));
        assert!(matches!(
            OrdersConfig::from_env(&Env::from_pairs([
                ("VAT_RATE", "16"),
                ("NOTIFICATIONS_QUEUE_URL", "http://q")
            ])),
            Err(ConfigError::Invalid("VAT_RATE", _))
        ));
        assert!(matches!(
            OrdersConfig::from_env(&Env::from_pairs([
                ("VAT_RATE", "0.16"),
                ("NOTIFICATIONS_QUEUE_URL", "http://q"),
                ("HAND_OFF_GRACE_SECONDS", "soon")
            ])),
            Err(ConfigError::Invalid("HAND_OFF_GRACE_SECONDS", _))
        ));
    }
}
