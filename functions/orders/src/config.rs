//! Configuration of the orders function (and the reconciler), read once at cold start.

use std::time::Duration;

use domain::order::{HandOffPolicy, VatRate};

/// Why the environment does not configure the orders service.
#[derive(Debug, thiserror::Error)]
pub enum OrdersConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
}

/// Settings of the orders service.
#[derive(Debug, Clone)]
pub struct OrdersConfig {
    /// `VAT_RATE`: a fraction, `0.16` for Kenya's 16 %.
    pub vat: VatRate,
    /// `NOTIFICATIONS_QUEUE_URL`: the SQS queue the notifier reads.
    pub queue_url: String,
    /// `HAND_OFF_GRACE_SECONDS` (default 300): how long a confirmation may stay
    /// unacknowledged by the notifier before the reconciler re-sends it.
    pub hand_off: HandOffPolicy,
}

impl OrdersConfig {
    pub fn from_env() -> Result<Self, OrdersConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, OrdersConfigError> {
        let get = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(OrdersConfigError::Missing(name))
        };
        let vat = get("VAT_RATE")?
            .parse::<VatRate>()
            .map_err(|e| OrdersConfigError::Invalid("VAT_RATE", e.to_string()))?;
        let mut hand_off = HandOffPolicy::default();
        if let Some(raw) = lookup("HAND_OFF_GRACE_SECONDS").filter(|v| !v.trim().is_empty()) {
            let seconds: u64 = raw.trim().parse().map_err(|_| {
                OrdersConfigError::Invalid("HAND_OFF_GRACE_SECONDS", "must be whole seconds".into())
            })?;
            hand_off.grace = Duration::from_secs(seconds);
        }
        Ok(Self {
            vat,
            queue_url: get("NOTIFICATIONS_QUEUE_URL")?,
            hand_off,
        })
    }
}

/// An SQS client from the standard AWS configuration chain (locally, `AWS_ENDPOINT_URL`).
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_sqs::Client::new(&config)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<OrdersConfig, OrdersConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        OrdersConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_vat_queue_and_grace() {
        let c = config(&[
            ("VAT_RATE", "0.16"),
            ("NOTIFICATIONS_QUEUE_URL", "http://q"),
            ("HAND_OFF_GRACE_SECONDS", "60"),
        ])
        .expect("valid");
        assert_eq!(c.vat, VatRate::kenya_standard());
        assert_eq!(c.hand_off.grace, Duration::from_secs(60));
        assert!(matches!(
            config(&[("NOTIFICATIONS_QUEUE_URL", "http://q")]),
            Err(OrdersConfigError::Missing("VAT_RATE"))
        ));
        assert!(matches!(
            config(&[("VAT_RATE", "16"), ("NOTIFICATIONS_QUEUE_URL", "http://q")]),
            Err(OrdersConfigError::Invalid("VAT_RATE", _))
        ));
    }
}
