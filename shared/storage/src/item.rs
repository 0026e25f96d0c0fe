//! Attribute values for expressions (`s`, `n`, `path_list`), keys as items (`key`), and
//! typed reads of the few attributes read without a whole record (a query's projection, a
//! cursor). Entity shapes are serde records in `records`.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Timestamp;
use domain::category::CategoryPath;

use crate::failure::Failure;
use crate::keys::{self, PrimaryKey};

pub(crate) type Item = HashMap<String, AttributeValue>;

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
    pub fn str(&self, name: &'static str) -> Result<&str, Failure> {
        self.opt_str(name)?.ok_or_else(|| Failure::malformed(name))
    }

    pub fn opt_str(&self, name: &'static str) -> Result<Option<&str>, Failure> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(Failure::malformed(name)),
        }
    }

    pub fn parse<T: FromStr>(&self, name: &'static str) -> Result<T, Failure> {
        self.str(name)?
            .parse()
            .map_err(|_| Failure::malformed(name))
    }

    pub fn number<T: FromStr>(&self, name: &'static str) -> Result<T, Failure> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| Failure::malformed(name)),
            _ => Err(Failure::malformed(name)),
        }
    }

    pub fn timestamp(&self, name: &'static str) -> Result<Timestamp, Failure> {
        Timestamp::parse(self.str(name)?).map_err(|_| Failure::malformed(name))
    }
}
