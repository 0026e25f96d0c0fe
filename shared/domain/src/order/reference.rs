//! The order's Paybill account number: what a customer types as "Account no." in their
//! phone's M-Pesa menu, and what a prompt sends as `AccountReference`.
//!
//! Invariants:
//! - Derived from the order number, never stored apart from it: `ORD-20261125-7KQ2MZ` has
//!   the reference `2611257KQ2MZ` (the date without its century, then the six random
//!   characters). Order numbers are unique, so references are too (within a century), and
//!   every order ever stored has one without a rewrite of the table.
//! - 12 characters, digits and upper-case letters: M-Pesa's `AccountReference` limit.
//! - Typed input is matched ignoring case, spaces and hyphens; in the random part, the
//!   letters people confuse with digits read as the digits (`O` → `0`, `I`/`L` → `1`), as
//!   Crockford's base 32 decodes them: no reference holds those letters.

use std::fmt;

use crate::order::OrderNumber;

/// An order's Paybill account number (`payment_reference`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentReference {
    text: String,
    number: OrderNumber,
}

/// Why text is not any order's payment reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a payment reference")]
pub struct InvalidPaymentReference;

/// How many characters a reference has (M-Pesa's `AccountReference` allows 12).
pub const REFERENCE_LENGTH: usize = 12;

impl PaymentReference {
    /// The reference of the order numbered `number`.
    pub fn of(number: &OrderNumber) -> Self {
        // `ORD-yyyymmdd-XXXXXX`: drop `ORD-` and the century, and the hyphen.
        let s = number.as_str();
        Self {
            text: format!("{}{}", &s[6..12], &s[13..]),
            number: number.clone(),
        }
    }

    /// Reads what a payer typed (`BillRefNumber`): case, spaces and hyphens do not matter,
    /// nor `O`/`I`/`L` for `0`/`1` in the random part.
    pub fn parse(typed: &str) -> Result<Self, InvalidPaymentReference> {
        let mut canonical = String::with_capacity(REFERENCE_LENGTH);
        for c in typed.chars() {
            match c {
                ' ' | '-' | '\t' => {}
                c if c.is_ascii_alphanumeric() => {
                    if canonical.len() == REFERENCE_LENGTH {
                        return Err(InvalidPaymentReference);
                    }
                    canonical.push(c.to_ascii_uppercase());
                }
                _ => return Err(InvalidPaymentReference),
            }
        }
        if canonical.len() != REFERENCE_LENGTH {
            return Err(InvalidPaymentReference);
        }
        let (date, random) = canonical.split_at(6);
        let random: String = random
            .chars()
            .map(|c| match c {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect();
        let number = OrderNumber::parse(&format!("ORD-20{date}-{random}"))
            .map_err(|_| InvalidPaymentReference)?;
        Ok(Self::of(&number))
    }

    /// The order number this reference was derived from (this century's).
    pub fn order_number(&self) -> &OrderNumber {
        &self.number
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for PaymentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn number(s: &str) -> OrderNumber {
        OrderNumber::parse(s).expect("order number")
    }

    #[test]
    fn the_reference_is_the_order_number_without_its_decorations() {
        let reference = PaymentReference::of(&number("ORD-20261125-7KQ2MZ"));
        assert_eq!(reference.as_str(), "2611257KQ2MZ");
        assert_eq!(reference.as_str().len(), REFERENCE_LENGTH);
        assert_eq!(reference.order_number(), &number("ORD-20261125-7KQ2MZ"));
    }

    #[test]
    fn typed_references_match_ignoring_case_spaces_and_look_alike_letters() {
        let expected = PaymentReference::of(&number("ORD-20261125-70Q21Z"));
        for typed in [
            "2611257OQ21Z",
            "2611257oq2lz",
            "261125 70Q 2IZ",
            "261125-70Q21Z",
            " 2611257 0q21z ",
        ] {
            assert_eq!(
                PaymentReference::parse(typed),
                Ok(expected.clone()),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn anything_else_is_not_a_reference() {
        for typed in [
            "",
            "2611257KQ2M",
            "2611257KQ2MZZ",
            "2611257KQ2M!",
            "26112X7KQ2MZ",
            "2611257KQ2MU",
            "ORD-20261125-7KQ2MZ",
            "2611257KQ2MZ\u{0}",
            "２611257KQ2MZ",
        ] {
            assert_eq!(
                PaymentReference::parse(typed),
                Err(InvalidPaymentReference),
                "{typed:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every order number has a 12-character reference that reads back to it, however
        /// it is typed.
        #[test]
        fn references_round_trip(
            date in "20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9])",
            random in "[0-9A-HJKMNP-TV-Z]{6}",
            lower in any::<bool>(),
        ) {
            let number = number(&format!("ORD-{date}-{random}"));
            let reference = PaymentReference::of(&number);
            prop_assert_eq!(reference.as_str().len(), REFERENCE_LENGTH);
            prop_assert!(reference.as_str().bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
            prop_assert_eq!(reference.order_number(), &number);
            let typed = if lower { reference.as_str().to_ascii_lowercase() } else { reference.to_string() };
            prop_assert_eq!(PaymentReference::parse(&typed), Ok(reference));
        }
    }
}
