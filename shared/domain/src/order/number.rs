//! Human-readable order numbers: `ORD-<yyyymmdd>-<6 characters>`.

use std::fmt;

use crate::timestamp::Timestamp;

/// An order number such as `ORD-20261125-7KQ2MZ`: the UTC date the order was placed and
/// six random Crockford base-32 characters. Unique: storage claims each number once, and
/// a clash is retried with a new number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderNumber(String);

/// Why a string is not an order number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an order number")]
pub struct InvalidOrderNumber;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl OrderNumber {
    /// A fresh number for an order placed at `at`.
    pub fn generate(at: Timestamp) -> Self {
        // The random half of a new ULID: 80 bits from the OS generator.
        let random = ulid::Ulid::new().random();
        Self::from_parts(at, random)
    }

    fn from_parts(at: Timestamp, random: u128) -> Self {
        let date = at.as_datetime().date();
        let mut number = format!(
            "ORD-{:04}{:02}{:02}-",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        for i in 0..6 {
            let index = ((random >> (5 * i)) & 0x1f) as usize;
            number.push(char::from(CROCKFORD[index]));
        }
        Self(number)
    }

    /// Reads a stored number back.
    pub fn parse(s: &str) -> Result<Self, InvalidOrderNumber> {
        let valid = s.len() == 19
            && s.starts_with("ORD-")
            && s.as_bytes()[12] == b'-'
            && s[4..12].bytes().all(|b| b.is_ascii_digit())
            && s[13..].bytes().all(|b| CROCKFORD.contains(&b));
        valid.then(|| Self(s.to_owned())).ok_or(InvalidOrderNumber)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_the_date_and_six_base32_characters() {
        let at = Timestamp::parse("2026-11-05T23:59:59.999Z").expect("timestamp");
        let number = OrderNumber::from_parts(at, 0b00001_11111_00000_01010_10000_00011);
        assert_eq!(number.as_str(), "ORD-20261105-3GA0Z1");
        let fresh = OrderNumber::generate(at);
        assert!(fresh.as_str().starts_with("ORD-20261105-"), "{fresh}");
        assert_eq!(OrderNumber::parse(fresh.as_str()), Ok(fresh));
    }

    #[test]
    fn parse_refuses_other_shapes() {
        for bad in [
            "",
            "ORD-2026110-3GA0Z1",
            "ORD-20261105-3GA0ZU",
            "ORX-20261105-3GA0Z1",
        ] {
            assert_eq!(OrderNumber::parse(bad), Err(InvalidOrderNumber), "{bad:?}");
        }
    }
}

/// Properties of order numbers: every number made reads back, and only that shape reads.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use time::OffsetDateTime;

    use super::*;

    /// An instant in the years a number's date has four digits for (0000 to 9999).
    fn timestamp() -> impl Strategy<Value = Timestamp> {
        (-62_167_219_200_i64..=253_402_300_799).prop_map(|seconds| {
            Timestamp::from_datetime(
                OffsetDateTime::from_unix_timestamp(seconds).expect("in range"),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A number carries the UTC date it was made on and six Crockford characters, and
        /// reads back as itself.
        #[test]
        fn numbers_read_back(at in timestamp(), random in any::<u128>()) {
            let number = OrderNumber::from_parts(at, random);
            let date = at.as_datetime().date();
            let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
            let expected_date = format!("ORD-{year:04}{month:02}{day:02}-");
            prop_assert!(number.as_str().starts_with(&expected_date), "{}", number);
            let random_part = &number.as_str()[13..];
            prop_assert!(random_part.bytes().all(|b| CROCKFORD.contains(&b)), "{}", number);
            prop_assert_eq!(OrderNumber::parse(number.as_str()), Ok(number.clone()));
        }

        /// Any text: never a panic, and what reads is `ORD-`, eight digits, `-` and six
        /// Crockford characters.
        #[test]
        fn only_the_number_shape_reads(
            text in prop_oneof![
                any::<String>(),
                "ORD-[0-9]{8}-[0-9A-Z]{6}",
                "ORD-.{8}-.{6}",
                "ORD-[0-9]{6,9}-[0-9A-Z]{5,7}",
            ],
        ) {
            if let Ok(number) = OrderNumber::parse(&text) {
                let bytes = text.as_bytes();
                prop_assert_eq!(number.as_str(), text.as_str());
                prop_assert!(text.len() == 19 && text.starts_with("ORD-") && bytes[12] == b'-');
                prop_assert!(bytes[4..12].iter().all(u8::is_ascii_digit), "{:?}", text);
                prop_assert!(bytes[13..].iter().all(|b| CROCKFORD.contains(b)), "{:?}", text);
            }
        }
    }
}
