//! Index queries: one list = one partition of an index, optionally narrowed by a sort-key
//! prefix and a filter. Paging is by cursor; never a Scan.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::{CatalogError, Page, PageRequest};

use crate::DynamoCatalog;
use crate::cursor;
use crate::expr::Expr;
use crate::item::Item;
use crate::keys;
use crate::table::TableError;

/// Most index reads one page request makes when a filter discards items. A page can then
/// hold fewer items than asked for while `next_cursor` is still set: clients follow the
/// cursor until it is null.
const MAX_READS_PER_PAGE: usize = 10;

/// Items evaluated per read when a filter is in play.
const FILTERED_READ_SIZE: i32 = 200;

/// A list served by one index partition.
#[derive(Debug)]
pub(crate) struct Listing {
    index: &'static str,
    partition_attr: &'static str,
    sort_attr: &'static str,
    partition: String,
    sort_prefix: String,
    filter: Expr,
    newest_first: bool,
}

impl Listing {
    /// Every item of `partition` in GSI1, narrowed to sort keys beginning with `prefix`.
    pub fn gsi1(partition: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self::on(
            keys::GSI1,
            keys::GSI1PK,
            keys::GSI1SK,
            partition.into(),
            prefix.into(),
        )
    }

    /// Every item of `partition` in GSI2, narrowed to sort keys beginning with `prefix`.
    pub fn gsi2(partition: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self::on(
            keys::GSI2,
            keys::GSI2PK,
            keys::GSI2SK,
            partition.into(),
            prefix.into(),
        )
    }

    fn on(
        index: &'static str,
        partition_attr: &'static str,
        sort_attr: &'static str,
        partition: String,
        sort_prefix: String,
    ) -> Self {
        Self {
            index,
            partition_attr,
            sort_attr,
            partition,
            sort_prefix,
            filter: Expr::new(),
            newest_first: false,
        }
    }

    /// Every item of `partition` in GSI3, narrowed to sort keys beginning with `prefix`.
    pub fn gsi3(partition: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self::on(
            keys::GSI3,
            keys::GSI3PK,
            keys::GSI3SK,
            partition.into(),
            prefix.into(),
        )
    }

    /// Reads in descending sort-key order.
    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }

    /// Keeps only the items that satisfy `filter`'s conditions.
    pub fn filtered(mut self, filter: Expr) -> Self {
        self.filter = filter;
        self
    }

    fn key_attrs(&self) -> [&'static str; 4] {
        [keys::PK, keys::SK, self.partition_attr, self.sort_attr]
    }
}

impl DynamoCatalog {
    /// One read of `listing` starting after `start`, evaluating at most `limit` items.
    async fn read(
        &self,
        listing: &Listing,
        start: Option<Item>,
        limit: i32,
    ) -> Result<(Vec<Item>, Option<Item>), CatalogError> {
        let mut key_condition = "#kp = :kp".to_owned();
        let mut request = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .index_name(listing.index)
            .expression_attribute_names("#kp", listing.partition_attr)
            .expression_attribute_values(":kp", AttributeValue::S(listing.partition.clone()))
            .set_exclusive_start_key(start)
            .scan_index_forward(!listing.newest_first)
            .limit(limit);
        if !listing.sort_prefix.is_empty() {
            key_condition.push_str(" AND begins_with(#ks, :ks)");
            request = request
                .expression_attribute_names("#ks", listing.sort_attr)
                .expression_attribute_values(":ks", AttributeValue::S(listing.sort_prefix.clone()));
        }
        if let Some(filter) = listing.filter.condition_expression() {
            request = request.filter_expression(filter);
            for (k, v) in listing.filter.names().unwrap_or_default() {
                request = request.expression_attribute_names(k, v);
            }
            for (k, v) in listing.filter.values().unwrap_or_default() {
                request = request.expression_attribute_values(k, v);
            }
        }
        let output = request
            .key_condition_expression(key_condition)
            .send()
            .await
            .map_err(TableError::from)?;
        Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
    }

    /// One page of `listing`.
    pub(crate) async fn query_page(
        &self,
        listing: &Listing,
        page: &PageRequest,
    ) -> Result<Page<Item>, CatalogError> {
        let key_attrs = listing.key_attrs();
        let mut start = match &page.cursor {
            Some(c) => Some(cursor::decode(
                c,
                &key_attrs,
                (listing.partition_attr, &listing.partition),
                (listing.sort_attr, &listing.sort_prefix),
            )?),
            None => None,
        };
        let want = page.limit.get() as usize;
        let filtered = listing.filter.condition_expression().is_some();
        let mut items: Vec<Item> = Vec::with_capacity(want + 1);
        for _ in 0..MAX_READS_PER_PAGE {
            // Ask for one more than needed, so a full last page has no dangling cursor.
            let missing = i32::try_from(want + 1 - items.len()).unwrap_or(i32::MAX);
            let limit = if filtered {
                missing.max(FILTERED_READ_SIZE)
            } else {
                missing
            };
            let (found, last) = self.read(listing, start, limit).await?;
            items.extend(found);
            if items.len() > want {
                items.truncate(want);
                let next = items
                    .last()
                    .map(|i| cursor::encode(i, &key_attrs))
                    .transpose()?;
                return Ok(Page {
                    items,
                    next_cursor: next,
                });
            }
            match last {
                Some(last) => start = Some(last),
                None => {
                    return Ok(Page {
                        items,
                        next_cursor: None,
                    });
                }
            }
        }
        // Read budget spent: hand out where the reads stopped.
        let next = start
            .map(|key| cursor::encode(&key, &key_attrs))
            .transpose()?;
        Ok(Page {
            items,
            next_cursor: next,
        })
    }

    /// Every item of `listing`, or at most `cap + 1` when a cap is given (enough to tell
    /// that there are more than `cap`).
    pub(crate) async fn query_all(
        &self,
        listing: &Listing,
        cap: Option<usize>,
    ) -> Result<Vec<Item>, CatalogError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let limit = cap.map_or(1000, |cap| (cap + 1 - items.len()).min(1000));
            let (found, last) = self
                .read(listing, start, i32::try_from(limit).unwrap_or(1000))
                .await?;
            items.extend(found);
            if cap.is_some_and(|cap| items.len() > cap) {
                return Ok(items);
            }
            match last {
                Some(last) => start = Some(last),
                None => return Ok(items),
            }
        }
    }
}
