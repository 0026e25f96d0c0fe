//! Opaque identifiers. All are ULIDs: 26 Crockford base-32 characters, sortable by
//! creation time, with no `/` or `#` (which the storage keys use as separators).

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
                // Canonical form only: 26 upper-case characters, so one id has one key.
                if s.len() != 26 || s.bytes().any(|b| b.is_ascii_lowercase()) {
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
        ] {
            assert_eq!(bad.parse::<ProductId>(), Err(InvalidId), "{bad:?}");
        }
    }
}
