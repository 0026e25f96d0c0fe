//! Builds DynamoDB update, condition and filter expressions with placeholders for every
//! attribute name and value, so reserved words (`name`, `path`, `level`) never clash.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// An update expression plus the condition it runs under (or a filter).
#[derive(Debug, Default)]
pub(crate) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    sets: Vec<String>,
    adds: Vec<String>,
    removes: Vec<String>,
    conditions: Vec<String>,
}

impl Expr {
    pub fn new() -> Self {
        Self::default()
    }

    /// The placeholder of `attr`; a dotted `attr` (`notification_sms.version`) is a path
    /// into maps, one placeholder per segment.
    fn name(&mut self, attr: &str) -> String {
        let mut path = Vec::new();
        for segment in attr.split('.') {
            let placeholder = format!("#{segment}");
            self.names.insert(placeholder.clone(), segment.to_owned());
            path.push(placeholder);
        }
        path.join(".")
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// `SET attr = value`.
    pub fn set(mut self, attr: &str, value: AttributeValue) -> Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.sets.push(format!("{n} = {v}"));
        self
    }

    /// `ADD attr value` (atomic increment of a number).
    pub fn add(mut self, attr: &str, value: AttributeValue) -> Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.adds.push(format!("{n} {v}"));
        self
    }

    /// `REMOVE attr`.
    pub fn remove(mut self, attr: &str) -> Self {
        let n = self.name(attr);
        self.removes.push(n);
        self
    }

    /// `SET attr = value`, or `REMOVE attr` for `None`.
    pub fn set_or_remove(self, attr: &str, value: Option<AttributeValue>) -> Self {
        match value {
            Some(value) => self.set(attr, value),
            None => self.remove(attr),
        }
    }

    fn compare(mut self, attr: &str, op: &str, value: AttributeValue) -> Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.conditions.push(format!("{n} {op} {v}"));
        self
    }

    /// Condition `attr = value`.
    pub fn when_eq(self, attr: &str, value: AttributeValue) -> Self {
        self.compare(attr, "=", value)
    }

    /// Condition `attr >= value`.
    pub fn when_at_least(self, attr: &str, value: AttributeValue) -> Self {
        self.compare(attr, ">=", value)
    }

    /// Condition `attr <= value`.
    pub fn when_at_most(self, attr: &str, value: AttributeValue) -> Self {
        self.compare(attr, "<=", value)
    }

    /// Condition `attr > value`.
    pub fn when_greater(self, attr: &str, value: AttributeValue) -> Self {
        self.compare(attr, ">", value)
    }

    /// Condition `contains(attr, value)`.
    pub fn when_contains(mut self, attr: &str, value: AttributeValue) -> Self {
        let (n, v) = (self.name(attr), self.value(value));
        self.conditions.push(format!("contains({n}, {v})"));
        self
    }

    /// Condition: the item exists.
    pub fn when_exists(mut self, attr: &str) -> Self {
        let n = self.name(attr);
        self.conditions.push(format!("attribute_exists({n})"));
        self
    }

    /// Condition: the attribute is absent (for `PK`: the item does not exist).
    pub fn when_absent(mut self, attr: &str) -> Self {
        let n = self.name(attr);
        self.conditions.push(format!("attribute_not_exists({n})"));
        self
    }

    /// Condition: `key_attr` is absent (no such item) or `ttl_attr` (epoch seconds) is
    /// at most `now`: the item does not exist or has expired but not yet been deleted.
    pub fn when_absent_or_expired(mut self, key_attr: &str, ttl_attr: &str, now: i64) -> Self {
        let (k, t) = (self.name(key_attr), self.name(ttl_attr));
        let v = self.value(AttributeValue::N(now.to_string()));
        self.conditions
            .push(format!("(attribute_not_exists({k}) OR {t} <= {v})"));
        self
    }

    /// Condition `attr <> value` (`attr` must exist: a missing one compares unequal to
    /// nothing).
    pub fn when_ne(self, attr: &str, value: AttributeValue) -> Self {
        self.compare(attr, "<>", value)
    }

    /// Condition: `map` is absent, or `path` (inside it) is not `value`.
    pub fn when_absent_or_ne(mut self, map: &str, path: &str, value: AttributeValue) -> Self {
        let (m, p) = (self.name(map), self.name(path));
        let v = self.value(value);
        self.conditions
            .push(format!("(attribute_not_exists({m}) OR {p} <> {v})"));
        self
    }

    /// Condition: `attr` is absent or is `value`.
    pub fn when_absent_or_eq(mut self, attr: &str, value: AttributeValue) -> Self {
        let a = self.name(attr);
        let v = self.value(value);
        self.conditions
            .push(format!("(attribute_not_exists({a}) OR {a} = {v})"));
        self
    }

    /// Condition: at least one of `attrs` is `value`.
    pub fn when_any_eq(mut self, attrs: &[&str], value: AttributeValue) -> Self {
        let v = self.value(value);
        let either: Vec<String> = attrs
            .iter()
            .map(|attr| format!("{} = {v}", self.name(attr)))
            .collect();
        self.conditions.push(format!("({})", either.join(" OR ")));
        self
    }

    /// The update expression, if anything is updated.
    pub fn update_expression(&self) -> Option<String> {
        let mut clauses = Vec::new();
        if !self.sets.is_empty() {
            clauses.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.adds.is_empty() {
            clauses.push(format!("ADD {}", self.adds.join(", ")));
        }
        if !self.removes.is_empty() {
            clauses.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        (!clauses.is_empty()).then(|| clauses.join(" "))
    }

    /// The condition (or filter) expression: every condition must hold.
    pub fn condition_expression(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| self.conditions.join(" AND "))
    }

    /// Placeholder names, `None` when empty (DynamoDB refuses empty maps).
    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// Placeholder values, `None` when empty.
    pub fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// `$builder` with `$expr`'s condition and its attribute names and values set: every SDK
/// builder of a conditional write (`PutItem`, `UpdateItem`, `DeleteItem` and their
/// transaction forms) takes the same three.
macro_rules! conditioned {
    ($builder:expr, $expr:expr) => {
        $builder
            .set_condition_expression($expr.condition_expression())
            .set_expression_attribute_names($expr.names())
            .set_expression_attribute_values($expr.values())
    };
}
pub(crate) use conditioned;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_update_and_condition_with_placeholders() {
        let expr = Expr::new()
            .set("name", AttributeValue::S("x".into()))
            .add("revision", AttributeValue::N("1".into()))
            .remove("parent_id")
            .when_exists("PK")
            .when_eq("revision", AttributeValue::N("3".into()));
        assert_eq!(
            expr.update_expression().as_deref(),
            Some("SET #name = :v0 ADD #revision :v1 REMOVE #parent_id")
        );
        assert_eq!(
            expr.condition_expression().as_deref(),
            Some("attribute_exists(#PK) AND #revision = :v2")
        );
        assert_eq!(expr.names().map(|n| n.len()), Some(4));
        assert_eq!(expr.values().map(|v| v.len()), Some(3));
    }

    #[test]
    fn dotted_names_are_paths_into_maps() {
        let expr = Expr::new()
            .set("notification_sms", AttributeValue::Bool(true))
            .when_eq("notification_sms.version", AttributeValue::N("2".into()));
        assert_eq!(
            expr.condition_expression().as_deref(),
            Some("#notification_sms.#version = :v1")
        );
        let names = expr.names().expect("names");
        assert_eq!(names.get("#version").map(String::as_str), Some("version"));
        assert_eq!(
            names.get("#notification_sms").map(String::as_str),
            Some("notification_sms")
        );
    }

    #[test]
    fn alternatives_are_parenthesised() {
        let failed = || AttributeValue::S("failed".into());
        let expr = Expr::new()
            .when_ne("notification_sms.status", failed())
            .when_absent_or_ne("notification_email", "notification_email.status", failed())
            .when_any_eq(
                &["notification_sms.status", "notification_email.status"],
                failed(),
            );
        assert_eq!(
            expr.condition_expression().as_deref(),
            Some(
                "#notification_sms.#status <> :v0 AND (attribute_not_exists(#notification_email) \
                 OR #notification_email.#status <> :v1) AND (#notification_sms.#status = :v2 \
                 OR #notification_email.#status = :v2)"
            )
        );
        assert_eq!(expr.values().map(|v| v.len()), Some(3));
    }

    #[test]
    fn empty_parts_are_absent() {
        let expr = Expr::new();
        assert_eq!(expr.update_expression(), None);
        assert_eq!(expr.condition_expression(), None);
        assert_eq!(expr.names(), None);
        assert_eq!(expr.values(), None);
    }
}
