//! The notifier's configuration, read once from the environment at cold start.
//!
//! | variable | meaning |
//! |---|---|
//! | `TABLE_NAME` | the DynamoDB table |
//! | `NOTIFICATIONS_QUEUE_URL` | the queue the function consumes (for backoff) |
//! | `AT_BASE_URL` | Africa's Talking API (default the live `https://api.africastalking.com`) |
//! | `AT_USERNAME` | the Africa's Talking app's username (`sandbox` on the sandbox) |
//! | `AT_SENDER_ID` | optional sender id or short code (`from`) |
//! | `AT_API_KEY` | the API key (a secret: never logged) |
//! | `ORDER_EMAIL_FROM` | the SES identity the admin's email is sent from |
//! | `ORDER_EMAIL_TO` | the admin address that receives it |
//! | `SES_CONFIGURATION_SET` | optional SES configuration set |
//! | `MPESA_SHORTCODE` | optional: the shop's M-Pesa Paybill, told (with the order's account reference) in the confirmation of an order not paid yet |
//! | `CLAIM_LEASE_SECONDS` | how long a send in flight is protected (default 120; > the function timeout) |
//! | `RETRY_BASE_SECONDS`, `RETRY_MAX_SECONDS` | backoff after a transient failure: base × 2^(receives−1), capped (defaults 60 and 900) |

use std::fmt;
use std::time::Duration;

use bootstrap::{ConfigError, Env};
use domain::notification::DEFAULT_CLAIM_LEASE;
use messaging::AfricasTalkingConfig;
use messaging::africas_talking::LIVE_BASE_URL;

use crate::Backoff;

/// Timeout of one call to Africa's Talking: well inside the function's 30 s.
const SMS_TIMEOUT: Duration = Duration::from_secs(8);

/// Settings of the notifier.
#[derive(Clone)]
pub struct NotifierConfig {
    pub table_name: String,
    pub queue_url: String,
    pub sms: AfricasTalkingConfig,
    pub email_from: String,
    pub email_to: String,
    pub configuration_set: Option<String>,
    /// The shop's Paybill (digits), when it takes M-Pesa.
    pub paybill: Option<String>,
    pub claim_lease: Duration,
    pub backoff: Backoff,
}

impl fmt::Debug for NotifierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Addresses are personal data: left out of logs like the key.
        f.debug_struct("NotifierConfig")
            .field("table_name", &self.table_name)
            .field("queue_url", &self.queue_url)
            .field("sms_base_url", &self.sms.base_url.as_str())
            .field("claim_lease", &self.claim_lease)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl NotifierConfig {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let base_url = env
            .optional("AT_BASE_URL")
            .unwrap_or_else(|| LIVE_BASE_URL.into())
            .parse()
            .map_err(|e: url::ParseError| ConfigError::Invalid("AT_BASE_URL", e.to_string()))?;
        let backoff = Backoff {
            base: env.seconds("RETRY_BASE_SECONDS", Duration::from_secs(60))?,
            max: env.seconds("RETRY_MAX_SECONDS", Duration::from_secs(900))?,
        };
        Ok(Self {
            table_name: env.required("TABLE_NAME")?,
            queue_url: env.required("NOTIFICATIONS_QUEUE_URL")?,
            sms: AfricasTalkingConfig {
                base_url,
                username: env.required("AT_USERNAME")?,
                sender_id: env.optional("AT_SENDER_ID"),
                api_key: env.secret("AT_API_KEY")?,
                timeout: SMS_TIMEOUT,
            },
            email_from: env.required("ORDER_EMAIL_FROM")?,
            email_to: env.required("ORDER_EMAIL_TO")?,
            configuration_set: env.optional("SES_CONFIGURATION_SET"),
            paybill: match env.optional("MPESA_SHORTCODE") {
                Some(code)
                    if (5..=7).contains(&code.len())
                        && code.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Some(code)
                }
                Some(_) => {
                    return Err(ConfigError::Invalid(
                        "MPESA_SHORTCODE",
                        "must be the Paybill's 5 to 7 digits".into(),
                    ));
                }
                None => None,
            },
            claim_lease: env.seconds("CLAIM_LEASE_SECONDS", DEFAULT_CLAIM_LEASE)?,
            backoff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: [(&str, &str); 6] = [
        ("TABLE_NAME", "orders"),
        ("NOTIFICATIONS_QUEUE_URL", "http://q"),
        ("AT_USERNAME", "sandbox"),
        ("AT_API_KEY", "key-123"),
        ("ORDER_EMAIL_FROM", "shop@example.com"),
        ("ORDER_EMAIL_TO", "admin@example.com"),
    ];

    fn config(pairs: &[(&str, &str)]) -> Result<NotifierConfig, ConfigError> {
        NotifierConfig::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_to_the_live_api_and_the_documented_backoff() {
        let c = config(&FULL).expect("valid");
        assert_eq!(c.sms.base_url.as_str(), "https://api.africastalking.com/");
        assert_eq!(c.sms.sender_id, None);
        assert_eq!(c.backoff.base, Duration::from_secs(60));
        assert_eq!(c.backoff.max, Duration::from_secs(900));
        assert_eq!(c.claim_lease, DEFAULT_CLAIM_LEASE);
        assert_eq!(c.paybill, None);
    }

    #[test]
    fn the_paybill_is_five_to_seven_digits() {
        let with = |code: &'static str| {
            let mut pairs = FULL.to_vec();
            pairs.push(("MPESA_SHORTCODE", code));
            config(&pairs)
        };
        assert_eq!(
            with("174379").expect("valid").paybill.as_deref(),
            Some("174379")
        );
        for bad in ["1234", "12345678", "17437x"] {
            assert!(
                matches!(with(bad), Err(ConfigError::Invalid("MPESA_SHORTCODE", _))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_required_setting_is_named_when_missing() {
        for (i, (name, _)) in FULL.iter().enumerate() {
            let mut pairs = FULL.to_vec();
            pairs.remove(i);
            match config(&pairs) {
                Err(ConfigError::Missing(missing)) => assert_eq!(missing, *name),
                other => panic!("{name}: {other:?}"),
            }
        }
        let mut bad = FULL.to_vec();
        bad.push(("RETRY_BASE_SECONDS", "soon"));
        assert!(matches!(
            config(&bad),
            Err(ConfigError::Invalid("RETRY_BASE_SECONDS", _))
        ));
    }

    #[test]
    fn debug_output_holds_no_key_or_address() {
        let printed = format!("{:?}", config(&FULL).expect("valid"));
        for secret in ["key-123", "shop@example.com", "admin@example.com"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
    }
}
