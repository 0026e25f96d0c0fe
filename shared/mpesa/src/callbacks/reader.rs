//! Reading a callback body field by field, knowing where each field is, so a failure
//! names the field's path (`Body.stkCallback.CallbackMetadata.Item[0].Value`) and what
//! was expected there, and never the value found (it may be personal data).
//!
//! Invariants:
//! - A field that is absent and one that is `null` are the same: missing.
//! - Fields nobody asks for are ignored (Daraja adds fields over time).
//! - Amounts are read from the number's or string's text, never by float arithmetic.

use std::fmt;

use domain::Money;
use serde_json::{Map, Value};

use crate::nairobi::parse_nairobi_timestamp;
use crate::result_code::ResultCode;
use domain::payment::Receipt;

/// A callback body that is not of the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed callback at {}: {problem}", if path.is_empty() { "the body" } else { path.as_str() })]
pub struct MalformedCallback {
    /// Where: field names from the body's root, `[i]` for array items; empty for the
    /// body itself.
    pub path: String,
    pub problem: Problem,
}

/// What was wrong at a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("not JSON")]
    NotJson,
    #[error("missing")]
    Missing,
    #[error("expected {0}")]
    WrongType(&'static str),
    #[error("expected {0}")]
    Invalid(&'static str),
    #[error("given more than once")]
    Repeated,
}

/// A JSON value and where it is in the body.
#[derive(Clone)]
pub(crate) struct Node<'a> {
    value: &'a Value,
    path: String,
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Reads `body` as JSON.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, MalformedCallback> {
    serde_json::from_slice(body).map_err(|_| MalformedCallback {
        path: String::new(),
        problem: Problem::NotJson,
    })
}

impl<'a> Node<'a> {
    pub(crate) fn root(value: &'a Value) -> Self {
        Self {
            value,
            path: String::new(),
        }
    }

    /// Where this value is.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn fail(&self, problem: Problem) -> MalformedCallback {
        MalformedCallback {
            path: self.path.clone(),
            problem,
        }
    }

    fn child(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn object(&self) -> Result<&'a Map<String, Value>, MalformedCallback> {
        self.value
            .as_object()
            .ok_or_else(|| self.fail(Problem::WrongType("an object")))
    }

    /// The field `name` of this object, if present and not `null`.
    pub(crate) fn optional(&self, name: &str) -> Result<Option<Node<'a>>, MalformedCallback> {
        Ok(self
            .object()?
            .get(name)
            .filter(|value| !value.is_null())
            .map(|value| Node {
                value,
                path: self.child(name),
            }))
    }

    /// The field `name` of this object.
    pub(crate) fn field(&self, name: &str) -> Result<Node<'a>, MalformedCallback> {
        self.optional(name)?.ok_or_else(|| MalformedCallback {
            path: self.child(name),
            problem: Problem::Missing,
        })
    }

    /// This array's items.
    pub(crate) fn items(&self) -> Result<Vec<Node<'a>>, MalformedCallback> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.fail(Problem::WrongType("an array")))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Node {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// This array's items, or this object alone (Daraja writes a one-item list of
    /// result parameters as the item itself).
    pub(crate) fn items_or_one(&self) -> Result<Vec<Node<'a>>, MalformedCallback> {
        if self.value.is_object() {
            Ok(vec![self.clone()])
        } else {
            self.items()
        }
    }

    pub(crate) fn str(&self) -> Result<&'a str, MalformedCallback> {
        self.value
            .as_str()
            .ok_or_else(|| self.fail(Problem::WrongType("a string")))
    }

    /// A string, or the digits of an integer (for identifiers Daraja writes either way).
    pub(crate) fn text(&self) -> Result<String, MalformedCallback> {
        match self.value {
            Value::String(text) => Ok(text.clone()),
            Value::Number(number) if number.is_u64() || number.is_i64() => Ok(number.to_string()),
            _ => Err(self.fail(Problem::WrongType("a string or an integer"))),
        }
    }

    /// A non-empty [`Self::text`].
    pub(crate) fn id(&self) -> Result<String, MalformedCallback> {
        let text = self.text()?;
        if text.is_empty() {
            return Err(self.fail(Problem::Invalid("a non-empty identifier")));
        }
        Ok(text)
    }

    /// A JSON number's text (`1`, `1.00`, `1.5`), exactly as `serde_json` writes it back.
    fn number_text(&self) -> Result<String, MalformedCallback> {
        match self.value {
            Value::Number(number) => Ok(number.to_string()),
            _ => Err(self.fail(Problem::WrongType("a number"))),
        }
    }

    /// An amount paid: above 0, at most 2 decimal places, from a JSON number.
    ///
    /// The number's text is read as a decimal. `serde_json` keeps an integer exactly and
    /// writes a fraction back as the shortest text that reads as the same double, which
    /// for M-Pesa's amounts (under 16 significant digits) is the text that was sent;
    /// anything else shows as extra places and is refused, never rounded.
    pub(crate) fn amount_number(&self) -> Result<Money, MalformedCallback> {
        let text = self.number_text()?;
        self.amount_from(&text)
    }

    /// An amount paid from a decimal string (`"10.00"`) or, defensively, a number.
    pub(crate) fn amount_text_or_number(&self) -> Result<Money, MalformedCallback> {
        let text = match self.value {
            Value::String(text) => text.clone(),
            Value::Number(_) => self.number_text()?,
            _ => return Err(self.fail(Problem::WrongType("a decimal string or a number"))),
        };
        self.amount_from(&text)
    }

    fn amount_from(&self, text: &str) -> Result<Money, MalformedCallback> {
        Money::parse_price(text).map_err(|_| {
            self.fail(Problem::Invalid(
                "an amount above 0 with at most 2 decimal places",
            ))
        })
    }

    /// An integer result code.
    pub(crate) fn result_code_number(&self) -> Result<ResultCode, MalformedCallback> {
        match self.value {
            Value::Number(number) => number
                .as_i64()
                .map(ResultCode::from_number)
                .ok_or_else(|| self.fail(Problem::Invalid("an integer"))),
            _ => Err(self.fail(Problem::WrongType("a number"))),
        }
    }

    /// A result code written as an integer or a non-empty string.
    pub(crate) fn result_code(&self) -> Result<ResultCode, MalformedCallback> {
        ResultCode::from_json(self.value)
            .ok_or_else(|| self.fail(Problem::WrongType("an integer or a non-empty string")))
    }

    pub(crate) fn receipt(&self) -> Result<Receipt, MalformedCallback> {
        Receipt::parse(self.str()?)
            .map_err(|_| self.fail(Problem::Invalid("an M-Pesa receipt number")))
    }

    /// A Daraja timestamp (`YYYYMMDDHHmmss`, Nairobi time) from the number or string's
    /// digits, as a UTC instant.
    pub(crate) fn nairobi_time(
        &self,
        allowed: Digits,
    ) -> Result<time::OffsetDateTime, MalformedCallback> {
        let digits = match (self.value, allowed) {
            (Value::Number(number), Digits::Number | Digits::NumberOrString) if number.is_u64() => {
                number.to_string()
            }
            (Value::String(text), Digits::NumberOrString) => text.clone(),
            (_, Digits::Number) => return Err(self.fail(Problem::WrongType("an integer"))),
            _ => return Err(self.fail(Problem::WrongType("a string or an integer"))),
        };
        parse_nairobi_timestamp(&digits)
            .ok_or_else(|| self.fail(Problem::Invalid("a YYYYMMDDHHmmss timestamp")))
    }
}

/// How a timestamp's digits may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Digits {
    Number,
    NumberOrString,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn failures_name_the_path_not_the_value() {
        let body = json!({"a": {"b": [{"c": "254712345678"}]}});
        let root = Node::root(&body);
        let item = root
            .field("a")
            .and_then(|a| a.field("b"))
            .and_then(|b| b.items())
            .expect("items");
        let error = item[0]
            .field("c")
            .and_then(|c| c.amount_number())
            .expect_err("a string");
        assert_eq!(error.path, "a.b[0].c");
        assert_eq!(error.problem, Problem::WrongType("a number"));
        assert_eq!(
            error.to_string(),
            "malformed callback at a.b[0].c: expected a number"
        );
        assert!(!format!("{error:?}").contains("712345678"));
        let missing = root.field("x").expect_err("missing");
        assert_eq!(missing.to_string(), "malformed callback at x: missing");
        let not_json = parse_body(b"{").expect_err("not json");
        assert_eq!(
            not_json.to_string(),
            "malformed callback at the body: not JSON"
        );
        assert_eq!(
            Node::root(&json!({"x": null})).field("x").map(|_| ()),
            Err(MalformedCallback {
                path: "x".into(),
                problem: Problem::Missing
            })
        );
    }
}
