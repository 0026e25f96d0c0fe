//! Opaque identifiers. All are ULIDs: 26 Crockford base-32 characters, sortable by
//! creation time, with no `/` or `#` (which the storage keys use as separators).
//!
//! Invariant: one id, one text. Only the canonical form parses (upper case, first
//! character 0-7), so an id's key and URL are never spelt two ways.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

/// Why a string is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Ulid);

        impl $name {
            /// A new, unique identifier.
            pub fn generate() -> Self {
                Self(Ulid::new())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                // Canonical form only, so one id has one key: 26 upper-case characters,
                // the first one 0-7. (26 characters carry 130 bits and a ULID has 128: the
                // parser drops the top bits of a larger first character, `8…` reads as `0…`.)
                let canonical = s.len() == 26
                    && !s.bytes().any(|b| b.is_ascii_lowercase())
                    && s.as_bytes()[0] <= b'7';
                if !canonical {
                    return Err(InvalidId);
                }
                Ulid::from_string(s).map(Self).map_err(|_| InvalidId)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

pub(crate) use ulid_id;

ulid_id!(
    /// Identifies a category.
    CategoryId
);
ulid_id!(
    /// Identifies a product.
    ProductId
);
ulid_id!(
    /// Identifies an order.
    OrderId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_id_is_7zzz() {
        let largest = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ";
        assert_eq!(
            largest.parse::<OrderId>().map(|id| id.to_string()),
            Ok(largest.to_owned())
        );
    }

    #[test]
    fn round_trips_through_its_string_form() {
        let id = CategoryId::generate();
        assert_eq!(id.to_string().parse::<CategoryId>(), Ok(id));
        assert_eq!(id.to_string().len(), 26);
    }

    #[test]
    fn refuses_non_canonical_or_malformed_strings() {
        let id = ProductId::generate().to_string();
        for bad in [
            "",
            "abc",
            &id.to_lowercase(),
            &format!("{id}X"),
            "01ARZ3NDEKTSV4RRFFQ69G5FA/",
            // Found by `properties::only_canonical_text_is_accepted`: read as 000…0.
            "80000000000000000000000000",
            "ZZZZZZZZZZZZZZZZZZZZZZZZZZ",
        ] {
            assert_eq!(bad.parse::<ProductId>(), Err(InvalidId), "{bad:?}");
        }
    }
}

/// Properties of ids' text form: one text per id, and one id per accepted text.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::audit::AuditEntryId;
    use crate::customer::CustomerId;

    /// Crockford base-32 as ULIDs write it.
    const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// Text that looks like an id: 26 Crockford characters, or near misses (letters
    /// Crockford leaves out, lower case, key separators, a character too few or many).
    fn id_like_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9A-HJKMNP-TV-Z]{26}",
            "[0-7][0-9A-HJKMNP-TV-Z]{25}",
            "[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}",
            "[0-9A-Za-z/#]{25,27}",
        ]
    }

    /// The id `text` stands for as a `T`, written back.
    fn written_back<T: FromStr + fmt::Display>(text: &str) -> Option<String> {
        text.parse::<T>().ok().map(|id| id.to_string())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every id is written as 26 Crockford characters that parse back to it (as text
        /// and as JSON), and ids sort like their texts.
        #[test]
        fn ids_round_trip_through_their_text(a in any::<u128>(), b in any::<u128>()) {
            let (a, b) = (OrderId(Ulid(a)), OrderId(Ulid(b)));
            let text = a.to_string();
            prop_assert_eq!(text.len(), 26);
            prop_assert!(text.chars().all(|c| CROCKFORD.contains(c)), "{}", text);
            prop_assert_eq!(text.parse::<OrderId>(), Ok(a));
            prop_assert_eq!(a.cmp(&b), text.cmp(&b.to_string()));
            let json = serde_json::to_string(&a).expect("serialises");
            prop_assert_eq!(serde_json::from_str::<OrderId>(&json).expect("deserialises"), a);
            // Every kind of id shares the rule.
            prop_assert_eq!(written_back::<AuditEntryId>(&text), Some(text.clone()));
            prop_assert_eq!(written_back::<CustomerId>(&text), Some(text.clone()));
            prop_assert_eq!(written_back::<CategoryId>(&text), Some(text.clone()));
            prop_assert_eq!(written_back::<ProductId>(&text), Some(text));
        }

        /// Only an id's own text is accepted: whatever parses is written back exactly as
        /// it was given, so one id never has two keys.
        #[test]
        fn only_canonical_text_is_accepted(text in id_like_text()) {
            for written in [
                written_back::<OrderId>(&text),
                written_back::<ProductId>(&text),
                written_back::<CategoryId>(&text),
                written_back::<CustomerId>(&text),
                written_back::<AuditEntryId>(&text),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert_eq!(&written, &text);
            }
        }
    }
}
