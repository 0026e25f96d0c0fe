//! Categories stored with an earlier form of their GSI2 sibling sort key.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::CatalogError;

use super::UpgradeRun;
use crate::catalog::DynamoCatalog;
use crate::expr::Expr;
use crate::item::{Fields, s};
use crate::keys;
use crate::query::Listing;
use crate::records::attr;
use crate::records::catalog::CategoryRecord;
use crate::records::order::UpgradeProgress;
use crate::table::WriteError;

impl DynamoCatalog {
    /// Gives every category stored under an earlier form of its GSI2 sort key (releases
    /// before `keys::SIBLING_ORDER_SEPARATOR` wrote `<name key>#<id>`, which lists "A B"
    /// before "A") its `keys::category_sibling_order`, so the flat lists of siblings
    /// follow the tree's order. Categories are few (hundreds): it reads them all (GSI1
    /// `CATEGORY_TREE`, one `Query` a MB) and re-keys at most `limit` of them, each with
    /// one `UpdateItem` conditioned on the item still holding the key read (a rename or
    /// move meanwhile writes the new key itself and wins; the walk skips it). It sets the
    /// key only: no history entry, no `revision` or `updated_at` change. Then it records
    /// in `UPGRADE#CATEGORY_SIBLING_ORDER` how many it re-keyed, and `done` once none was
    /// left; from then on a call costs one `GetItem`. Repeating a call changes nothing.
    pub async fn rekey_category_siblings(&self, limit: usize) -> Result<UpgradeRun, CatalogError> {
        let progress_key = keys::upgrade_progress(keys::CATEGORY_SIBLING_ORDER_UPGRADE);
        let progress = self
            .table
            .get(&progress_key)
            .await?
            .map(UpgradeProgress::decode)
            .transpose()?
            .unwrap_or_default();
        if progress.done {
            return Ok(UpgradeRun {
                filed: 0,
                done: true,
            });
        }
        let items = self
            .table
            .query_all(&Listing::gsi1(keys::CATEGORY_TREE, ""), None)
            .await?;
        let (mut filed, mut tried) = (0_usize, 0_usize);
        let mut done = true;
        for item in items {
            let stored = Fields(&item).str(keys::GSI2SK)?.to_owned();
            let category = CategoryRecord::decode(item)?.category;
            let current = keys::category_sibling_order(&category.name, category.id);
            if stored == current {
                continue;
            }
            if tried == limit {
                // The next call goes on: the categories re-keyed by now read as current.
                done = false;
                break;
            }
            tried += 1;
            let rekey = Expr::new()
                .set(keys::GSI2SK, s(current))
                .when_eq(keys::GSI2SK, s(stored));
            match self
                .table
                .update(&keys::category(category.id), &rekey)
                .await
            {
                Ok(_) => filed += 1,
                // Renamed, moved or deleted since the index was read: it holds the
                // current key already, or is gone.
                Err(WriteError::ConditionFailed) => {}
                Err(WriteError::Failed(failure)) => return Err(failure.into()),
            }
        }
        let mut record = UpgradeProgress::step(filed);
        if done {
            record = record.set(attr::UPGRADE_DONE, AttributeValue::Bool(true));
        }
        // Recorded once done: a call that finds it done (another run's) changes nothing.
        match self
            .table
            .update(&progress_key, &record.when_absent(attr::UPGRADE_DONE))
            .await
        {
            Ok(_) | Err(WriteError::ConditionFailed) => Ok(UpgradeRun { filed, done }),
            Err(WriteError::Failed(failure)) => Err(failure.into()),
        }
    }
}
