//! Attribute values for expressions (`s`, `n`, `path_list`), keys as items (`key`), and
//! typed reads of the few attributes read without a whole record (a query's projection, a
//! cursor). Entity shapes are serde records in `records`.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Timestamp;
use domain::category::CategoryPath;

use crate::keys::{self, PrimaryKey};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// An item that does not have the shape this code writes.
#[derive(Debug, thiserror::Error)]
#[error("stored item has a missing or malformed attribute {0:?}")]
pub(crate) struct MalformedItem(pub &'static str);

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn path_list(path: &CategoryPath) -> AttributeValue {
    AttributeValue::L(path.ids().iter().map(|id| s(id.to_string())).collect())
}

/// The `PK`/`SK` attributes of `key`, ready for `GetItem`/`Delete`/`Update`.
pub(crate) fn key(key: &PrimaryKey) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), s(&key.pk)),
        (keys::SK.to_owned(), s(&key.sk)),
    ])
}

/// Typed reads of one item's attributes.
pub(crate) struct Fields<'a>(pub &'a Item);

impl Fields<'_> {
    pub fn str(&self, name: &'static str) -> Result<&str, MalformedItem> {
        self.opt_str(name)?.ok_or(MalformedItem(name))
    }

    pub fn opt_str(&self, name: &'static str) -> Result<Option<&str>, MalformedItem> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(MalformedItem(name)),
        }
    }

    pub fn parse<T: FromStr>(&self, name: &'static str) -> Result<T, MalformedItem> {
        self.str(name)?.parse().map_err(|_| MalformedItem(name))
    }

    pub fn number<T: FromStr>(&self, name: &'static str) -> Result<T, MalformedItem> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| MalformedItem(name)),
            _ => Err(MalformedItem(name)),
        }
    }

    pub fn timestamp(&self, name: &'static str) -> Result<Timestamp, MalformedItem> {
        Timestamp::parse(self.str(name)?).map_err(|_| MalformedItem(name))
    }
}
