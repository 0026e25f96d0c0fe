//! Opaque cursors: the key of the last item of a page (or, for a sharded list, its sort
//! key and the list's name), base64url-encoded JSON. A cursor is checked against the list
//! it is used with, so a tampered or foreign cursor is a client error, never a database
//! error.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{CatalogError, Cursor};

use crate::item::Item;

/// Encodes the `key_attrs` of `item` as a cursor.
pub(crate) fn encode(item: &Item, key_attrs: &[&str]) -> Result<Cursor, CatalogError> {
    let mut key = BTreeMap::new();
    for attr in key_attrs {
        match item.get(*attr) {
            Some(AttributeValue::S(value)) => {
                key.insert((*attr).to_owned(), value.clone());
            }
            _ => {
                return Err(CatalogError::storage(crate::item::MalformedItem(
                    "key attribute",
                )));
            }
        }
    }
    let json = serde_json::to_vec(&key).map_err(CatalogError::storage)?;
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
) -> Result<Item, CatalogError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| CatalogError::InvalidCursor)?;
    let key: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| CatalogError::InvalidCursor)?;
    let same_attrs = key.len() == key_attrs.len() && key_attrs.iter().all(|a| key.contains_key(*a));
    let in_list = key.get(partition_attr).map(String::as_str) == Some(partition)
        && key
            .get(sort_attr)
            .is_some_and(|s| s.starts_with(sort_prefix));
    if !same_attrs || !in_list || key.values().any(|v| v.is_empty() || v.len() > 1024) {
        return Err(CatalogError::InvalidCursor);
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
pub(crate) fn encode_position(list: &str, below: &str) -> Result<Cursor, CatalogError> {
    let position = Position {
        list: list.to_owned(),
        below: below.to_owned(),
    };
    let json = serde_json::to_vec(&position).map_err(CatalogError::storage)?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
}

/// The sort key a cursor of `list` continues below.
pub(crate) fn decode_position(cursor: &Cursor, list: &str) -> Result<String, CatalogError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| CatalogError::InvalidCursor)?;
    let position: Position =
        serde_json::from_slice(&bytes).map_err(|_| CatalogError::InvalidCursor)?;
    if position.list != list || position.below.is_empty() || position.below.len() > 1024 {
        return Err(CatalogError::InvalidCursor);
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
            matches!(decode_position(c, list), Err(CatalogError::InvalidCursor))
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
                Err(CatalogError::InvalidCursor)
            )
        };
        assert!(invalid(&Cursor("!!!".into()), "TREE", ""));
        assert!(invalid(&Cursor(URL_SAFE_NO_PAD.encode("[1]")), "TREE", ""));
        assert!(invalid(&cursor, "OTHER", ""), "other partition");
        assert!(invalid(&cursor, "TREE", "C/"), "outside the subtree");
        assert!(
            matches!(
                decode(&cursor, &ATTRS[..2], ("PK", "P#1"), ("SK", "")),
                Err(CatalogError::InvalidCursor)
            ),
            "other key attributes"
        );
    }
}
