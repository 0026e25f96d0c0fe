//! Amounts M-Pesa is asked to move: whole shillings only.
//!
//! Invariants:
//! - A [`Shillings`] is from 1 to [`MAX_SHILLINGS`] (M-Pesa's limit for one transaction).
//! - It is made from a [`Money`] only when that amount is whole: nothing is rounded, so a
//!   customer is never asked for more (or less) than the order's total. A total with
//!   cents is a pricing mistake to fix, not something to paper over here.

use std::fmt;

use domain::Money;
use rust_decimal::Decimal;
use serde::Serialize;

/// The most M-Pesa moves in one transaction, in shillings.
pub const MAX_SHILLINGS: u32 = 250_000;

/// A whole number of Kenyan shillings from 1 to [`MAX_SHILLINGS`]; written as a JSON
/// number (Daraja's `Amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Shillings(u32);

/// Why an amount cannot be sent to M-Pesa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidShillings {
    #[error("M-Pesa takes whole shillings only")]
    NotWhole,
    #[error("M-Pesa takes at least 1 shilling")]
    BelowMinimum,
    #[error("M-Pesa takes at most {MAX_SHILLINGS} shillings in one transaction")]
    AboveMaximum,
}

impl Shillings {
    /// `amount` shillings, if M-Pesa can move it.
    pub fn new(amount: u32) -> Result<Self, InvalidShillings> {
        match amount {
            0 => Err(InvalidShillings::BelowMinimum),
            1..=MAX_SHILLINGS => Ok(Self(amount)),
            _ => Err(InvalidShillings::AboveMaximum),
        }
    }

    /// `money` in shillings, if it is whole and M-Pesa can move it.
    pub fn from_money(money: Money) -> Result<Self, InvalidShillings> {
        let value = money.as_decimal();
        if value.fract() != Decimal::ZERO {
            return Err(InvalidShillings::NotWhole);
        }
        if value < Decimal::ONE {
            return Err(InvalidShillings::BelowMinimum);
        }
        if value > Decimal::from(MAX_SHILLINGS) {
            return Err(InvalidShillings::AboveMaximum);
        }
        u32::try_from(value)
            .map_err(|_| InvalidShillings::AboveMaximum)
            .and_then(Self::new)
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// The same amount as [`Money`] (`1499` → `1499.00`).
    pub fn to_money(self) -> Money {
        Money::from_minor_units(i64::from(self.0) * 100)
    }
}

impl TryFrom<Money> for Shillings {
    type Error = InvalidShillings;
    fn try_from(money: Money) -> Result<Self, Self::Error> {
        Self::from_money(money)
    }
}

impl fmt::Display for Shillings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        Money::parse_bound(text).expect("money")
    }

    #[test]
    fn bounds_are_one_to_the_transaction_limit() {
        assert_eq!(Shillings::new(0), Err(InvalidShillings::BelowMinimum));
        assert_eq!(Shillings::new(1).map(Shillings::get), Ok(1));
        assert_eq!(Shillings::new(250_000).map(Shillings::get), Ok(250_000));
        assert_eq!(Shillings::new(250_001), Err(InvalidShillings::AboveMaximum));
        assert_eq!(
            Shillings::new(u32::MAX),
            Err(InvalidShillings::AboveMaximum)
        );
    }

    #[test]
    fn only_whole_money_converts() {
        for (text, expected) in [
            ("1", Ok(1)),
            ("1.00", Ok(1)),
            ("1499.00", Ok(1499)),
            ("250000.00", Ok(250_000)),
            ("1499.50", Err(InvalidShillings::NotWhole)),
            ("0.01", Err(InvalidShillings::NotWhole)),
            ("250000.01", Err(InvalidShillings::NotWhole)),
            ("0", Err(InvalidShillings::BelowMinimum)),
            ("250001", Err(InvalidShillings::AboveMaximum)),
            ("1000000000", Err(InvalidShillings::AboveMaximum)),
        ] {
            assert_eq!(
                Shillings::from_money(money(text)).map(Shillings::get),
                expected,
                "{text}"
            );
        }
        assert_eq!(
            Shillings::try_from(Money::from_minor_units(-100)),
            Err(InvalidShillings::BelowMinimum)
        );
    }

    #[test]
    fn written_as_a_json_number() {
        let amount = Shillings::new(1499).expect("amount");
        assert_eq!(serde_json::to_string(&amount).expect("json"), "1499");
        assert_eq!(amount.to_money().to_string(), "1499.00");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whole amounts convert iff within bounds; any cents at all are refused.
        #[test]
        fn converts_exactly_whole_amounts(whole in 0_i64..=300_000, cents in 0_i64..100) {
            let result = Shillings::from_money(Money::from_minor_units(whole * 100 + cents));
            let expected = match (whole, cents) {
                (_, 1..) => Err(InvalidShillings::NotWhole),
                (0, 0) => Err(InvalidShillings::BelowMinimum),
                (1..=250_000, 0) => Ok(whole),
                _ => Err(InvalidShillings::AboveMaximum),
            };
            prop_assert_eq!(result.map(|s| i64::from(s.get())), expected);
            if let Ok(amount) = result {
                prop_assert_eq!(amount.to_money(), Money::from_minor_units(whole * 100));
            }
        }
    }
}
