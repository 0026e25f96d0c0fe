//! Daraja's result and response codes, which come as JSON numbers (`0`, `1032`) or
//! strings (`"0"`, `"R000001"`, `"C2B00012"`) depending on the answer.
//!
//! Invariant: a [`ResultCode`] holds its canonical text (an integer's decimal digits, a
//! string as given, never empty), and codes compare by that text: `0 == "0"`.

use std::fmt;

use serde::{Deserialize, Deserializer, de};

/// A result or response code, from a number or a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResultCode(String);

impl ResultCode {
    /// Success.
    pub const SUCCESS: &str = "0";
    /// A reversal's: the transaction was already reversed.
    pub const ALREADY_REVERSED: &str = "R000001";

    /// The code written as `text`; `None` when empty.
    pub fn from_text(text: &str) -> Option<Self> {
        (!text.is_empty()).then(|| Self(text.to_owned()))
    }

    /// The code of a JSON integer.
    pub fn from_number(number: i64) -> Self {
        Self(number.to_string())
    }

    /// The code of a JSON value when it is an integer or a non-empty string.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::String(text) => Self::from_text(text),
            serde_json::Value::Number(number) => number.as_i64().map(Self::from_number),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `0` / `"0"`.
    pub fn is_success(&self) -> bool {
        self.0 == Self::SUCCESS
    }

    /// `"R000001"`: a reversal found the transaction already reversed.
    pub fn is_already_reversed(&self) -> bool {
        self.0 == Self::ALREADY_REVERSED
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ResultCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Self::from_json(&value)
            .ok_or_else(|| de::Error::custom("a result code is an integer or a non-empty string"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_and_strings_compare_by_their_text() {
        let parse = |value: serde_json::Value| serde_json::from_value::<ResultCode>(value);
        assert_eq!(
            parse(json!(0)).expect("0"),
            parse(json!("0")).expect("\"0\"")
        );
        assert_eq!(
            parse(json!(1032)).expect("1032"),
            parse(json!("1032")).expect("\"1032\"")
        );
        assert!(parse(json!(0)).expect("0").is_success());
        assert!(parse(json!("0")).expect("0").is_success());
        assert!(!parse(json!("00")).expect("00").is_success());
        assert!(!parse(json!(1)).expect("1").is_success());
        let reversed = parse(json!("R000001")).expect("R000001");
        assert!(reversed.is_already_reversed() && !reversed.is_success());
        assert_eq!(reversed.to_string(), "R000001");
        for bad in [
            json!(""),
            json!(0.5),
            json!(null),
            json!(true),
            json!([0]),
            json!({}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
