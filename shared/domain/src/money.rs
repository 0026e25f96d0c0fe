//! Kenyan-shilling amounts: exact decimals with at most two places, never floats.
//!
//! Rounding rule (documented in the OpenAPI file): results of arithmetic are rounded to
//! two decimal places, half away from zero (`0.005 → 0.01`, `-0.005 → -0.01`).

use std::fmt;
use std::iter::Sum;
use std::ops::Add;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The largest price or amount accepted from a client: one billion shillings.
const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// An amount of KES with exactly two decimal places when written (`"1499.00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a string is not an acceptable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    #[error("must be a decimal string such as \"1499.00\"")]
    NotADecimal,
    #[error("must have at most 2 decimal places")]
    TooPrecise,
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must be at most 1000000000.00")]
    TooLarge,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal, rounding it to two places half away from zero.
    pub fn from_decimal(value: Decimal) -> Self {
        Self(round2(value))
    }

    /// Parses a client-supplied price: plain decimal notation, > 0, ≤ 2 places, bounded.
    pub fn parse_price(s: &str) -> Result<Self, InvalidMoney> {
        let amount = parse_plain_decimal(s)?;
        if amount <= Money::ZERO {
            return Err(InvalidMoney::NotPositive);
        }
        Ok(amount)
    }

    /// Parses a client-supplied bound (e.g. a price filter): like a price, but 0 is allowed.
    pub fn parse_bound(s: &str) -> Result<Self, InvalidMoney> {
        let amount = parse_plain_decimal(s)?;
        if amount < Money::ZERO {
            return Err(InvalidMoney::NotADecimal);
        }
        Ok(amount)
    }

    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// The amount in minor units (cents: hundredths of a shilling), exactly: an amount
    /// always has two decimal places.
    pub fn minor_units(&self) -> i128 {
        let mut cents = self.0;
        cents.rescale(2);
        cents.mantissa()
    }

    /// The amount of `cents` hundredths of a shilling.
    pub fn from_minor_units(cents: i64) -> Self {
        Money(Decimal::new(cents, 2))
    }

    /// This amount times a whole quantity.
    pub fn times(self, quantity: u32) -> Money {
        Money::from_decimal(self.0 * Decimal::from(quantity))
    }

    /// The amount with two decimals and thousands separators, as people read it in
    /// messages: `12,500.00`, `-1,000.50`, `0.05`.
    pub fn grouped(&self) -> String {
        let plain = self.to_string();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "00"));
        let mut grouped = String::with_capacity(plain.len() + whole.len() / 3);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        format!("{sign}{grouped}.{fraction}")
    }

    /// The mean of `count` amounts summing to `self`, or `None` when there are none.
    pub fn mean(self, count: u64) -> Option<Money> {
        (count > 0).then(|| Money::from_decimal(self.0 / Decimal::from(count)))
    }
}

fn parse_plain_decimal(s: &str) -> Result<Money, InvalidMoney> {
    let digits_ok = {
        let mut parts = s.splitn(2, '.');
        let whole = parts.next().unwrap_or_default();
        let frac = parts.next();
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    };
    if !digits_ok || s.len() > 20 {
        return Err(InvalidMoney::NotADecimal);
    }
    let value = Decimal::from_str(s).map_err(|_| InvalidMoney::NotADecimal)?;
    if value.normalize().scale() > 2 {
        return Err(InvalidMoney::TooPrecise);
    }
    if value > MAX_AMOUNT {
        return Err(InvalidMoney::TooLarge);
    }
    Ok(Money::from_decimal(value))
}

fn round2(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money::from_decimal(self.0 + rhs.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let value = Decimal::from_str(&s).map_err(serde::de::Error::custom)?;
        Ok(Money::from_decimal(value))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn minor_units_round_trip_exactly() {
        for raw in ["0.01", "0.10", "1", "1499.99", "1000000000.00", "12500.5"] {
            let money = Money::parse_price(raw).expect("price");
            let cents = i64::try_from(money.minor_units()).expect("fits");
            assert_eq!(Money::from_minor_units(cents), money, "{raw}");
            assert_eq!(
                Money::from_minor_units(cents).to_string(),
                money.to_string()
            );
        }
        assert_eq!(
            Money::parse_price("1499.99").expect("p").minor_units(),
            149_999
        );
        assert_eq!(Money::ZERO.minor_units(), 0);
        assert_eq!(Money::from_decimal(Decimal::new(-5, 3)).minor_units(), -1);
        assert_eq!(Money::from_minor_units(-1_050).to_string(), "-10.50");
    }

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn grouped_amounts_have_thousands_separators_and_two_decimals() {
        for (input, grouped) in [
            ("0.05", "0.05"),
            ("999", "999.00"),
            ("1000", "1,000.00"),
            ("12500", "12,500.00"),
            ("123456.7", "123,456.70"),
            ("1000000000", "1,000,000,000.00"),
            ("-1000.5", "-1,000.50"),
        ] {
            assert_eq!(
                Money::from_decimal(dec(input)).grouped(),
                grouped,
                "{input}"
            );
        }
    }

    #[test]
    fn prices_are_written_with_two_decimals() {
        for (input, written) in [("1499", "1499.00"), ("0.5", "0.50"), ("12.34", "12.34")] {
            assert_eq!(Money::parse_price(input).expect(input).to_string(), written);
        }
    }

    #[test]
    fn refuses_prices_that_are_not_plain_positive_two_place_decimals() {
        let cases = [
            ("", InvalidMoney::NotADecimal),
            ("abc", InvalidMoney::NotADecimal),
            ("-1.00", InvalidMoney::NotADecimal),
            ("+1.00", InvalidMoney::NotADecimal),
            ("1e3", InvalidMoney::NotADecimal),
            ("1.", InvalidMoney::NotADecimal),
            (".5", InvalidMoney::NotADecimal),
            (" 1.00", InvalidMoney::NotADecimal),
            ("1.001", InvalidMoney::TooPrecise),
            ("0", InvalidMoney::NotPositive),
            ("0.00", InvalidMoney::NotPositive),
            ("1000000000.01", InvalidMoney::TooLarge),
        ];
        for (input, expected) in cases {
            assert_eq!(Money::parse_price(input), Err(expected), "{input:?}");
        }
        assert!(
            Money::parse_price("1.10").is_ok(),
            "trailing zero is still two places"
        );
        assert!(Money::parse_bound("0").is_ok(), "a bound may be zero");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(Money::from_decimal(dec("0.005")).to_string(), "0.01");
        assert_eq!(Money::from_decimal(dec("0.004")).to_string(), "0.00");
        assert_eq!(Money::from_decimal(dec("2.675")).to_string(), "2.68");
        assert_eq!(Money::from_decimal(dec("-0.005")).to_string(), "-0.01");
    }

    #[test]
    fn arithmetic_is_exact() {
        let a = Money::parse_price("0.10").expect("price");
        let b = Money::parse_price("0.20").expect("price");
        assert_eq!((a + b).to_string(), "0.30");
        assert_eq!(a.times(3).to_string(), "0.30");
        let total: Money = [a, b, b].into_iter().sum();
        assert_eq!(
            total.mean(3).map(|m| m.to_string()),
            Some("0.17".to_owned())
        );
        assert_eq!(Money::ZERO.mean(0), None);
    }
}
