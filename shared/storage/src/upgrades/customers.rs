//! Customers stored before staff's lists existed (the one `Scan` of the code base).

use domain::{CustomerError, CustomerId};

use crate::customers::DynamoCustomers;
use crate::expr::Expr;
use crate::failure::Failure;
use crate::item::{Fields, s};
use crate::keys;
use crate::records::attr;
use crate::records::customer::Listed;
use crate::table::WriteError;

/// What [`DynamoCustomers::file_unlisted_customers`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiledCustomers {
    /// `Scan` requests made (each reads at most 1 MB of the table).
    pub scanned_pages: u64,
    /// Customers found without the list keys and filed in the lists.
    pub filed: u64,
    /// Customers found without them that changed before they could be filed: a sign-in
    /// filed them (so nothing is left to do), or, while the release before the lists still
    /// served, changed their email (a second run files those).
    pub changed_meanwhile: u64,
}

impl DynamoCustomers {
    /// Files every customer stored before staff's lists existed (no GSI2 key) in them: the
    /// one-off upgrade an operator runs once per table after deploying the release that
    /// added the lists (`index-customers`, docs/table-design.md).
    ///
    /// No index holds such customers, so this is a `Scan` of the whole table (filtered to
    /// customers without the keys; it reads, and is billed for, every item), the only one
    /// in the code base and on no request path. Each customer found gets its keys from
    /// the email the scan read, in an `UpdateItem` conditioned on the item still existing,
    /// still lacking the keys and still holding that email, so a sign-in that filed or
    /// changed it meanwhile wins. Idempotent: a second run files nothing.
    pub async fn file_unlisted_customers(&self) -> Result<FiledCustomers, CustomerError> {
        let filter = Expr::new()
            .when_eq(keys::ENTITY_TYPE, s(keys::customer_entity::CUSTOMER))
            .when_absent(keys::GSI2PK);
        let mut report = FiledCustomers::default();
        let mut start = None;
        loop {
            let mut scan = self
                .table
                .client()
                .scan()
                .table_name(self.table.name())
                .set_filter_expression(filter.condition_expression())
                .set_expression_attribute_names(filter.names())
                .set_expression_attribute_values(filter.values())
                .projection_expression("#id, #email")
                .set_exclusive_start_key(start);
            for attr in [attr::ID, attr::EMAIL] {
                scan = scan.expression_attribute_names(format!("#{attr}"), attr);
            }
            let output = scan.send().await.map_err(Failure::of)?;
            report.scanned_pages += 1;
            for item in output.items.unwrap_or_default() {
                let f = Fields(&item);
                let id: CustomerId = f.parse(attr::ID)?;
                let email = f.str(attr::EMAIL)?;
                let mut update = Expr::new()
                    .when_exists(keys::PK)
                    .when_absent(keys::GSI2PK)
                    .when_eq(attr::EMAIL, s(email));
                for (attr, value) in Listed::of(id, email).into_attributes() {
                    update = update.set(attr, value);
                }
                match self.table.update(&keys::customer(id), &update).await {
                    Ok(_) => report.filed += 1,
                    Err(WriteError::ConditionFailed) => report.changed_meanwhile += 1,
                    Err(WriteError::Failed(failure)) => return Err(failure.into()),
                }
            }
            match output.last_evaluated_key {
                Some(last) if !last.is_empty() => start = Some(last),
                _ => return Ok(report),
            }
        }
    }
}
