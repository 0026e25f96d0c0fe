//! The bodies M-Pesa posts to us, read strictly, and the bodies we answer with.
//!
//! - [`StkCallback`]: the outcome of an STK push.
//! - [`C2bPayment`]: a payment to our Paybill (confirmation or validation).
//! - [`ReversalResult`]: the outcome (or queue timeout) of a reversal.
//! - [`CallbackAnswer`]: our answers.
//!
//! Invariants:
//! - A body of another shape is a [`MalformedCallback`] naming the field's path and what
//!   was expected there, never the value found (it may be a phone number or a name).
//! - Amounts are exact [`domain::Money`] from the JSON text, never through floats.
//! - Extra fields are ignored; missing, `null` or mistyped documented fields are not.

mod answer;
mod c2b;
mod reader;
mod reversal;
mod stk;

pub use answer::{C2bRejection, CallbackAnswer};
pub use c2b::C2bPayment;
pub use reader::{MalformedCallback, Problem};
pub use reversal::ReversalResult;
pub use stk::{StkCallback, StkPaid};

#[cfg(test)]
mod properties {
    use domain::Money;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;

    /// A decimal with 0, 1 or 2 places, as text, and its exact value.
    fn decimal() -> impl Strategy<Value = (String, Decimal)> {
        let whole = prop_oneof![1_u64..=1_000, 0_u64..=250_000, 0_u64..=999_999_999];
        let fraction = prop_oneof![
            Just(String::new()),
            (0_u8..10).prop_map(|d| format!(".{d}")),
            (0_u8..100).prop_map(|d| format!(".{d:02}")),
        ];
        (whole, fraction)
            .prop_map(|(whole, fraction)| format!("{whole}{fraction}"))
            .prop_filter_map("positive", |text| {
                let value: Decimal = text.parse().ok()?;
                (value > Decimal::ZERO).then_some((text, value))
            })
    }

    fn stk_body(amount: &str) -> String {
        format!(
            r#"{{"Body":{{"stkCallback":{{"MerchantRequestID":"29115-34620561-1","CheckoutRequestID":"ws_CO_191220191020363925","ResultCode":0,"ResultDesc":"ok","CallbackMetadata":{{"Item":[{{"Name":"Amount","Value":{amount}}},{{"Name":"MpesaReceiptNumber","Value":"NLJ7RT61SV"}}]}}}}}}}}"#
        )
    }

    fn c2b_body(amount: &str) -> String {
        format!(
            r#"{{"TransID":"RKTQDM7W6S","TransAmount":{amount},"BillRefNumber":"ORD1","BusinessShortCode":"600638"}}"#
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any positive decimal with at most 2 places, written as a JSON number or a
        /// string, is read as exactly itself.
        #[test]
        fn amounts_parse_to_themselves((text, value) in decimal()) {
            let expected = Money::from_decimal(value);
            let paid = StkCallback::parse(stk_body(&text).as_bytes()).expect("stk").paid.expect("paid");
            prop_assert_eq!(paid.amount, expected);
            prop_assert_eq!(paid.amount.as_decimal(), value);
            let quoted = format!("\"{text}\"");
            let as_string = C2bPayment::parse(c2b_body(&quoted).as_bytes()).expect("c2b");
            prop_assert_eq!(as_string.amount, expected);
            let as_number = C2bPayment::parse(c2b_body(&text).as_bytes()).expect("c2b");
            prop_assert_eq!(as_number.amount, expected);
        }

        /// A third place that is not zero is refused, never rounded.
        #[test]
        fn a_third_place_is_refused(whole in 0_u64..=250_000, cents in 0_u8..100, third in 1_u8..10) {
            let text = format!("{whole}.{cents:02}{third}");
            let quoted = format!("\"{text}\"");
            prop_assert!(StkCallback::parse(stk_body(&text).as_bytes()).is_err());
            prop_assert!(C2bPayment::parse(c2b_body(&quoted).as_bytes()).is_err());
            prop_assert!(C2bPayment::parse(c2b_body(&text).as_bytes()).is_err());
        }

        /// Any bytes at all: read or refused, never a panic.
        #[test]
        fn any_body_is_read_or_refused(body in any::<Vec<u8>>()) {
            let _ = StkCallback::parse(&body);
            let _ = C2bPayment::parse(&body);
            let _ = ReversalResult::parse(&body);
        }
    }
}
