//! Writes per partition key, recorded by an SDK interceptor: what `make load` reports to
//! show where a flash sale's writes land (docs/scale.md).
//!
//! Every successful `PutItem`, `UpdateItem`, `DeleteItem`, `BatchWriteItem` and
//! `TransactWriteItems` counts one write on its item's partition key, and one write on
//! each index partition the item is listed in before or after it, as DynamoDB bills them
//! with the table's `ALL` projections: an index entry whose key is unchanged is rewritten
//! in place (one write), one whose key changes is deleted from the old partition and put in
//! the new (one write each). Failed and cancelled requests write nothing and count nothing.
//!
//! Invariant: an item's index keys are known from the writes seen, so a recorder counts
//! index writes right only for items it saw created (the load run creates everything
//! through it); the base-table counts do not depend on that.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// The partition-key attribute of the table and of each index, in order.
const PARTITION_ATTRS: [&str; 6] = ["PK", "GSI1PK", "GSI2PK", "GSI3PK", "GSI4PK", "GSI5PK"];
/// How reports name them.
const INDEXES: [&str; 6] = ["table", "GSI1", "GSI2", "GSI3", "GSI4", "GSI5"];

type Attrs = HashMap<String, AttributeValue>;
type Names = HashMap<String, String>;

/// Where an item is listed: its index partition keys (GSI1…GSI5).
type Listed = [Option<String>; 5];

/// One item write, as requested.
#[derive(Debug, Clone)]
enum Change {
    Put(Listed),
    Update {
        set: Vec<(usize, String)>,
        removed: Vec<usize>,
    },
    Delete,
}

#[derive(Debug, Clone)]
struct Write {
    pk: String,
    change: Change,
}

/// The writes of the request in flight, kept in its config bag until it ends.
#[derive(Debug, Clone)]
struct Pending(Vec<Write>);

impl Storable for Pending {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Default)]
struct Ledger {
    /// Writes per (index, partition key); index 0 is the table.
    writes: BTreeMap<(usize, String), u64>,
    listed: HashMap<String, Listed>,
}

/// The interceptor; clones share one ledger.
#[derive(Debug, Clone, Default)]
pub struct WriteRecorder {
    ledger: Arc<Mutex<Ledger>>,
}

/// Writes on one partition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionWrites {
    /// `table`, `GSI1`, …
    pub index: &'static str,
    pub key: String,
    pub writes: u64,
}

impl WriteRecorder {
    /// Every partition key written so far with its write count, busiest first.
    pub fn partitions(&self) -> Vec<PartitionWrites> {
        let ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<PartitionWrites> = ledger
            .writes
            .iter()
            .map(|((index, key), writes)| PartitionWrites {
                index: INDEXES[*index],
                key: key.clone(),
                writes: *writes,
            })
            .collect();
        all.sort_by(|a, b| b.writes.cmp(&a.writes).then_with(|| a.key.cmp(&b.key)));
        all
    }

    /// Forgets the writes counted so far (the items' index keys are kept).
    pub fn reset_counts(&self) {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        ledger.writes.clear();
    }

    fn apply(&self, writes: &[Write]) {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        for write in writes {
            let before = ledger.listed.get(&write.pk).cloned().unwrap_or_default();
            let after = match &write.change {
                Change::Put(listed) => listed.clone(),
                Change::Delete => Listed::default(),
                Change::Update { set, removed } => {
                    let mut after = before.clone();
                    for index in removed {
                        after[*index] = None;
                    }
                    for (index, key) in set {
                        after[*index] = Some(key.clone());
                    }
                    after
                }
            };
            *ledger.writes.entry((0, write.pk.clone())).or_default() += 1;
            for (index, (old, new)) in before.iter().zip(&after).enumerate() {
                let touched: Vec<&String> = match (old, new) {
                    (Some(a), Some(b)) if a == b => vec![a],
                    _ => old.iter().chain(new.iter()).collect(),
                };
                for key in touched {
                    *ledger.writes.entry((index + 1, key.clone())).or_default() += 1;
                }
            }
            if after == Listed::default() {
                ledger.listed.remove(&write.pk);
            } else {
                ledger.listed.insert(write.pk.clone(), after);
            }
        }
    }
}

fn string(attrs: Option<&Attrs>, name: &str) -> Option<String> {
    match attrs?.get(name)? {
        AttributeValue::S(s) => Some(s.clone()),
        _ => None,
    }
}

fn put(item: Option<&Attrs>) -> Option<Write> {
    let mut listed = Listed::default();
    for (slot, attr) in listed.iter_mut().zip(&PARTITION_ATTRS[1..]) {
        *slot = string(item, attr);
    }
    Some(Write {
        pk: string(item, "PK")?,
        change: Change::Put(listed),
    })
}

/// The index partition keys an update expression sets or removes.
fn update(
    key: Option<&Attrs>,
    expression: Option<&str>,
    names: Option<&Names>,
    values: Option<&Attrs>,
) -> Option<Write> {
    let index_of = |placeholder: &str| {
        let name = names
            .and_then(|n| n.get(placeholder.trim()))
            .map_or(placeholder.trim(), String::as_str);
        PARTITION_ATTRS[1..].iter().position(|a| *a == name)
    };
    let (mut set, mut removed) = (Vec::new(), Vec::new());
    let mut clause = "";
    let mut part = String::new();
    let mut flush = |clause: &str, part: &mut String| {
        match clause {
            "SET" => {
                if let Some((lhs, rhs)) = part.split_once('=')
                    && let Some(index) = index_of(lhs)
                    && let Some(AttributeValue::S(v)) = values.and_then(|v| v.get(rhs.trim()))
                {
                    set.push((index, v.clone()));
                }
            }
            "REMOVE" => {
                if let Some(index) = index_of(part) {
                    removed.push(index);
                }
            }
            _ => {}
        }
        part.clear();
    };
    for token in expression.unwrap_or_default().split_whitespace() {
        match token {
            "SET" | "ADD" | "REMOVE" | "DELETE" => {
                flush(clause, &mut part);
                clause = token;
            }
            _ => {
                let (text, ends) = match token.strip_suffix(',') {
                    Some(text) => (text, true),
                    None => (token, false),
                };
                part.push_str(text);
                part.push(' ');
                if ends {
                    flush(clause, &mut part);
                }
            }
        }
    }
    flush(clause, &mut part);
    Some(Write {
        pk: string(key, "PK")?,
        change: Change::Update { set, removed },
    })
}

fn delete(key: Option<&Attrs>) -> Option<Write> {
    Some(Write {
        pk: string(key, "PK")?,
        change: Change::Delete,
    })
}

fn transact(i: &TransactWriteItemsInput) -> Vec<Write> {
    i.transact_items()
        .iter()
        .filter_map(|item| {
            if let Some(p) = item.put() {
                put(Some(p.item()))
            } else if let Some(u) = item.update() {
                update(
                    Some(u.key()),
                    Some(u.update_expression()),
                    u.expression_attribute_names(),
                    u.expression_attribute_values(),
                )
            } else {
                item.delete().and_then(|d| delete(Some(d.key())))
            }
        })
        .collect()
}

fn batch(i: &BatchWriteItemInput) -> Vec<Write> {
    i.request_items()
        .into_iter()
        .flat_map(|items| items.values().flatten())
        .filter_map(|request| {
            if let Some(p) = request.put_request() {
                put(Some(p.item()))
            } else {
                request.delete_request().and_then(|d| delete(Some(d.key())))
            }
        })
        .collect()
}

impl Intercept for WriteRecorder {
    fn name(&self) -> &'static str {
        "WriteRecorder"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let writes: Vec<Write> = if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
            transact(i)
        } else if let Some(i) = input.downcast_ref::<BatchWriteItemInput>() {
            batch(i)
        } else if let Some(i) = input.downcast_ref::<PutItemInput>() {
            put(i.item()).into_iter().collect()
        } else if let Some(i) = input.downcast_ref::<UpdateItemInput>() {
            update(
                i.key(),
                i.update_expression(),
                i.expression_attribute_names(),
                i.expression_attribute_values(),
            )
            .into_iter()
            .collect()
        } else if let Some(i) = input.downcast_ref::<DeleteItemInput>() {
            delete(i.key()).into_iter().collect()
        } else {
            Vec::new()
        };
        if !writes.is_empty() {
            cfg.interceptor_state().store_put(Pending(writes));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let succeeded = matches!(context.output_or_error(), Some(Ok(_)));
        if succeeded && let Some(Pending(writes)) = cfg.load::<Pending>() {
            self.apply(writes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    fn attrs(pairs: &[(&str, &str)]) -> Attrs {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), s(v))).collect()
    }

    fn count(recorder: &WriteRecorder, index: &str, key: &str) -> u64 {
        recorder
            .partitions()
            .into_iter()
            .find(|p| p.index == index && p.key == key)
            .map_or(0, |p| p.writes)
    }

    #[test]
    fn index_entries_are_rewritten_in_place_or_moved_as_dynamodb_bills_them() {
        let recorder = WriteRecorder::default();
        let order = attrs(&[
            ("PK", "ORDER#1"),
            ("GSI2PK", "ORDERS#3"),
            ("GSI3PK", "ORDER_STATUS#CONFIRMED#3"),
        ]);
        recorder.apply(&[put(Some(&order)).expect("put")]);
        // Cancelled: GSI3 moves (delete + put), GSI2 is rewritten in place.
        let names: Names = [("#GSI3PK".to_owned(), "GSI3PK".to_owned())].into();
        let values: Attrs = [(":v0".to_owned(), s("ORDER_STATUS#CANCELLED#3"))].into();
        let key = attrs(&[("PK", "ORDER#1")]);
        let cancel = update(
            Some(&key),
            Some("SET #GSI3PK = :v0, #status = :v1"),
            Some(&names),
            Some(&values),
        )
        .expect("update");
        recorder.apply(&[cancel]);
        assert_eq!(count(&recorder, "table", "ORDER#1"), 2);
        assert_eq!(count(&recorder, "GSI2", "ORDERS#3"), 2);
        assert_eq!(count(&recorder, "GSI3", "ORDER_STATUS#CONFIRMED#3"), 2);
        assert_eq!(count(&recorder, "GSI3", "ORDER_STATUS#CANCELLED#3"), 1);
        // Removing GSI4's key takes the entry out: one write on the old partition.
        let names: Names = [("#GSI4PK".to_owned(), "GSI4PK".to_owned())].into();
        recorder.apply(&[Write {
            pk: "ORDER#1".into(),
            change: Change::Update {
                set: vec![(3, "HAND_OFF_DUE#3".into())],
                removed: vec![],
            },
        }]);
        let ack = update(
            Some(&key),
            Some("REMOVE #GSI4PK, #GSI4SK"),
            Some(&names),
            None,
        )
        .expect("update");
        recorder.apply(&[ack]);
        assert_eq!(count(&recorder, "GSI4", "HAND_OFF_DUE#3"), 2);
        recorder.apply(&[delete(Some(&key)).expect("delete")]);
        assert_eq!(count(&recorder, "GSI2", "ORDERS#3"), 5);
        assert_eq!(count(&recorder, "table", "ORDER#1"), 5);
    }

    #[test]
    fn updates_that_leave_the_index_keys_alone_touch_only_the_listed_partitions() {
        let recorder = WriteRecorder::default();
        let product = attrs(&[("PK", "PRODUCT#1"), ("GSI2PK", "PRODUCTS")]);
        recorder.apply(&[put(Some(&product)).expect("put")]);
        let stock = update(
            Some(&attrs(&[("PK", "PRODUCT#1")])),
            Some("SET #ever = :v1 ADD #stock :v0"),
            None,
            None,
        )
        .expect("update");
        recorder.apply(&[stock]);
        assert_eq!(count(&recorder, "GSI2", "PRODUCTS"), 2);
        assert_eq!(count(&recorder, "GSI1", "PRODUCTS"), 0);
    }
}
