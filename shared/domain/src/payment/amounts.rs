//! What is still owed on an order and what one M-Pesa prompt may ask for.
//!
//! Invariants: M-Pesa moves whole shillings, so `amount_due` is rounded **up** to a whole
//! shilling (paying it never leaves a few cents owing) and is never below zero; a prompt
//! asks for at most [`PROMPT_LIMIT`], M-Pesa's limit per transaction.

use rust_decimal::Decimal;

use crate::money::Money;

/// The most one prompt may ask for: KES 250,000 (M-Pesa's limit per transaction). A
/// larger amount due is paid by several prompts or by Paybill.
pub const PROMPT_LIMIT: Money = Money::from_whole_shillings(250_000);

/// `total − paid`, rounded up to whole shillings, never below `0.00`.
pub fn amount_due(total: Money, paid: Money) -> Money {
    let owed = total.as_decimal() - paid.as_decimal();
    if owed <= Decimal::ZERO {
        Money::ZERO
    } else {
        Money::from_decimal(owed.ceil())
    }
}

/// What the next prompt asks for: the amount due, capped at [`PROMPT_LIMIT`]; `None`
/// when nothing is due.
pub fn prompt_amount(due: Money) -> Option<Money> {
    (due > Money::ZERO).then(|| due.min(PROMPT_LIMIT))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn money(s: &str) -> Money {
        Money::from_decimal(Decimal::from_str(s).expect("decimal"))
    }

    #[test]
    fn due_is_rounded_up_to_whole_shillings() {
        for (total, paid, due) in [
            ("1160.00", "0", "1160.00"),
            ("1160.01", "0", "1161.00"),
            ("1160.50", "1000", "161.00"),
            ("1160.50", "1161", "0.00"),
            ("1160.00", "1160", "0.00"),
            ("100.00", "250", "0.00"),
        ] {
            assert_eq!(
                amount_due(money(total), money(paid)),
                money(due),
                "{total} - {paid}"
            );
        }
    }

    #[test]
    fn a_prompt_asks_for_what_is_due_up_to_the_limit() {
        assert_eq!(prompt_amount(money("1161")), Some(money("1161")));
        assert_eq!(prompt_amount(money("250000")), Some(money("250000")));
        assert_eq!(prompt_amount(money("300000")), Some(PROMPT_LIMIT));
        assert_eq!(prompt_amount(Money::ZERO), None);
        assert_eq!(PROMPT_LIMIT.to_string(), "250000.00");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Due is whole, never negative, covers what is owed and overshoots by less than
        /// one shilling; nothing is due once the total is paid.
        #[test]
        fn due_is_the_least_whole_amount_that_settles_the_order(
            total_cents in 1i64..100_000_000_000,
            paid_cents in 0i64..100_000_000_000,
        ) {
            let (total, paid) = (Money::from_minor_units(total_cents), Money::from_minor_units(paid_cents));
            let due = amount_due(total, paid).minor_units();
            prop_assert!(due >= 0);
            prop_assert_eq!(due % 100, 0);
            let owed = i128::from(total_cents) - i128::from(paid_cents);
            if owed <= 0 {
                prop_assert_eq!(due, 0);
            } else {
                prop_assert!(due >= owed && due - owed < 100);
            }
            // Paying what is due leaves nothing due.
            let after = amount_due(total, paid + amount_due(total, paid));
            prop_assert_eq!(after, Money::ZERO);
        }

        #[test]
        fn a_prompt_never_exceeds_the_limit_nor_what_is_due(due_shillings in 0i64..10_000_000) {
            let due = Money::from_minor_units(due_shillings * 100);
            match prompt_amount(due) {
                None => prop_assert_eq!(due, Money::ZERO),
                Some(ask) => {
                    prop_assert!(ask > Money::ZERO && ask <= PROMPT_LIMIT && ask <= due);
                    prop_assert!(ask == due || ask == PROMPT_LIMIT);
                }
            }
        }
    }
}
