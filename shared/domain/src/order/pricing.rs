//! Pricing an order: quantities, the VAT rate, lines priced at the time of ordering and
//! the order's totals.
//!
//! Rounding (documented in the OpenAPI file): each line total is `unit_price × quantity`
//! (exact, unit prices have two places); `subtotal` is the sum of the line totals;
//! `tax_amount` is `subtotal × VAT rate` rounded to two places half away from zero;
//! `total_amount = subtotal + tax_amount`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::id::ProductId;
use crate::money::Money;
use crate::product::{ProductName, Sku};
use crate::stock_buckets::Portion;

/// Most units of one product in one order.
pub const MAX_QUANTITY: u32 = 1000;

/// How many units of a product a line orders: 1 to 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u32);

/// Why a number is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to {MAX_QUANTITY}")]
pub struct InvalidQuantity;

impl Quantity {
    pub fn new(units: i64) -> Result<Self, InvalidQuantity> {
        u32::try_from(units)
            .ok()
            .filter(|u| (1..=MAX_QUANTITY).contains(u))
            .map(Self)
            .ok_or(InvalidQuantity)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The VAT rate applied to an order's subtotal, as a fraction (`0.16` for 16 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatRate(Decimal);

/// Why a string is not a VAT rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("VAT rate must be a decimal fraction from 0 to 1, such as 0.16")]
pub struct InvalidVatRate;

impl VatRate {
    /// Kenya's standard rate, 16 %.
    pub fn kenya_standard() -> Self {
        Self(Decimal::new(16, 2))
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// VAT on `amount`, rounded to two places half away from zero.
    pub fn tax_on(self, amount: Money) -> Money {
        Money::from_decimal(amount.as_decimal() * self.0)
    }
}

impl FromStr for VatRate {
    type Err = InvalidVatRate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rate = Decimal::from_str(s.trim()).map_err(|_| InvalidVatRate)?;
        (Decimal::ZERO..Decimal::ONE)
            .contains(&rate)
            .then_some(Self(rate))
            .ok_or(InvalidVatRate)
    }
}

/// One product of an order, priced when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: ProductId,
    /// The product's name when ordered.
    pub product_name: ProductName,
    /// The product's SKU when ordered, if it had one.
    pub sku: Option<Sku>,
    /// The product's price when ordered.
    pub unit_price: Money,
    pub quantity: Quantity,
    /// `unit_price × quantity`.
    pub line_total: Money,
    /// The stock buckets the units came from (what a cancellation puts back where); empty
    /// on lines placed before the stock was split, which took from bucket 0.
    pub stock_from: Vec<Portion>,
}

impl OrderLine {
    /// A line for `quantity` units at `unit_price`.
    pub fn new(
        product_id: ProductId,
        product_name: ProductName,
        sku: Option<Sku>,
        unit_price: Money,
        quantity: Quantity,
    ) -> Self {
        Self {
            product_id,
            product_name,
            sku,
            unit_price,
            quantity,
            line_total: unit_price.times(quantity.get()),
            stock_from: Vec::new(),
        }
    }

    /// Whether `other` is this line at the same terms (product, name, SKU, price,
    /// quantity), wherever its stock came from.
    pub fn same_terms(&self, other: &OrderLine) -> bool {
        (
            self.product_id,
            &self.product_name,
            &self.sku,
            self.unit_price,
            self.quantity,
        ) == (
            other.product_id,
            &other.product_name,
            &other.sku,
            other.unit_price,
            other.quantity,
        )
    }

    /// Where this line's units go back to on a cancellation: the buckets they came from
    /// (bucket 0 for a line placed before the stock was split).
    pub fn stock_to_return(&self) -> Vec<Portion> {
        if self.stock_from.is_empty() {
            vec![Portion {
                bucket: 0,
                units: self.quantity.get(),
            }]
        } else {
            self.stock_from.clone()
        }
    }
}

/// The amounts of an order, in KES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Sum of the line totals.
    pub subtotal: Money,
    /// VAT on the subtotal.
    pub tax_amount: Money,
    /// `subtotal + tax_amount`.
    pub total_amount: Money,
}

impl Totals {
    /// The totals of `lines` under `vat`.
    pub fn of(lines: &[OrderLine], vat: VatRate) -> Self {
        let subtotal: Money = lines.iter().map(|line| line.line_total).sum();
        let tax_amount = vat.tax_on(subtotal);
        Self {
            subtotal,
            tax_amount,
            total_amount: subtotal + tax_amount,
        }
    }
}

/// The currency of every amount.
pub const CURRENCY: &str = "KES";

#[cfg(test)]
mod tests {
    use super::*;

    fn line(price: &str, quantity: i64) -> OrderLine {
        OrderLine::new(
            ProductId::generate(),
            ProductName::parse("Thing").expect("name"),
            None,
            Money::parse_price(price).expect("price"),
            Quantity::new(quantity).expect("quantity"),
        )
    }

    #[test]
    fn quantities_are_one_to_a_thousand() {
        for ok in [1, 7, 1000] {
            assert_eq!(Quantity::new(ok).map(Quantity::get), Ok(ok as u32));
        }
        for bad in [0, -1, 1001, i64::MAX] {
            assert_eq!(Quantity::new(bad), Err(InvalidQuantity), "{bad}");
        }
    }

    #[test]
    fn vat_rates_are_fractions_below_one() {
        assert_eq!("0.16".parse(), Ok(VatRate::kenya_standard()));
        assert!("0".parse::<VatRate>().is_ok());
        for bad in ["16", "1", "-0.1", "abc", ""] {
            assert_eq!(bad.parse::<VatRate>(), Err(InvalidVatRate), "{bad:?}");
        }
    }

    /// `(unit price, quantity)` lines of one order.
    type Lines = &'static [(&'static str, i64)];

    /// `(unit price, quantity)` lines → `(subtotal, tax, total)` at 16 %.
    #[test]
    fn totals_round_vat_half_away_from_zero() {
        let cases: [(Lines, [&str; 3]); 5] = [
            (&[("100.00", 1)], ["100.00", "16.00", "116.00"]),
            (
                &[("1499.00", 2), ("250.50", 3)],
                ["3749.50", "599.92", "4349.42"],
            ),
            // 0.20 × 0.16 = 0.032 → 0.03.
            (&[("0.20", 1)], ["0.20", "0.03", "0.23"]),
            // 1.03 × 0.16 = 0.1648 → 0.16.
            (&[("1.03", 1)], ["1.03", "0.16", "1.19"]),
            // 0.05 × 0.16 = 0.008 → 0.01 (half and above goes away from zero).
            (&[("0.05", 1)], ["0.05", "0.01", "0.06"]),
        ];
        for (lines, [subtotal, tax, total]) in cases {
            let lines: Vec<OrderLine> = lines.iter().map(|(p, q)| line(p, *q)).collect();
            let totals = Totals::of(&lines, VatRate::kenya_standard());
            assert_eq!(
                [
                    totals.subtotal.to_string(),
                    totals.tax_amount.to_string(),
                    totals.total_amount.to_string()
                ],
                [subtotal, tax, total],
                "{lines:?}"
            );
        }
    }

    #[test]
    fn line_totals_are_exact() {
        assert_eq!(line("0.10", 3).line_total.to_string(), "0.30");
        assert_eq!(
            line("999999.99", 1000).line_total.to_string(),
            "999999990.00"
        );
    }
}

/// Properties of an order's amounts, checked against integer arithmetic on cents.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::money::properties::div_round_half_away;
    use crate::order::request::MAX_LINES;

    /// Prices up to the largest a product may have (one billion shillings), in cents.
    fn unit_price_cents() -> impl Strategy<Value = i64> {
        prop_oneof![1_i64..=10_000, 1_i64..=100_000_000_000]
    }

    /// A VAT rate with up to four decimals, in basis points of a hundredth (`1600` is
    /// 16 %), written as the configuration writes it.
    fn vat_basis_points() -> impl Strategy<Value = i64> {
        prop_oneof![Just(1_600_i64), 0_i64..10_000]
    }

    fn vat(basis_points: i64) -> VatRate {
        format!("0.{basis_points:04}").parse().expect("a VAT rate")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Line totals are exact, the subtotal is their exact sum, the tax is the subtotal
        /// times the rate rounded half away from zero, and the total adds them up.
        #[test]
        fn totals_add_up_exactly(
            lines in prop::collection::vec(
                (unit_price_cents(), 1_i64..=i64::from(MAX_QUANTITY)),
                1..=MAX_LINES,
            ),
            basis_points in vat_basis_points(),
        ) {
            let priced: Vec<OrderLine> = lines
                .iter()
                .map(|(cents, quantity)| {
                    OrderLine::new(
                        ProductId::generate(),
                        ProductName::parse("Thing").expect("name"),
                        None,
                        Money::from_minor_units(*cents),
                        Quantity::new(*quantity).expect("quantity"),
                    )
                })
                .collect();
            for (line, (cents, quantity)) in priced.iter().zip(&lines) {
                prop_assert_eq!(
                    line.line_total.minor_units(),
                    i128::from(*cents) * i128::from(*quantity)
                );
            }
            let subtotal: i128 = lines.iter().map(|(c, q)| i128::from(*c) * i128::from(*q)).sum();
            let tax = div_round_half_away(subtotal * i128::from(basis_points), 10_000);

            let totals = Totals::of(&priced, vat(basis_points));
            prop_assert_eq!(totals.subtotal.minor_units(), subtotal);
            prop_assert_eq!(totals.tax_amount.minor_units(), tax);
            prop_assert_eq!(totals.total_amount.minor_units(), subtotal + tax);
            prop_assert!(totals.tax_amount <= totals.subtotal, "{:?}", totals);
        }

        /// Rates from 0 up to (not including) 1 are accepted, with surrounding spaces;
        /// 1 and above, and negative rates, are not.
        #[test]
        fn vat_rates_are_fractions_below_one(
            basis_points in 0_i64..10_000,
            too_high in prop_oneof![
                Just("1".to_owned()),
                Just("1.0000".to_owned()),
                (1_u32..=100, 0_u32..10_000).prop_map(|(whole, bp)| format!("{whole}.{bp:04}")),
            ],
            padding in "[ \t]{0,2}",
        ) {
            let rate = vat(basis_points);
            prop_assert_eq!(rate.as_decimal(), Decimal::new(basis_points, 4));
            prop_assert_eq!(format!("{padding}0.{basis_points:04}{padding}").parse(), Ok(rate));
            prop_assert_eq!(too_high.parse::<VatRate>(), Err(InvalidVatRate));
            if basis_points > 0 {
                let negative = format!("-0.{basis_points:04}");
                prop_assert_eq!(negative.parse::<VatRate>(), Err(InvalidVatRate));
            }
        }
    }
}
