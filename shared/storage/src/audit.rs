//! The change history on DynamoDB: the `Put` that adds an entry to the transaction of the
//! change it describes, and [`AuditLog`] (one entity's history: one `Query` of GSI1; the
//! shop-wide history: one `Query` per shard of GSI2, in parallel, merged newest first).
//!
//! Invariant: entries are only put (`attribute_not_exists(PK)`) inside the transaction of
//! their change, so a change without its entry, or an entry without its change, cannot be
//! committed; nothing here updates or deletes one.

use aws_sdk_dynamodb::types::TransactWriteItem;
use domain::audit::{AuditEntry, AuditError, AuditListing, AuditLog};
use domain::{CatalogError, Page, PageRequest};

use crate::DynamoCatalog;
use crate::expr::Expr;
use crate::keys;
use crate::query::Listing;
use crate::records::audit::AuditRecord;
use crate::txn;

impl DynamoCatalog {
    /// The transaction item that records `entry`.
    pub(crate) fn history_put(
        &self,
        entry: &AuditEntry,
    ) -> Result<TransactWriteItem, CatalogError> {
        let item = AuditRecord::encode(entry, self.audit_retention)?;
        txn::put(self.table.name(), item, Expr::new().when_absent(keys::PK)).map_err(Into::into)
    }
}

fn audit_error(err: CatalogError) -> AuditError {
    match err {
        CatalogError::InvalidCursor => AuditError::InvalidCursor,
        CatalogError::StorageUnavailable(err) => AuditError::StorageUnavailable(err),
        other => AuditError::Storage(Box::new(other)),
    }
}

impl AuditLog for DynamoCatalog {
    async fn audit_entries(
        &self,
        listing: AuditListing,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AuditError> {
        let page = match listing {
            AuditListing::Entity(kind, id) => {
                let list = Listing::gsi1(keys::entity_history(kind, &id), "").newest_first();
                self.query_page(&list, &page).await
            }
            AuditListing::All => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi2(keys::audit_log(shard), ""))
                    .collect();
                self.query_sharded_page(keys::AUDIT_LOG, shards, &page)
                    .await
            }
        }
        .map_err(audit_error)?;
        let items = page
            .items
            .into_iter()
            .map(AuditRecord::decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AuditError::Storage(Box::new(e)))?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }
}
