//! Opaque cursors: the key of the last item of a page (or, for a sharded list, its sort
//! key and the list's name), base64url-encoded JSON. A cursor is checked against the list
//! it is used with, so a tampered or foreign cursor is a client error, never a database
//! error.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::Cursor;

use crate::failure::{Failure, ListFailure};
use crate::item::Item;

/// Encodes the `key_attrs` of `item` as a cursor.
pub(crate) fn encode(item: &Item, key_attrs: &[&str]) -> Result<Cursor, Failure> {
    let mut key = BTreeMap::new();
    for attr in key_attrs {
        match item.get(*attr) {
            Some(AttributeValue::S(value)) => {
                key.insert((*attr).to_owned(), value.clone());
            }
            _ => {
                return Err(Failure::malformed("key attribute"));
            }
        }
    }
    let json = serde_json::to_vec(&key).map_err(Failure::failed)?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

/// Decodes a cursor made for a list whose keys are `key_attrs`, whose partition attribute
/// `partition_attr` is `partition`, and whose sort attribute `sort_attr` begins with
/// `sort_prefix`.
pub(crate) fn decode(
    cursor: &Cursor,
    key_attrs: &[&str],
    (partition_attr, partition): (&str, &str),
    (sort_attr, sort_prefix): (&str, &str),
) -> Result<Item, ListFailure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| ListFailure::InvalidCursor)?;
    let key: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| ListFailure::InvalidCursor)?;
    let same_attrs = key.len() == key_attrs.len() && key_attrs.iter().all(|a| key.contains_key(*a));
    let in_list = key.get(partition_attr).map(String::as_str) == Some(partition)
        && key
            .get(sort_attr)
            .is_some_and(|s| s.starts_with(sort_prefix));
    if !same_attrs || !in_list || key.values().any(|v| v.is_empty() || v.len() > 1024) {
        return Err(ListFailure::InvalidCursor);
    }
    Ok(key
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect::<HashMap<_, _>>())
}

/// A position in a sharded list: the list's name and the sort key to continue below.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    list: String,
    below: String,
}

/// The cursor that continues `list` below the sort key `below`.
pub(crate) fn encode_position(list: &str, below: &str) -> Result<Cursor, Failure> {
    let position = Position {
        list: list.to_owned(),
        below: below.to_owned(),
    };
    let json = serde_json::to_vec(&position).map_err(Failure::failed)?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

/// The sort key a cursor of `list` continues below.
pub(crate) fn decode_position(cursor: &Cursor, list: &str) -> Result<String, ListFailure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| ListFailure::InvalidCursor)?;
    let position: Position =
        serde_json::from_slice(&bytes).map_err(|_| ListFailure::InvalidCursor)?;
    if position.list != list || position.below.is_empty() || position.below.len() > 1024 {
        return Err(ListFailure::InvalidCursor);
    }
    Ok(position.below)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTRS: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];

    fn item(partition: &str, sort: &str) -> Item {
        HashMap::from([
            ("PK".to_owned(), AttributeValue::S("P#1".into())),
            ("SK".to_owned(), AttributeValue::S("P#1".into())),
            ("GSI1PK".to_owned(), AttributeValue::S(partition.into())),
            ("GSI1SK".to_owned(), AttributeValue::S(sort.into())),
            ("name".to_owned(), AttributeValue::S("ignored".into())),
        ])
    }

    #[test]
    fn round_trips_only_the_key() {
        let cursor = encode(&item("TREE", "A/B/"), &ATTRS).expect("encodes");
        let key = decode(&cursor, &ATTRS, ("GSI1PK", "TREE"), ("GSI1SK", "A/")).expect("decodes");
        assert_eq!(key.len(), 4);
        assert_eq!(key.get("GSI1SK"), Some(&AttributeValue::S("A/B/".into())));
    }

    #[test]
    fn positions_round_trip_and_belong_to_one_list() {
        let cursor = encode_position("ORDERS", "01J00000000000000000000RD1").expect("encodes");
        assert_eq!(
            decode_position(&cursor, "ORDERS").expect("decodes"),
            "01J00000000000000000000RD1"
        );
        let invalid = |c: &Cursor, list: &str| {
            matches!(decode_position(c, list), Err(ListFailure::InvalidCursor))
        };
        assert!(invalid(&cursor, "ORDER_STATUS#CONFIRMED"), "other list");
        assert!(invalid(&Cursor("!!!".into()), "ORDERS"));
        let empty = encode_position("ORDERS", "").expect("encodes");
        assert!(invalid(&empty, "ORDERS"), "no position");
        let keyed = encode(&item("ORDERS#3", "01J"), &ATTRS).expect("encodes");
        assert!(invalid(&keyed, "ORDERS"), "a one-partition cursor");
    }

    #[test]
    fn refuses_garbage_and_cursors_of_other_lists() {
        let cursor = encode(&item("TREE", "A/B/"), &ATTRS).expect("encodes");
        let invalid = |c: &Cursor, partition: &str, prefix: &str| {
            matches!(
                decode(c, &ATTRS, ("GSI1PK", partition), ("GSI1SK", prefix)),
                Err(ListFailure::InvalidCursor)
            )
        };
        assert!(invalid(&Cursor("!!!".into()), "TREE", ""));
        assert!(invalid(&Cursor(URL_SAFE_NO_PAD.encode("[1]")), "TREE", ""));
        assert!(invalid(&cursor, "OTHER", ""), "other partition");
        assert!(invalid(&cursor, "TREE", "C/"), "outside the subtree");
        assert!(
            matches!(
                decode(&cursor, &ATTRS[..2], ("PK", "P#1"), ("SK", "")),
                Err(ListFailure::InvalidCursor)
            ),
            "other key attributes"
        );
    }
}

/// Properties of cursors: what is encoded decodes back for its own list, and nothing a
/// client can send — cut, altered, foreign or made up — decodes to a key outside the list
/// it is used with (the database would refuse it) or panics.
#[cfg(test)]
mod properties {
    use proptest::option;
    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;

    const ATTRS: [&str; 4] = ["PK", "SK", "GSI1PK", "GSI1SK"];
    const PARTITION: &str = "GSI1PK";
    const SORT: &str = "GSI1SK";

    /// A key attribute's value: key-like text, or any characters (quotes, back-slashes,
    /// control characters, other scripts) that JSON must escape.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Z0-9#/_]{1,30}", "(?s).{1,20}"]
    }

    /// An item of a list, with that list's partition and a prefix of the item's sort key.
    fn listed_item() -> impl Strategy<Value = (Item, String, String)> {
        (value(), value(), value(), value(), any::<Index>()).prop_map(
            |(pk, sk, partition, sort, cut)| {
                let prefix: String = sort
                    .chars()
                    .take(cut.index(sort.chars().count() + 1))
                    .collect();
                let item = HashMap::from([
                    ("PK".to_owned(), AttributeValue::S(pk)),
                    ("SK".to_owned(), AttributeValue::S(sk)),
                    (PARTITION.to_owned(), AttributeValue::S(partition.clone())),
                    (SORT.to_owned(), AttributeValue::S(sort)),
                    (
                        "name".to_owned(),
                        AttributeValue::S("not part of the key".into()),
                    ),
                ]);
                (item, partition, prefix)
            },
        )
    }

    /// A value made up for a key attribute: mostly `likely`, sometimes empty or longer
    /// than a key may be.
    fn key_value(likely: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        prop_oneof![4 => likely, 1 => Just(String::new()), 1 => Just("A/".repeat(513))]
    }

    fn decode_for(cursor: &Cursor, partition: &str, prefix: &str) -> Result<Item, ListFailure> {
        decode(cursor, &ATTRS, (PARTITION, partition), (SORT, prefix))
    }

    fn is_invalid<T>(result: &Result<T, ListFailure>) -> bool {
        matches!(result, Err(ListFailure::InvalidCursor))
    }

    /// Whether `key` is a key of the list: exactly its key attributes, its partition,
    /// a sort key under the prefix, and values DynamoDB takes in a key.
    fn in_list(key: &Item, partition: &str, prefix: &str) -> bool {
        let text = |attr: &str| match key.get(attr) {
            Some(AttributeValue::S(v)) => Some(v.as_str()),
            _ => None,
        };
        key.len() == ATTRS.len()
            && ATTRS
                .iter()
                .all(|a| text(a).is_some_and(|v| !v.is_empty() && v.len() <= 1024))
            && text(PARTITION) == Some(partition)
            && text(SORT).is_some_and(|s| s.starts_with(prefix))
    }

    /// `cursor` with the character at `at` replaced by `by` (when that changes it).
    fn altered(cursor: &Cursor, at: Index, by: char) -> Option<Cursor> {
        let mut chars: Vec<char> = cursor.0.chars().collect();
        let at = at.index(chars.len());
        (chars[at] != by).then(|| {
            chars[at] = by;
            Cursor(chars.into_iter().collect())
        })
    }

    /// A character a client might put in a cursor: mostly base64url, sometimes anything.
    fn cursor_char() -> impl Strategy<Value = char> {
        const BASE64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let base64url: Vec<char> = BASE64URL.chars().collect();
        prop_oneof![4 => prop::sample::select(base64url), 1 => any::<char>()]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A cursor gives back exactly the key attributes of the item it was made from.
        #[test]
        fn keys_round_trip((item, partition, prefix) in listed_item()) {
            let cursor = encode(&item, &ATTRS).expect("encodes");
            let key = decode_for(&cursor, &partition, &prefix).expect("decodes");
            let mut expected = item;
            expected.remove("name");
            prop_assert_eq!(key, expected);
        }

        /// A cut cursor is invalid, however short.
        #[test]
        fn truncated_cursors_are_invalid(
            (item, partition, prefix) in listed_item(),
            cut in any::<Index>(),
        ) {
            let cursor = encode(&item, &ATTRS).expect("encodes");
            let cut = Cursor(cursor.0[..cut.index(cursor.0.len())].to_owned());
            prop_assert!(is_invalid(&decode_for(&cut, &partition, &prefix)), "{:?}", cut);
        }

        /// A cursor with one character changed is invalid, or still a key of the same
        /// list (cursors are not signed: a client may only move within its list).
        #[test]
        fn altered_cursors_stay_in_their_list(
            (item, partition, prefix) in listed_item(),
            at in any::<Index>(),
            by in cursor_char(),
        ) {
            let cursor = encode(&item, &ATTRS).expect("encodes");
            if let Some(altered) = altered(&cursor, at, by) {
                match decode_for(&altered, &partition, &prefix) {
                    Ok(key) => prop_assert!(in_list(&key, &partition, &prefix), "{:?}", key),
                    Err(e) => prop_assert!(matches!(e, ListFailure::InvalidCursor), "{:?}", e),
                }
            }
        }

        /// A cursor of another list — another partition, outside the subtree, other key
        /// attributes, or a sharded list's position — is invalid.
        #[test]
        fn foreign_cursors_are_invalid(
            (item, partition, prefix) in listed_item(),
            other in value(),
        ) {
            let cursor = encode(&item, &ATTRS).expect("encodes");
            if other != partition {
                prop_assert!(is_invalid(&decode_for(&cursor, &other, &prefix)));
            }
            let Some(AttributeValue::S(sort)) = item.get(SORT) else { unreachable!() };
            let elsewhere = format!("{prefix}{other}");
            if !sort.starts_with(&elsewhere) {
                prop_assert!(is_invalid(&decode_for(&cursor, &partition, &elsewhere)));
            }
            let Some(AttributeValue::S(pk)) = item.get("PK") else { unreachable!() };
            prop_assert!(is_invalid(&decode(&cursor, &ATTRS[..2], ("PK", pk), ("SK", ""))));
            prop_assert!(is_invalid(&decode_position(&cursor, &partition)));
            let position = encode_position(&partition, sort).expect("encodes");
            prop_assert!(is_invalid(&decode_for(&position, &partition, "")));
        }

        /// Made-up JSON is accepted exactly when it is a whole key of the list.
        #[test]
        fn made_up_keys_are_accepted_only_when_in_the_list(
            fields in (
                option::weighted(0.9, key_value(value())),
                option::weighted(0.9, key_value(value())),
                option::weighted(0.9, key_value(prop_oneof![Just("TREE".to_owned()), value()])),
                option::weighted(0.9, key_value(prop_oneof![
                    Just("A/B/".to_owned()),
                    Just("A/".to_owned()),
                    value(),
                ])),
                option::weighted(0.2, value()),
            ),
        ) {
            let (pk, sk, partition, sort, name) = fields;
            let fields: BTreeMap<&str, String> = [
                ("PK", pk),
                ("SK", sk),
                (PARTITION, partition),
                (SORT, sort),
                ("name", name),
            ]
                .into_iter()
                .filter_map(|(attr, value)| Some((attr, value?)))
                .collect();
            let json = serde_json::to_vec(&fields).expect("JSON");
            let cursor = Cursor(URL_SAFE_NO_PAD.encode(json));
            let as_item: Item = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), AttributeValue::S(v.clone())))
                .collect();
            let decoded = decode_for(&cursor, "TREE", "A/");
            prop_assert_eq!(decoded.is_ok(), in_list(&as_item, "TREE", "A/"), "{:?}", fields);
            if let Ok(key) = decoded {
                prop_assert_eq!(key, as_item);
            }
        }

        /// Any text as a cursor: never a panic, and nothing outside the list.
        #[test]
        fn arbitrary_text_is_never_a_foreign_key(
            text in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,80}"],
        ) {
            let cursor = Cursor(text);
            if let Ok(key) = decode_for(&cursor, "TREE", "A/") {
                prop_assert!(in_list(&key, "TREE", "A/"), "{:?}", key);
            }
            if let Ok(below) = decode_position(&cursor, "ORDERS") {
                prop_assert!(!below.is_empty() && below.len() <= 1024);
            }
        }

        /// A position gives back where its list continues, for that list only; cut, it
        /// is invalid, and altered, it stays in its list.
        #[test]
        fn positions_round_trip_within_their_list(
            list in value(),
            other in value(),
            below in value(),
            cut in any::<Index>(),
            at in any::<Index>(),
            by in cursor_char(),
        ) {
            let cursor = encode_position(&list, &below).expect("encodes");
            prop_assert_eq!(decode_position(&cursor, &list).ok(), Some(below.clone()));
            if other != list {
                prop_assert!(is_invalid(&decode_position(&cursor, &other)));
            }
            let cut = Cursor(cursor.0[..cut.index(cursor.0.len())].to_owned());
            prop_assert!(is_invalid(&decode_position(&cut, &list)));
            if let Some(altered) = altered(&cursor, at, by) {
                match decode_position(&altered, &list) {
                    Ok(below) => prop_assert!(!below.is_empty() && below.len() <= 1024),
                    Err(e) => prop_assert!(matches!(e, ListFailure::InvalidCursor), "{:?}", e),
                }
            }
        }
    }
}
