//! The password of an STK push or query: `base64(shortcode + passkey + timestamp)`.
//!
//! Invariants:
//! - The password carries the passkey, so it is a [`SecretString`] like the passkey.
//! - The timestamp is the one sent beside it in the same request ([`crate::nairobi`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

/// Daraja's `Password` for `shortcode` (the Paybill), its Lipa na M-Pesa `passkey` and
/// the request's `timestamp` (standard base64 with padding).
pub fn stk_password(shortcode: &str, passkey: &SecretString, timestamp: &str) -> SecretString {
    let mut plain = String::with_capacity(shortcode.len() + passkey.expose_secret().len() + 14);
    plain.push_str(shortcode);
    plain.push_str(passkey.expose_secret());
    plain.push_str(timestamp);
    let password = STANDARD.encode(plain.as_bytes());
    // The plain text holds the passkey: keep it no longer than needed.
    drop(SecretString::from(plain));
    SecretString::from(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sandbox's published Lipa na M-Pesa passkey for shortcode 174379.
    const SANDBOX_PASSKEY: &str =
        "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";

    #[test]
    fn is_base64_of_shortcode_passkey_and_timestamp() {
        let password = stk_password(
            "174379",
            &SecretString::from(SANDBOX_PASSKEY),
            "20160216165627",
        );
        // Daraja's documentation's example password for these three values.
        assert_eq!(
            password.expose_secret(),
            "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
        );
    }

    #[test]
    fn is_not_shown_by_debug() {
        let password = stk_password("174379", &SecretString::from("passkey"), "20260101000000");
        assert!(!format!("{password:?}").contains(password.expose_secret()));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Decoding the password gives back shortcode, passkey and timestamp, in order.
        #[test]
        fn round_trips_through_base64(
            shortcode in "[0-9]{5,7}",
            passkey in any::<String>(),
            timestamp in "[0-9]{14}",
        ) {
            let password = stk_password(&shortcode, &SecretString::from(passkey.clone()), &timestamp);
            let decoded = STANDARD.decode(password.expose_secret()).expect("base64");
            prop_assert_eq!(decoded, format!("{shortcode}{passkey}{timestamp}").into_bytes());
        }
    }
}
