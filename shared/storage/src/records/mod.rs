//! Stored item shapes: each entity's item as a serde struct, encoded and decoded with
//! `serde_dynamo` (`to_item` / `from_item`).
//!
//! Invariants: a record holds plain attribute values (strings, numbers, booleans) and
//! converts to and from the domain type in one place, validating on the way in, so a
//! malformed stored item is an error naming the record ([`Failure::record`]), never a
//! panic or a made-up value; keys come from [`crate::keys`]; attribute names are the serde
//! field names, and the update expressions of the adapters use the same names (tests
//! check both).

pub(crate) mod attr;
pub(crate) mod audit;
pub(crate) mod catalog;
pub(crate) mod channel;
pub(crate) mod customer;
pub(crate) mod message;
pub(crate) mod order;
pub(crate) mod payment;
pub(crate) mod stock;

use serde::{Deserialize, Serialize};

use domain::Money;

use crate::failure::Failure;
use crate::item::Item;
use crate::keys::PrimaryKey;

/// `amount` in cents, as `record` stores it (an error naming `record` if it does not fit).
pub(crate) fn cents(record: &'static str, amount: Money) -> Result<i64, Failure> {
    i64::try_from(amount.minor_units()).map_err(|_| Failure::record(record, "amount out of range"))
}

/// `record` as an item.
pub(crate) fn encode<T: serde::Serialize>(name: &'static str, record: &T) -> Result<Item, Failure> {
    serde_dynamo::to_item(record).map_err(|e| Failure::record(name, e))
}

/// `item` as a `T`.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    name: &'static str,
    item: Item,
) -> Result<T, Failure> {
    serde_dynamo::from_item(item).map_err(|e| Failure::record(name, e))
}

/// The attributes every item starts with: its key and its `entity_type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ItemHead {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: String,
}

impl ItemHead {
    /// The head of the item at `key`, of `entity_type`.
    pub fn new(key: PrimaryKey, entity_type: &str) -> Self {
        Self {
            pk: key.pk,
            sk: key.sk,
            entity_type: entity_type.to_owned(),
        }
    }
}

/// The key attributes of the global secondary indexes, one struct an index, flattened
/// into the records of the items that index lists (values from [`crate::keys`]).
macro_rules! index_keys {
    ($($index:ident: $pk:literal, $sk:literal;)+) => {$(
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub(crate) struct $index {
            #[serde(rename = $pk)]
            pub pk: String,
            #[serde(rename = $sk)]
            pub sk: String,
        }

        impl $index {
            pub fn new(pk: impl Into<String>, sk: String) -> Self {
                Self { pk: pk.into(), sk }
            }
        }
    )+};
}

index_keys! {
    Gsi1: "GSI1PK", "GSI1SK";
    Gsi2: "GSI2PK", "GSI2SK";
    Gsi3: "GSI3PK", "GSI3SK";
    Gsi4: "GSI4PK", "GSI4SK";
    Gsi5: "GSI5PK", "GSI5SK";
    Gsi6: "GSI6PK", "GSI6SK";
}

/// The item that makes something unique (a category name among siblings, a SKU, an order
/// number): it holds its owner's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ClaimRecord {
    #[serde(flatten)]
    head: ItemHead,
    id: String,
}

/// The claim item at `key`, of `entity_type`, owned by `owner`.
pub(crate) fn claim(key: PrimaryKey, entity_type: &str, owner: String) -> Result<Item, Failure> {
    encode(
        "uniqueness claim",
        &ClaimRecord {
            head: ItemHead::new(key, entity_type),
            id: owner,
        },
    )
}
