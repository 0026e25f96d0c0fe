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

    /// An amount of whole shillings (`const`, for limits such as M-Pesa's per prompt).
    pub const fn from_whole_shillings(shillings: u32) -> Self {
        let cents = shillings as u64 * 100;
        Money(Decimal::from_parts(
            cents as u32,
            (cents >> 32) as u32,
            0,
            false,
            2,
        ))
    }

    /// `self − other`, exactly (may be negative).
    pub fn minus(self, other: Money) -> Money {
        Money::from_decimal(self.0 - other.0)
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

/// Properties of amounts, checked against integer arithmetic on minor units (cents), the
/// one form in which "exact" and "rounded half away from zero" are plain to state.
#[cfg(test)]
pub(crate) mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The largest amount a client may send, in cents.
    const MAX_CENTS: i64 = 100_000_000_000;

    /// `n / d` rounded half away from zero (`d > 0`), in integers only.
    pub(crate) fn div_round_half_away(n: i128, d: i128) -> i128 {
        let (quotient, remainder) = (n / d, n % d);
        if 2 * remainder.abs() >= d {
            quotient + n.signum()
        } else {
            quotient
        }
    }

    /// How an amount of `cents` is written: sign, whole shillings, two decimals.
    fn written(cents: i128) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let abs = cents.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// A client's decimal text with 0, 1 or 2 places (and maybe leading zeros), and the
    /// cents it stands for. Whole parts cluster at both ends of the accepted range.
    fn plain_decimal() -> impl Strategy<Value = (String, i128)> {
        let whole = prop_oneof![
            Just(0_u64),
            0_u64..=1_000,
            0_u64..=1_000_000_001,
            999_999_990_u64..=1_000_000_001
        ];
        let fraction = prop_oneof![
            Just((String::new(), 0_u64)),
            (0_u64..10).prop_map(|d| (format!(".{d}"), d * 10)),
            (0_u64..100).prop_map(|d| (format!(".{d:02}"), d)),
        ];
        (whole, fraction, 0_usize..=2).prop_map(|(whole, (fraction, fraction_cents), zeros)| {
            let text = format!("{}{whole}{fraction}", "0".repeat(zeros));
            (text, i128::from(whole) * 100 + i128::from(fraction_cents))
        })
    }

    /// A decimal with three to eight places (so `(mantissa, scale)`) that is often exactly
    /// half-way between two cents, or next to half-way, on either side of zero.
    fn near_half_a_cent() -> impl Strategy<Value = (i64, u32)> {
        let nudge = prop_oneof![Just(0_i64), Just(-1), Just(1), any::<i64>()];
        (0..=MAX_CENTS, any::<bool>(), 1_u32..=6, nudge).prop_map(
            |(cents, negative, places, nudge)| {
                let unit = 10_i64.pow(places);
                let tail = (unit / 2 + nudge).rem_euclid(unit);
                let magnitude = cents * unit + tail;
                (if negative { -magnitude } else { magnitude }, 2 + places)
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Plain decimals with at most two places parse to exactly their value: a price
        /// must be above 0, a bound may be 0, neither above one billion.
        #[test]
        fn two_place_decimals_parse_exactly((text, cents) in plain_decimal()) {
            let price = Money::parse_price(&text);
            let bound = Money::parse_bound(&text);
            if cents > i128::from(MAX_CENTS) {
                prop_assert_eq!(price, Err(InvalidMoney::TooLarge));
                prop_assert_eq!(bound, Err(InvalidMoney::TooLarge));
            } else {
                let parsed = bound.expect("a bound");
                prop_assert_eq!(parsed.minor_units(), cents);
                prop_assert_eq!(parsed.to_string(), written(cents));
                if cents == 0 {
                    prop_assert_eq!(price, Err(InvalidMoney::NotPositive));
                } else {
                    prop_assert_eq!(price, Ok(parsed));
                }
            }
        }

        /// Written amounts parse back to themselves, and cents survive the trip.
        #[test]
        fn written_prices_parse_back(cents in 1..=MAX_CENTS) {
            let money = Money::from_minor_units(cents);
            let text = money.to_string();
            prop_assert_eq!(Money::parse_price(&text), Ok(money));
            prop_assert_eq!(money.minor_units(), i128::from(cents));
        }

        /// A third decimal place that is not zero is refused, whatever the rest; zeros
        /// after the second place change nothing.
        #[test]
        fn more_than_two_places_are_refused(
            whole in 0_u64..=1_000_000_000,
            cents in 0_u64..100,
            extra in "[0-9]{0,4}[1-9]",
            zeros in "0{1,3}",
        ) {
            let two_places = format!("{whole}.{cents:02}");
            prop_assert_eq!(
                Money::parse_bound(&format!("{two_places}{extra}")),
                Err(InvalidMoney::TooPrecise)
            );
            prop_assert_eq!(
                Money::parse_bound(&format!("{two_places}{zeros}")),
                Money::parse_bound(&two_places)
            );
        }

        /// Any text at all: never a panic, and what is accepted is plain decimal notation
        /// that is written back as the same amount.
        #[test]
        fn arbitrary_text_is_parsed_or_refused_without_panicking(text in any::<String>()) {
            if let Ok(money) = Money::parse_bound(&text) {
                prop_assert!(text.bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{text:?}");
                prop_assert_eq!(Money::parse_bound(&money.to_string()), Ok(money));
            }
        }

        /// A character other than digits and the decimal point makes any amount invalid,
        /// wherever it stands (a sign, an exponent, a space, a comma, another script's digit).
        #[test]
        fn stray_characters_are_refused(
            (text, _) in plain_decimal(),
            stray in prop_oneof![
                // What number parsers elsewhere accept: signs, exponents, digit separators.
                prop::sample::select(vec!['+', '-', 'e', 'E', '_', ',', ' ']),
                any::<char>()
                    .prop_filter("a digit or the point", |c| !c.is_ascii_digit() && *c != '.'),
            ],
            at in any::<prop::sample::Index>(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars.insert(at.index(chars.len() + 1), stray);
            let spoiled: String = chars.into_iter().collect();
            prop_assert_eq!(
                Money::parse_bound(&spoiled),
                Err(InvalidMoney::NotADecimal),
                "{:?}", spoiled
            );
        }

        /// Cents and written form agree for every amount, negative ones included.
        #[test]
        fn minor_units_round_trip(cents in any::<i64>()) {
            let money = Money::from_minor_units(cents);
            prop_assert_eq!(money.minor_units(), i128::from(cents));
            prop_assert_eq!(money.to_string(), written(i128::from(cents)));
        }

        /// Any decimal is rounded to two places half away from zero.
        #[test]
        fn rounding_is_half_away_from_zero(
            (mantissa, scale) in prop_oneof![
                (any::<i64>(), 0_u32..=10),
                (-100_000_i64..=100_000, 0_u32..=10),
                near_half_a_cent(),
            ],
        ) {
            let cents = if scale <= 2 {
                i128::from(mantissa) * 10_i128.pow(2 - scale)
            } else {
                div_round_half_away(i128::from(mantissa), 10_i128.pow(scale - 2))
            };
            let money = Money::from_decimal(Decimal::new(mantissa, scale));
            prop_assert_eq!(money.minor_units(), cents);
            prop_assert_eq!(money.to_string(), written(cents));
            // Rounding twice changes nothing.
            prop_assert_eq!(Money::from_decimal(money.as_decimal()), money);
        }

        /// Sums and products are exact: the sum of amounts is the sum of their cents.
        #[test]
        fn sums_and_products_are_exact(
            cents in prop::collection::vec(0..=MAX_CENTS, 0..=50),
            quantity in 0_u32..=1_000,
        ) {
            let amounts: Vec<Money> = cents.iter().copied().map(Money::from_minor_units).collect();
            let total: Money = amounts.iter().copied().sum();
            let exact: i128 = cents.iter().map(|c| i128::from(*c)).sum();
            prop_assert_eq!(total.minor_units(), exact);
            let reversed: Money = amounts.iter().rev().copied().sum();
            prop_assert_eq!(reversed, total, "the order of the terms does not matter");
            for (money, cents) in amounts.iter().zip(&cents) {
                prop_assert_eq!(
                    money.times(quantity).minor_units(),
                    i128::from(*cents) * i128::from(quantity)
                );
            }
        }

        /// A mean is the sum divided by the count, rounded half away from zero.
        #[test]
        fn means_round_half_away_from_zero(cents in prop::collection::vec(0..=MAX_CENTS, 1..=50)) {
            let total: Money = cents.iter().copied().map(Money::from_minor_units).sum();
            let count = cents.len() as u64;
            let expected = div_round_half_away(total.minor_units(), i128::from(count));
            let expected = Money::from_minor_units(i64::try_from(expected).expect("cents"));
            prop_assert_eq!(total.mean(count), Some(expected));
        }

        /// Grouping only adds a comma before every third digit of the whole part.
        #[test]
        fn grouping_adds_thousands_separators_only(cents in any::<i64>()) {
            let money = Money::from_minor_units(cents);
            let grouped = money.grouped();
            prop_assert_eq!(grouped.replace(',', ""), money.to_string());
            let unsigned = grouped.strip_prefix('-').unwrap_or(&grouped);
            let (whole, fraction) = unsigned.split_once('.').expect("two decimals");
            prop_assert_eq!(fraction.len(), 2);
            let groups: Vec<&str> = whole.split(',').collect();
            prop_assert!((1..=3).contains(&groups[0].len()), "{}", grouped);
            prop_assert!(groups[1..].iter().all(|g| g.len() == 3), "{}", grouped);
            prop_assert!(whole.bytes().all(|b| b.is_ascii_digit() || b == b','), "{}", grouped);
        }

        /// JSON carries an amount as its two-decimal string, and reads it back unchanged.
        #[test]
        fn json_round_trips(cents in any::<i64>()) {
            let money = Money::from_minor_units(cents);
            let json = serde_json::to_string(&money).expect("serialises");
            prop_assert_eq!(&json, &format!("\"{}\"", written(i128::from(cents))));
            prop_assert_eq!(serde_json::from_str::<Money>(&json).expect("deserialises"), money);
        }
    }
}
