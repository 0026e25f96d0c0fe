//! The environment, read through one lookup: the process environment in a Lambda, a map in
//! tests. A variable set to an empty or blank value counts as unset.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

/// The shortest callback token taken ([`Env::callback_token`]).
pub const MIN_CALLBACK_TOKEN_LEN: usize = 32;

/// Why the environment does not configure a function: always names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where configuration comes from.
pub struct Env {
    lookup: Lookup,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets: never printed.
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: Box::new(|name| std::env::var(name).ok()),
        }
    }

    /// A fixed set of variables (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let map: HashMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            lookup: Box::new(move |name| map.get(name).cloned()),
        }
    }

    /// The value of `name`, if set and not blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The value of `name`; missing (or blank) is an error.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// A secret: held in a [`SecretString`], so it never reaches a `Debug` or a log.
    pub fn secret(&self, name: &'static str) -> Result<SecretString, ConfigError> {
        self.required(name).map(SecretString::from)
    }

    /// The secret token in a provider's callback paths: at least
    /// [`MIN_CALLBACK_TOKEN_LEN`] ASCII letters and digits (a guess is hopeless, and the
    /// token needs no escaping in a URL).
    pub fn callback_token(&self, name: &'static str) -> Result<SecretString, ConfigError> {
        let token = self.required(name)?;
        if token.len() < MIN_CALLBACK_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ConfigError::Invalid(
                name,
                format!("must be at least {MIN_CALLBACK_TOKEN_LEN} letters and digits"),
            ));
        }
        Ok(SecretString::from(token))
    }

    /// `name` parsed as a `T`, if set.
    pub fn parsed<T>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.optional(name)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|e: T::Err| ConfigError::Invalid(name, e.to_string()))
            })
            .transpose()
    }

    /// Whole seconds in `name`, or `default` when unset.
    pub fn seconds(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Duration::from_secs)
                .map_err(|_| ConfigError::Invalid(name, "must be whole seconds".into())),
        }
    }

    /// The items of a comma-separated `name`, trimmed, blanks dropped (empty when unset).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn env() -> Env {
        Env::from_pairs([
            ("NAME", "orders"),
            ("BLANK", "  "),
            ("COUNT", "12"),
            ("BAD_COUNT", "twelve"),
            ("KEY", "s3cr3t"),
            ("LIST", " a@x.co, ,b@x.co,"),
        ])
    }

    #[test]
    fn blank_is_unset_and_missing_names_the_variable() {
        let env = env();
        assert_eq!(env.required("NAME"), Ok("orders".to_owned()));
        assert_eq!(env.required("BLANK"), Err(ConfigError::Missing("BLANK")));
        assert_eq!(env.optional("NOPE"), None);
        assert_eq!(
            env.required("NOPE").expect_err("missing").to_string(),
            "environment variable NOPE is not set"
        );
    }

    #[test]
    fn parsed_values_and_seconds() {
        let env = env();
        assert_eq!(env.parsed::<u32>("COUNT"), Ok(Some(12)));
        assert_eq!(env.parsed::<u32>("NOPE"), Ok(None));
        assert!(matches!(
            env.parsed::<u32>("BAD_COUNT"),
            Err(ConfigError::Invalid("BAD_COUNT", _))
        ));
        assert_eq!(
            env.seconds("COUNT", Duration::ZERO),
            Ok(Duration::from_secs(12))
        );
        assert_eq!(
            env.seconds("NOPE", Duration::from_secs(5)),
            Ok(Duration::from_secs(5))
        );
        assert!(env.seconds("BAD_COUNT", Duration::ZERO).is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let key = env().secret("KEY").expect("set");
        assert_eq!(key.expose_secret(), "s3cr3t");
        assert!(!format!("{key:?}").contains("s3cr3t"));
    }

    #[test]
    fn lists_drop_blanks() {
        assert_eq!(env().list("LIST"), ["a@x.co", "b@x.co"]);
        assert!(env().list("NOPE").is_empty());
    }
}
