//! Orders stored by earlier releases: filed under the sharded order indexes, and under
//! GSI5 when their notification failed before it existed.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::OrderId;
use domain::notification::{Channel, ChannelStatus};
use domain::order::{OrderError, OrderStatus};

use super::UpgradeRun;
use crate::expr::Expr;
use crate::item::{Fields, Item, s};
use crate::keys;
use crate::keys::PrimaryKey;
use crate::orders::DynamoOrders;
use crate::query::Listing;
use crate::records::attr;
use crate::records::channel::{channel_status_path, failed_channels, stored_status};
use crate::records::order::{UpgradeProgress, listed_as_failed};
use crate::table::WriteError;

impl DynamoOrders {
    /// Files up to `limit` orders stored before the order indexes were sharded (still in
    /// GSI2's single `ORDERS` partition) under their shards: GSI2, and GSI3 and GSI4 where
    /// they still hold the unsharded keys. Each move is conditioned on the keys read, so an
    /// order changed meanwhile is left for the next call. Returns how many orders were
    /// moved; call again until it is 0 (the reconciler does, every run).
    pub async fn file_unsharded_orders(&self, limit: usize) -> Result<usize, OrderError> {
        let listing = Listing::gsi2(keys::ORDER_LIST, "");
        let found = self
            .table
            .query_all(&listing, Some(limit.saturating_sub(1)))
            .await?;
        let mut moved = 0;
        for item in found.iter().take(limit) {
            let f = Fields(item);
            let id: OrderId = f.parse(attr::ID)?;
            let status: OrderStatus = f.parse(attr::STATUS)?;
            let shard = keys::OrderShard::of(id);
            let mut update = Expr::new()
                .set(keys::GSI2PK, s(keys::order_list(shard)))
                .when_eq(keys::GSI2PK, s(keys::ORDER_LIST));
            let unsharded_status = keys::orders_in_status_list(status);
            match f.str(keys::GSI3PK) {
                Ok(current) if current == unsharded_status => {
                    update = update
                        .set(keys::GSI3PK, s(keys::orders_in_status(status, shard)))
                        .when_eq(keys::GSI3PK, s(current));
                }
                Ok(current) => update = update.when_eq(keys::GSI3PK, s(current)),
                Err(_) => update = update.when_absent(keys::GSI3PK),
            }
            match f.str(keys::GSI4PK) {
                Ok(current) if current == keys::UNSHARDED_HAND_OFFS_DUE => {
                    update = update
                        .set(keys::GSI4PK, s(keys::hand_offs_due(shard)))
                        .when_eq(keys::GSI4PK, s(current));
                }
                Ok(current) => update = update.when_eq(keys::GSI4PK, s(current)),
                Err(_) => update = update.when_absent(keys::GSI4PK),
            }
            // Stored before GSI5 too: a failed notification lists it there as well.
            if let Some(channel) = failed_channels(item).first()
                && !item.contains_key(keys::GSI5PK)
            {
                update = listed_as_failed(update, id)
                    .when_eq(
                        &channel_status_path(*channel),
                        stored_status(ChannelStatus::Failed),
                    )
                    .when_absent(keys::GSI5PK);
            }
            match self.table.update(&keys::order(id), &update).await {
                Ok(_) => moved += 1,
                // Changed (or already moved) since the index was read: the next call.
                Err(WriteError::ConditionFailed) => {}
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
        }
        Ok(moved)
    }

    /// Files under GSI5 the orders whose notification channel failed before GSI5 existed
    /// (the notifier lists every later failure itself, in the write that records it). It
    /// walks the list of every order (GSI2, all shards in parallel) newest first, from
    /// where the previous call stopped (the item `UPGRADE#NOTIFICATION_FAILED`), for at
    /// most `steps` steps of up to `per_shard` orders a shard, and records its progress
    /// after each step. Filing is conditioned on a channel still being `failed` and the order
    /// not being listed yet, so a repeated step changes nothing. Once the walk has passed
    /// the oldest order it is `done`, and a call costs one `GetItem`.
    pub async fn file_failed_notifications(
        &self,
        steps: usize,
        per_shard: usize,
    ) -> Result<UpgradeRun, OrderError> {
        let progress_key = keys::upgrade_progress(keys::FAILED_NOTIFICATIONS_UPGRADE);
        let stored = self.table.get(&progress_key).await?;
        let mut started = stored.is_some();
        let mut progress = stored
            .map(UpgradeProgress::decode)
            .transpose()?
            .unwrap_or_default();
        let mut run = UpgradeRun {
            filed: 0,
            done: progress.done,
        };
        let statuses = Channel::ALL.map(channel_status_path);
        let statuses = statuses.each_ref().map(String::as_str);
        let unfiled = || {
            Expr::new()
                .when_any_eq(&statuses, stored_status(ChannelStatus::Failed))
                .when_absent(keys::GSI5PK)
        };
        for _ in 0..steps {
            if progress.done {
                break;
            }
            let shards = keys::OrderShard::all()
                .map(|shard| {
                    let list = Listing::gsi2(keys::order_list(shard), "").filtered(unfiled());
                    match &progress.below {
                        Some(below) => list.below(below.clone()),
                        None => list,
                    }
                })
                .collect();
            let (found, below) = self.table.walk_sharded(shards, per_shard).await?;
            let filed = self.file_each_unfiled(&found, unfiled).await?;
            run.filed += filed;
            let read = started.then_some(&progress.below);
            if !self.record_step(&progress_key, filed, &below, read).await? {
                // Another run moved it meanwhile: it goes on from there next time.
                return Ok(run);
            }
            started = true;
            progress = UpgradeProgress {
                done: below.is_none(),
                below,
            };
            run.done = progress.done;
        }
        Ok(run)
    }

    /// Files under GSI5 each order of `found` (one step's read) that `unfiled` still
    /// holds for; returns how many were.
    async fn file_each_unfiled(
        &self,
        found: &[Item],
        unfiled: impl Fn() -> Expr,
    ) -> Result<usize, OrderError> {
        let mut filed = 0;
        for item in found {
            let id: OrderId = Fields(item).parse(attr::ID)?;
            match self
                .table
                .update(&keys::order(id), &listed_as_failed(unfiled(), id))
                .await
            {
                Ok(_) => filed += 1,
                // Listed meanwhile (by the notifier, or a step read twice).
                Err(WriteError::ConditionFailed) => {}
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
        }
        Ok(filed)
    }

    /// Records at `key` a step that filed `filed` orders and stopped `below` (`None`: the
    /// walk passed the oldest order), moving on only from the progress this call read
    /// (`read`: where it was below; `None`: no progress was stored). `false` when another
    /// run moved it meanwhile.
    async fn record_step(
        &self,
        key: &PrimaryKey,
        filed: usize,
        below: &Option<String>,
        read: Option<&Option<String>>,
    ) -> Result<bool, OrderError> {
        let record = UpgradeProgress::step(filed);
        let record = match below {
            Some(below) => record.set(attr::UPGRADE_BELOW, s(below.clone())),
            None => record.set(attr::UPGRADE_DONE, AttributeValue::Bool(true)),
        };
        let record = match read {
            None => record.when_absent(keys::PK),
            Some(Some(previous)) => record.when_eq(attr::UPGRADE_BELOW, s(previous.clone())),
            Some(None) => record.when_absent(attr::UPGRADE_BELOW),
        };
        match self.table.update(key, &record).await {
            Ok(_) => Ok(true),
            Err(WriteError::ConditionFailed) => Ok(false),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }
}
