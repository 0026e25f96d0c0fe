//! The change history on DynamoDB: the `Put` that adds an entry to the transaction of the
//! change it describes, and [`AuditLog`] (one entity's history: one `Query` of GSI1; the
//! shop-wide history: one `Query` per shard of GSI2, in parallel, merged newest first).
//!
//! Invariant: entries are only put (`attribute_not_exists(PK)`) inside the transaction of
//! their change, so a change without its entry, or an entry without its change, cannot be
//! committed; nothing here updates or deletes one.

use aws_sdk_dynamodb::types::TransactWriteItem;
use domain::audit::{AuditEntry, AuditError, AuditListing, AuditLog};
use domain::{Page, PageRequest};

use crate::catalog::DynamoCatalog;
use crate::expr::Expr;
use crate::failure::Failure;
use crate::keys;
use crate::query::Listing;
use crate::records::audit::AuditRecord;
use crate::table::Table;
use crate::txn;

impl Table {
    /// The transaction item that records `entry`, kept for the table's audit retention.
    pub(crate) fn history_put(&self, entry: &AuditEntry) -> Result<TransactWriteItem, Failure> {
        let item = AuditRecord::encode(entry, self.audit_retention())?;
        txn::put(self.name(), item, Expr::new().when_absent(keys::PK))
    }
}

impl AuditLog for DynamoCatalog {
    #[tracing::instrument(name = "dynamodb.audit_entries", skip_all, fields(
        entity = match &listing {
            AuditListing::Entity(kind, _) => Some(kind.as_str()),
            AuditListing::All => None,
        },
    ))]
    async fn audit_entries(
        &self,
        listing: AuditListing,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AuditError> {
        let page = match listing {
            AuditListing::Entity(kind, id) => {
                let list = Listing::gsi1(keys::entity_history(kind, &id), "").newest_first();
                self.table.query_page(&list, &page).await
            }
            AuditListing::All => {
                let shards = keys::OrderShard::all()
                    .map(|shard| Listing::gsi2(keys::audit_log(shard), ""))
                    .collect();
                self.table
                    .query_sharded_page(keys::AUDIT_LOG, shards, &page)
                    .await
            }
        }
        .map_err(AuditError::from)?;
        let items = page
            .items
            .into_iter()
            .map(AuditRecord::decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }
}
