//! Who may post to a provider's callback routes (M-Pesa's callbacks, Africa's Talking's
//! delivery reports): whoever knows the token in the path, from an allowed address when
//! an allow-list is set.
//!
//! Invariants: the token is compared in constant time (every byte is looked at, whatever
//! differs first), so timing tells a prober nothing of it; the token is a
//! [`SecretString`], never logged or formatted.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};

/// Why a callback was refused before its body was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token in the path is not ours.
    WrongToken,
    /// The caller's address is not on the allow-list.
    SourceIp,
    /// The body is larger than any message of the provider.
    TooLarge,
}

impl Refusal {
    /// The `reason` logged with the refusal.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::WrongToken => "wrong_token",
            Refusal::SourceIp => "source_ip",
            Refusal::TooLarge => "too_large",
        }
    }
}

/// The token and the allow-list of the callback routes.
#[derive(Debug, Clone)]
pub struct CallbackGuard {
    token: SecretString,
    allowed: Vec<IpAddr>,
}

impl CallbackGuard {
    /// `allowed` empty: callbacks from any address.
    pub fn new(token: SecretString, allowed: Vec<IpAddr>) -> Self {
        Self { token, allowed }
    }

    /// Whether a callback with `token` in its path, from `source_ip`, may be read.
    pub fn admit(&self, token: &str, source_ip: Option<&str>) -> Result<(), Refusal> {
        if !same(token.as_bytes(), self.token.expose_secret().as_bytes()) {
            return Err(Refusal::WrongToken);
        }
        if self.allowed.is_empty() {
            return Ok(());
        }
        let from = source_ip.and_then(|ip| ip.parse::<IpAddr>().ok());
        match from {
            Some(ip) if self.allowed.contains(&ip) => Ok(()),
            _ => Err(Refusal::SourceIp),
        }
    }
}

/// Whether `a` and `b` are equal, looking at every byte of the longer (no early exit).
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut differ = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        differ |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff);
    }
    differ == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn guard(allowed: &[&str]) -> CallbackGuard {
        CallbackGuard::new(
            SecretString::from(TOKEN),
            allowed.iter().map(|ip| ip.parse().expect("ip")).collect(),
        )
    }

    #[test]
    fn only_the_token_opens_the_door() {
        let g = guard(&[]);
        assert_eq!(g.admit(TOKEN, None), Ok(()));
        for wrong in [
            "",
            "0123456789abcdef0123456789abcdeF",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
        ] {
            assert_eq!(g.admit(wrong, None), Err(Refusal::WrongToken), "{wrong:?}");
        }
    }

    #[test]
    fn an_allow_list_admits_only_its_addresses() {
        let g = guard(&["196.201.214.200"]);
        assert_eq!(g.admit(TOKEN, Some("196.201.214.200")), Ok(()));
        assert_eq!(
            g.admit(TOKEN, Some("198.51.100.23")),
            Err(Refusal::SourceIp)
        );
        assert_eq!(g.admit(TOKEN, None), Err(Refusal::SourceIp));
        assert_eq!(
            g.admit(TOKEN, Some("not an address")),
            Err(Refusal::SourceIp)
        );
        assert_eq!(
            g.admit("wrong", Some("196.201.214.200")),
            Err(Refusal::WrongToken)
        );
    }

    #[test]
    fn equal_means_equal() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"", b"a"));
        assert!(same(b"", b""));
    }
}
