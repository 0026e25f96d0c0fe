//! Settings of M-Pesa (Safaricom's Daraja API), read by the functions that talk to it: the
//! orders function (prompts) and the payments function (callbacks, queries, reversals).
//!
//! | variable | meaning |
//! |---|---|
//! | `MPESA_BASE_URL` | Daraja: `https://sandbox.safaricom.co.ke`, `https://api.safaricom.co.ke`, or the local stand-in |
//! | `MPESA_SHORTCODE` | the shop's Paybill |
//! | `MPESA_CONSUMER_KEY`, `MPESA_CONSUMER_SECRET` | the Daraja app's credentials (secrets) |
//! | `MPESA_PASSKEY` | the Lipa na M-Pesa Online passkey (secret) |
//! | `MPESA_INITIATOR_NAME`, `MPESA_SECURITY_CREDENTIAL` | who requests reversals, and its credential (secret) |
//! | `MPESA_CALLBACK_BASE_URL` | where M-Pesa reaches our callback routes: `…/api/v1/payments/callbacks` |
//! | `MPESA_CALLBACK_TOKEN` | the secret in every callback path (secret; 32 or more characters) |
//! | `MPESA_ALLOWED_SOURCE_IPS` | comma-separated addresses callbacks may come from; empty: any |
//!
//! Invariant: every secret is a [`SecretString`] from the moment it is read; `Debug` of
//! [`MpesaConfig`] shows none of them.

use std::net::IpAddr;
use std::time::Duration;

use mpesa::{DarajaConfig, DarajaGateway};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::{ConfigError, Env};

/// How long one call to Daraja may take: well inside the functions' timeouts.
pub const DARAJA_TIMEOUT: Duration = Duration::from_secs(8);

/// M-Pesa's settings.
#[derive(Debug, Clone)]
pub struct MpesaConfig {
    pub daraja: DarajaConfig,
    pub callback_base: Url,
    pub callback_token: SecretString,
    /// Empty: callbacks are taken from any address.
    pub allowed_source_ips: Vec<IpAddr>,
}

fn url(env: &Env, name: &'static str) -> Result<Url, ConfigError> {
    let raw = env.required(name)?;
    let url = Url::parse(&raw).map_err(|e| ConfigError::Invalid(name, e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::Invalid(name, "must be an http(s) URL".into()));
    }
    Ok(url)
}

impl MpesaConfig {
    /// Reads the settings from `env`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let callback_token = env.callback_token("MPESA_CALLBACK_TOKEN")?;
        let allowed_source_ips = env
            .list("MPESA_ALLOWED_SOURCE_IPS")
            .iter()
            .map(|ip| {
                ip.parse().map_err(|_| {
                    ConfigError::Invalid("MPESA_ALLOWED_SOURCE_IPS", "not an IP address".into())
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            daraja: DarajaConfig {
                base_url: url(env, "MPESA_BASE_URL")?,
                consumer_key: env.secret("MPESA_CONSUMER_KEY")?,
                consumer_secret: env.secret("MPESA_CONSUMER_SECRET")?,
                shortcode: env.required("MPESA_SHORTCODE")?,
                passkey: env.secret("MPESA_PASSKEY")?,
                initiator_name: env.required("MPESA_INITIATOR_NAME")?,
                security_credential: env.secret("MPESA_SECURITY_CREDENTIAL")?,
                timeout: DARAJA_TIMEOUT,
            },
            callback_base: url(env, "MPESA_CALLBACK_BASE_URL")?,
            callback_token,
            allowed_source_ips,
        })
    }

    /// The callback URL at `path` below the token (`…/callbacks/<token>/c2b/validation`):
    /// a secret, as the token in it is.
    pub fn callback_url(&self, path: &[&str]) -> Result<Url, ConfigError> {
        let mut url = self.callback_base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                ConfigError::Invalid("MPESA_CALLBACK_BASE_URL", "cannot take a path".into())
            })?
            .pop_if_empty()
            .push(self.callback_token.expose_secret())
            .extend(path);
        Ok(url)
    }

    /// The payments service's gateway to M-Pesa (its HTTP client built once, its token
    /// cached across invocations).
    pub fn gateway(&self) -> Result<DarajaGateway, ConfigError> {
        let daraja = mpesa::Daraja::new(self.daraja.clone())
            .map_err(|e| ConfigError::Invalid("MPESA_BASE_URL", e.to_string()))?;
        DarajaGateway::new(daraja, &self.callback_base, &self.callback_token)
            .map_err(|e| ConfigError::Invalid("MPESA_CALLBACK_BASE_URL", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn pairs(extra: &[(&'static str, &'static str)]) -> Env {
        let mut all = vec![
            ("MPESA_BASE_URL", "http://127.0.0.1:9600"),
            ("MPESA_SHORTCODE", "174379"),
            ("MPESA_CONSUMER_KEY", "key"),
            ("MPESA_CONSUMER_SECRET", "secret-value"),
            ("MPESA_PASSKEY", "passkey-value"),
            ("MPESA_INITIATOR_NAME", "testapi"),
            ("MPESA_SECURITY_CREDENTIAL", "credential-value"),
            (
                "MPESA_CALLBACK_BASE_URL",
                "http://127.0.0.1:9000/api/v1/payments/callbacks",
            ),
            ("MPESA_CALLBACK_TOKEN", TOKEN),
        ];
        for (name, value) in extra {
            all.retain(|(n, _)| n != name);
            all.push((name, value));
        }
        Env::from_pairs(all)
    }

    #[test]
    fn reads_the_account_and_keeps_secrets_out_of_debug() {
        let config = MpesaConfig::from_env(&pairs(&[(
            "MPESA_ALLOWED_SOURCE_IPS",
            "196.201.214.200, 196.201.214.206",
        )]))
        .expect("valid");
        assert_eq!(config.daraja.shortcode, "174379");
        assert_eq!(config.callback_token.expose_secret(), TOKEN);
        assert_eq!(config.allowed_source_ips.len(), 2);
        let shown = format!("{config:?}");
        for secret in [TOKEN, "secret-value", "passkey-value", "credential-value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(config.gateway().is_ok());
        assert_eq!(
            config
                .callback_url(&["c2b", "validation"])
                .expect("url")
                .as_str(),
            format!("http://127.0.0.1:9000/api/v1/payments/callbacks/{TOKEN}/c2b/validation")
        );
    }

    #[test]
    fn refuses_a_short_token_a_bad_url_or_address_and_missing_secrets() {
        for (extra, name) in [
            (("MPESA_CALLBACK_TOKEN", "short"), "MPESA_CALLBACK_TOKEN"),
            (("MPESA_BASE_URL", "ftp://x"), "MPESA_BASE_URL"),
            (
                ("MPESA_ALLOWED_SOURCE_IPS", "not-an-ip"),
                "MPESA_ALLOWED_SOURCE_IPS",
            ),
        ] {
            match MpesaConfig::from_env(&pairs(&[extra])) {
                Err(ConfigError::Invalid(n, _)) => assert_eq!(n, name),
                other => panic!("{extra:?}: {other:?}"),
            }
        }
        assert!(matches!(
            MpesaConfig::from_env(&pairs(&[("MPESA_PASSKEY", "")])),
            Err(ConfigError::Missing("MPESA_PASSKEY"))
        ));
    }
}
