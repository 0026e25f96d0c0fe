//! The customer's text messages through an order's life, each one SMS segment: Africa's
//! Talking bills per segment, and a segment is 160 GSM-7 characters (an extension
//! character such as `€`, `[` or `~` counts two), or 70 UTF-16 units once one character
//! outside GSM-7 (a name in another script, an emoji) forces UCS-2.
//!
//! Invariants:
//! - Every text is one segment, whatever the name, the amounts and the references.
//! - A text always carries the order number and its amounts in full, and the M-Pesa
//!   receipt, the Paybill number and the account reference where they apply: only the
//!   customer's name is shortened — to the first name, then to its first letters, then
//!   left out (the rest of every text is plain ASCII, so the name alone can force UCS-2).

use crate::money::Money;
use crate::notification::message::kes;
use crate::order::OrderNumber;
use crate::order::customer_message::CustomerEvent;

/// Characters in one GSM-7 segment.
pub const GSM7_SEGMENT: usize = 160;
/// UTF-16 units in one UCS-2 segment.
pub const UCS2_SEGMENT: usize = 70;

/// GSM 03.38's basic character set: one septet each.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table: an escape and the character, two septets each.
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// How a text is encoded for sending, and its length in that encoding's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Septets (an extension character counts two).
    Gsm7(usize),
    /// UTF-16 code units.
    Ucs2(usize),
}

impl Encoding {
    /// How `text` is sent: GSM-7 when every character has a septet, else UCS-2.
    pub fn of(text: &str) -> Self {
        let mut septets = 0;
        for c in text.chars() {
            if GSM7_BASIC.contains(c) {
                septets += 1;
            } else if GSM7_EXTENSION.contains(c) {
                septets += 2;
            } else {
                return Encoding::Ucs2(text.encode_utf16().count());
            }
        }
        Encoding::Gsm7(septets)
    }

    /// Whether the text fits one segment.
    pub fn fits_one_segment(self) -> bool {
        match self {
            Encoding::Gsm7(septets) => septets <= GSM7_SEGMENT,
            Encoding::Ucs2(units) => units <= UCS2_SEGMENT,
        }
    }
}

/// The SMS telling the customer `name` about `event` on order `number`, in one segment:
/// the name as fully as that allows.
pub fn customer_sms(event: &CustomerEvent, number: &OrderNumber, name: &str) -> String {
    greetings(name)
        .map(|greeting| compose(event, number, &greeting))
        .find(|text| Encoding::of(text).fits_one_segment())
        // Without a name every text is ASCII and fits (the tests prove it for every
        // amount, number and receipt).
        .unwrap_or_else(|| compose(event, number, ""))
}

/// The names to try, longest first: the whole name (white space folded, control
/// characters dropped), the first name, its first ten characters, then none.
fn greetings(name: &str) -> impl Iterator<Item = String> {
    let cleaned: String = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let first = cleaned.split(' ').next().unwrap_or_default().to_owned();
    let short: String = first.chars().take(10).collect();
    [cleaned, first, short, String::new()].into_iter()
}

fn compose(event: &CustomerEvent, number: &OrderNumber, name: &str) -> String {
    let hi = if name.is_empty() {
        "Hi".to_owned()
    } else {
        format!("Hi {name}")
    };
    match event {
        CustomerEvent::Confirmed { total, pay: None } => format!(
            "{hi}, your order {number} of {} has been confirmed. Thank you for shopping with us.",
            kes(*total)
        ),
        CustomerEvent::Confirmed {
            total,
            pay: Some(pay),
        } => format!(
            "{hi}, your order {number} of {} is confirmed. Pay with M-Pesa: Paybill {}, account {}.",
            kes(*total),
            pay.paybill,
            pay.reference.as_str()
        ),
        CustomerEvent::PaymentReceived {
            amount,
            receipt,
            due,
        } => {
            let rest = if *due == Money::ZERO {
                "Paid in full, thank you.".to_owned()
            } else {
                format!("Still to pay: {}.", kes(*due))
            };
            format!(
                "{hi}, we received {} for order {number}, M-Pesa receipt {receipt}. {rest}",
                kes(*amount)
            )
        }
        CustomerEvent::Shipped => {
            format!("{hi}, your order {number} has been shipped and is on its way to you.")
        }
        CustomerEvent::Delivered => {
            format!("{hi}, your order {number} has been delivered. Thank you for shopping with us.")
        }
        CustomerEvent::Cancelled { refund: None } => {
            format!("{hi}, your order {number} has been cancelled.")
        }
        CustomerEvent::Cancelled {
            refund: Some(refund),
        } => format!(
            "{hi}, your order {number} has been cancelled. A refund of {} to your M-Pesa has been requested.",
            kes(*refund)
        ),
        CustomerEvent::PaymentReversed { amount, receipt } => format!(
            "{hi}, {} for order {number} has been refunded to your M-Pesa, receipt {receipt}.",
            kes(*amount)
        ),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::order::PaymentReference;
    use crate::order::customer_message::PayBy;
    use crate::payment::Receipt;
    use crate::timestamp::Timestamp;

    fn number() -> OrderNumber {
        OrderNumber::parse("ORD-20261206-7KQ2MZ").expect("number")
    }

    fn money(text: &str) -> Money {
        Money::parse_price(text).expect("amount")
    }

    #[test]
    fn gsm7_counts_septets_and_anything_else_is_ucs2() {
        assert_eq!(Encoding::of("Hi Amina"), Encoding::Gsm7(8));
        assert_eq!(Encoding::of("€5 [x]"), Encoding::Gsm7(9));
        assert_eq!(Encoding::of("Hi Wanjirū"), Encoding::Ucs2(10));
        assert_eq!(Encoding::of("Hi 😀"), Encoding::Ucs2(5));
        assert!(Encoding::of(&"a".repeat(160)).fits_one_segment());
        assert!(!Encoding::of(&"a".repeat(161)).fits_one_segment());
        assert!(!Encoding::of(&"€".repeat(81)).fits_one_segment());
        assert!(Encoding::of(&"ū".repeat(70)).fits_one_segment());
        assert!(!Encoding::of(&"ū".repeat(71)).fits_one_segment());
    }

    #[test]
    fn the_confirmation_is_the_contracts_text_when_nothing_is_due() {
        let event = CustomerEvent::Confirmed {
            total: money("12500"),
            pay: None,
        };
        assert_eq!(
            customer_sms(&event, &number(), "Amina Otieno"),
            "Hi Amina Otieno, your order ORD-20261206-7KQ2MZ of KES 12,500.00 has been \
             confirmed. Thank you for shopping with us."
        );
    }

    #[test]
    fn an_unpaid_confirmation_says_how_to_pay() {
        let event = CustomerEvent::Confirmed {
            total: money("12500"),
            pay: Some(PayBy {
                paybill: "174379".into(),
                reference: PaymentReference::of(&number()),
            }),
        };
        let text = customer_sms(&event, &number(), "Amina");
        assert!(text.contains("Paybill 174379"), "{text}");
        assert!(
            text.contains(PaymentReference::of(&number()).as_str()),
            "{text}"
        );
    }

    #[test]
    fn a_name_that_forces_ucs2_is_shortened_then_left_out() {
        let event = CustomerEvent::Shipped;
        // The whole text in UCS-2 is over 70 units: the name goes, the rest is GSM-7.
        let text = customer_sms(&event, &number(), "Wanjirū Kamau");
        assert_eq!(
            text,
            "Hi, your order ORD-20261206-7KQ2MZ has been shipped and is on its way to you."
        );
        // A long Latin name is cut to the first name.
        let long = format!("Amina {}", "Nyambura ".repeat(12));
        let text = customer_sms(&event, &number(), &long);
        assert!(text.starts_with("Hi Amina, your order"), "{text}");
    }

    fn receipt() -> impl Strategy<Value = Receipt> {
        "[A-Z0-9]{8,20}".prop_map(|r| Receipt::parse(&r).expect("receipt"))
    }

    fn amount() -> impl Strategy<Value = Money> {
        (1_i64..=99_999_999_999).prop_map(Money::from_minor_units)
    }

    fn order_number() -> impl Strategy<Value = OrderNumber> {
        (0_i64..4_000_000_000).prop_map(|seconds| {
            let at = time::OffsetDateTime::from_unix_timestamp(seconds).expect("time");
            OrderNumber::generate(Timestamp::from_datetime(at))
        })
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z' -]{0,80}",
            "[À-ɏ ]{0,60}",
            "[Α-ω ]{0,40}",
            "[一-龥 ]{0,30}",
            "[\u{1F600}-\u{1F64F} a-z]{0,30}",
            "[€\\[\\]{}~^|\\\\ a-z]{0,100}",
            any::<String>(),
        ]
    }

    fn event() -> impl Strategy<Value = CustomerEvent> {
        let pay =
            proptest::option::of(
                ("[0-9]{5,7}", order_number()).prop_map(|(paybill, n)| PayBy {
                    paybill,
                    reference: PaymentReference::of(&n),
                }),
            );
        prop_oneof![
            (amount(), pay).prop_map(|(total, pay)| CustomerEvent::Confirmed { total, pay }),
            (
                amount(),
                receipt(),
                prop_oneof![Just(0_i64), 1_i64..=99_999_999_999]
            )
                .prop_map(|(amount, receipt, due)| CustomerEvent::PaymentReceived {
                    amount,
                    receipt,
                    due: Money::from_minor_units(due),
                }),
            Just(CustomerEvent::Shipped),
            Just(CustomerEvent::Delivered),
            proptest::option::of(amount()).prop_map(|refund| CustomerEvent::Cancelled { refund }),
            (amount(), receipt())
                .prop_map(|(amount, receipt)| CustomerEvent::PaymentReversed { amount, receipt }),
        ]
    }

    proptest! {
        /// Every text is one segment and still carries the order number, every amount in
        /// full, and the receipt, the Paybill and the account where they apply.
        #[test]
        fn every_text_is_one_segment_and_keeps_what_matters(
            event in event(),
            number in order_number(),
            name in name(),
        ) {
            let text = customer_sms(&event, &number, &name);
            prop_assert!(Encoding::of(&text).fits_one_segment(), "{:?}: {}", Encoding::of(&text), text);
            prop_assert!(text.contains(number.as_str()), "{}", text);
            let must: Vec<String> = match &event {
                CustomerEvent::Confirmed { total, pay } => {
                    let mut must = vec![kes(*total)];
                    if let Some(pay) = pay {
                        must.push(format!("Paybill {}", pay.paybill));
                        must.push(pay.reference.as_str().to_owned());
                    }
                    must
                }
                CustomerEvent::PaymentReceived { amount, receipt, due } => {
                    let mut must = vec![kes(*amount), receipt.to_string()];
                    if *due != Money::ZERO {
                        must.push(kes(*due));
                    }
                    must
                }
                CustomerEvent::Shipped | CustomerEvent::Delivered => Vec::new(),
                CustomerEvent::Cancelled { refund } => refund.iter().map(|r| kes(*r)).collect(),
                CustomerEvent::PaymentReversed { amount, receipt } => {
                    vec![kes(*amount), receipt.to_string()]
                }
            };
            for part in must {
                prop_assert!(text.contains(&part), "{} missing from {}", part, text);
            }
        }
    }
}
