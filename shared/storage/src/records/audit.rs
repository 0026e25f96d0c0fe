//! A history entry's item (`AUDIT#<entry id>`): listed in its entity's history (GSI1) and
//! in one shard of the shop-wide history (GSI2), expiring through the table's TTL.
//!
//! Invariants: an entry item is only ever put, in the transaction of the change it
//! describes, under `attribute_not_exists(PK)`; nothing updates it. Each changed field's
//! values are kept as DynamoDB values of their JSON kind (null, string, number, boolean),
//! so a stored entry reads back equal to the one written. The actor is `actor_id` (a
//! customer id, or `mpesa`) and `actor_email`, stored only when the actor has one (M-Pesa
//! has none); the entity's label is `subject_label`, absent on entries stored before it.

use std::collections::BTreeMap;

use domain::Timestamp;
use domain::audit::{Action, Actor, ActorId, AuditEntry, FieldChange, Retention, Value};
use serde::{Deserialize, Serialize};

use super::{Gsi1, Gsi2, ItemHead, decode, encode};
use crate::failure::Failure;
use crate::item::Item;
use crate::keys;

const AUDIT: &str = "history entry";

/// A field value as stored: exactly one of the members is set (none for null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
struct StoredValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<bool>,
}

impl StoredValue {
    fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::default(),
            Value::Text(s) => Self {
                s: Some(s.clone()),
                ..Self::default()
            },
            Value::Number(n) => Self {
                n: Some(*n),
                ..Self::default()
            },
            Value::Bool(b) => Self {
                b: Some(*b),
                ..Self::default()
            },
        }
    }

    fn value(self) -> Result<Value, Failure> {
        match (self.s, self.n, self.b) {
            (None, None, None) => Ok(Value::Null),
            (Some(s), None, None) => Ok(Value::Text(s)),
            (None, Some(n), None) => Ok(Value::Number(n)),
            (None, None, Some(b)) => Ok(Value::Bool(b)),
            _ => Err(Failure::record(AUDIT, "a field value of two kinds")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredChange {
    from: StoredValue,
    to: StoredValue,
}

/// A history entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditRecord {
    #[serde(flatten)]
    head: ItemHead,
    #[serde(flatten)]
    gsi1: Gsi1,
    #[serde(flatten)]
    gsi2: Gsi2,
    #[serde(flatten)]
    fields: AuditFields,
}

/// A history entry's own attributes. An entry's item decodes as this one struct: its keys
/// are skipped unread (decoding the record, its flattened parts would buffer every
/// attribute first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AuditFields {
    id: String,
    at: String,
    /// A customer id, or `mpesa`.
    actor_id: String,
    /// The account's e-mail; absent for M-Pesa (entries stored before M-Pesa all have one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor_email: Option<String>,
    action: String,
    subject_type: String,
    subject_id: String,
    /// The entity's name or order number at the time; absent on entries stored before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject_label: Option<String>,
    changes: BTreeMap<String, StoredChange>,
    /// TTL (Unix seconds).
    expires_at: i64,
}

impl AuditRecord {
    /// The item of `entry`, expiring after `retention`.
    pub fn encode(entry: &AuditEntry, retention: Retention) -> Result<Item, Failure> {
        let entity = entry.entity_type();
        let order = keys::audit_list_order(entry.id);
        encode(
            AUDIT,
            &AuditRecord {
                head: ItemHead::new(keys::audit_entry(entry.id), keys::entity::AUDIT_ENTRY),
                gsi1: Gsi1::new(
                    keys::entity_history(entity, &entry.entity_id),
                    order.clone(),
                ),
                gsi2: Gsi2::new(keys::audit_log(keys::OrderShard::of_entry(entry.id)), order),
                fields: AuditFields {
                    id: entry.id.to_string(),
                    at: entry.at.to_string(),
                    actor_id: entry.actor.id.to_string(),
                    actor_email: entry.actor.email.clone(),
                    action: entry.action.as_str().to_owned(),
                    subject_type: entity.as_str().to_owned(),
                    subject_id: entry.entity_id.clone(),
                    subject_label: entry.entity_label.clone(),
                    changes: entry
                        .changes
                        .iter()
                        .map(|(field, c)| {
                            let stored = StoredChange {
                                from: StoredValue::of(&c.from),
                                to: StoredValue::of(&c.to),
                            };
                            (field.clone(), stored)
                        })
                        .collect(),
                    expires_at: retention.expires_at(entry.at),
                },
            },
        )
    }

    /// The entry a stored item holds.
    pub fn decode(item: Item) -> Result<AuditEntry, Failure> {
        let r: AuditFields = decode(AUDIT, item)?;
        let invalid = |what: &'static str| Failure::record(AUDIT, format!("invalid {what}"));
        let action: Action = r.action.parse().map_err(|_| invalid("action"))?;
        if action.entity_type().as_str() != r.subject_type {
            return Err(invalid("entity type"));
        }
        let changes = r
            .changes
            .into_iter()
            .map(|(field, c)| {
                let change = FieldChange {
                    from: c.from.value()?,
                    to: c.to.value()?,
                };
                Ok((field, change))
            })
            .collect::<Result<_, Failure>>()?;
        Ok(AuditEntry {
            id: r.id.parse().map_err(|_| invalid("id"))?,
            at: Timestamp::parse(&r.at).map_err(|_| invalid("timestamp"))?,
            actor: Actor {
                id: ActorId::parse(&r.actor_id).map_err(|_| invalid("actor id"))?,
                email: r.actor_email,
            },
            action,
            entity_id: r.subject_id,
            entity_label: r.subject_label,
            changes,
        })
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use domain::testing::ProductBuilder;
    use domain::{audit, catalog_history};

    use super::*;
    use crate::records::attr;

    fn entry() -> AuditEntry {
        let at = Timestamp::parse("2026-12-03T08:00:00.000Z").expect("at");
        let product = ProductBuilder::new().created_at(at).build();
        let actor = Actor::account(
            "01J0000000000000000000000C".parse().expect("id"),
            "admin@example.com",
        );
        catalog_history::product_created(&actor, &product)
    }

    #[test]
    fn entries_round_trip_with_every_kind_of_value() {
        let mut entry = entry();
        entry.changes.insert(
            "notes".into(),
            FieldChange {
                from: Value::Bool(false),
                to: Value::Null,
            },
        );
        let item = AuditRecord::encode(&entry, Retention::DEFAULT).expect("encodes");
        assert_eq!(AuditRecord::decode(item).expect("decodes"), entry);
    }

    #[test]
    fn an_entry_of_mpesa_round_trips_with_no_email_stored() {
        let at = Timestamp::parse("2026-12-06T10:00:09.000Z").expect("at");
        let order = domain::OrderId::generate();
        let entry = domain::testing::mpesa_payment_received(order, at);
        let item = AuditRecord::encode(&entry, Retention::DEFAULT).expect("encodes");
        assert_eq!(
            item.get("actor_id"),
            Some(&AttributeValue::S("mpesa".into()))
        );
        assert!(!item.contains_key("actor_email"));
        assert_eq!(
            item.get(keys::GSI1PK).cloned(),
            Some(AttributeValue::S(keys::entity_history(
                audit::EntityType::Order,
                &order.to_string()
            )))
        );
        assert_eq!(
            item.get("subject_label"),
            Some(&AttributeValue::S("ORD-20261206-7KQ2MZ".into()))
        );
        assert_eq!(AuditRecord::decode(item).expect("decodes"), entry);
    }

    #[test]
    fn an_entry_stored_before_labels_reads_without_one() {
        let mut item = AuditRecord::encode(&entry(), Retention::DEFAULT).expect("encodes");
        assert!(item.remove("subject_label").is_some());
        let read = AuditRecord::decode(item).expect("decodes");
        assert_eq!(read.entity_label, None);
    }

    #[test]
    fn an_accounts_email_is_stored_and_an_unknown_actor_is_refused() {
        let entry = entry();
        let mut item = AuditRecord::encode(&entry, Retention::DEFAULT).expect("encodes");
        assert_eq!(
            item.get("actor_email"),
            Some(&AttributeValue::S("admin@example.com".into()))
        );
        item.insert("actor_id".into(), AttributeValue::S("someone".into()));
        assert!(AuditRecord::decode(item).is_err());
    }

    #[test]
    fn an_entry_is_listed_under_its_entity_and_a_shard_and_expires() {
        let entry = entry();
        let item = AuditRecord::encode(&entry, Retention::DEFAULT).expect("encodes");
        let s = |v: String| Some(AttributeValue::S(v));
        assert_eq!(
            item.get(keys::GSI1PK).cloned(),
            s(keys::entity_history(
                audit::EntityType::Product,
                &entry.entity_id
            ))
        );
        assert_eq!(
            item.get(keys::GSI2PK).cloned(),
            s(keys::audit_log(keys::OrderShard::of_entry(entry.id)))
        );
        assert_eq!(
            item.get(attr::EXPIRES_AT).cloned(),
            Some(AttributeValue::N(
                Retention::DEFAULT.expires_at(entry.at).to_string()
            ))
        );
    }
}
