//! Phone numbers as Daraja writes them: `2547XXXXXXXX` / `2541XXXXXXXX`, 12 digits.
//!
//! Invariants:
//! - Made only from a [`PhoneNumber`] (already a Kenyan mobile number in E.164), so it is
//!   always `254` and nine national digits.
//! - Personal data: its `Debug` shows only that a number is there.

use std::fmt;

use domain::PhoneNumber;
use serde::Serialize;

/// A customer's number in Daraja's form (E.164 without the `+`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Msisdn(String);

impl Msisdn {
    /// `+254712345678` → `254712345678`.
    pub fn of(phone: &PhoneNumber) -> Self {
        let e164 = phone.as_str();
        Self(e164.strip_prefix('+').unwrap_or(e164).to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&PhoneNumber> for Msisdn {
    fn from(phone: &PhoneNumber) -> Self {
        Self::of(phone)
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Msisdn(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_plus_of_e164() {
        for (raw, daraja) in [
            ("0712345678", "254712345678"),
            ("+254 708 374 149", "254708374149"),
            ("0110123456", "254110123456"),
            ("0101234567", "254101234567"),
        ] {
            let phone = PhoneNumber::parse(raw).expect("phone");
            assert_eq!(Msisdn::of(&phone).as_str(), daraja, "{raw}");
        }
    }

    #[test]
    fn debug_hides_the_number() {
        let phone = PhoneNumber::parse("0712345678").expect("phone");
        assert!(!format!("{:?}", Msisdn::of(&phone)).contains("712345678"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every Kenyan mobile number becomes 12 digits: `254` and its national part.
        #[test]
        fn twelve_digits_starting_254(national in "(7[0-9]{8}|1[01][0-9]{7})") {
            let phone = PhoneNumber::parse(&format!("0{national}")).expect("phone");
            let msisdn = Msisdn::of(&phone);
            prop_assert_eq!(msisdn.as_str().len(), 12);
            prop_assert!(msisdn.as_str().bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(msisdn.as_str(), format!("254{national}"));
        }
    }
}
