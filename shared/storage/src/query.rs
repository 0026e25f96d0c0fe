//! Index queries on a [`Table`], for every adapter: one list = one partition of an index,
//! optionally narrowed by a sort-key prefix or bound and a filter; a sharded list = several
//! partitions of one index whose sort keys are unique across them, read in parallel and
//! merged. Paging is by cursor (a cursor that is not the list's is
//! [`ListFailure::InvalidCursor`], which each adapter reports as its own); never a Scan.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::{Page, PageRequest};

use crate::cursor;
use crate::expr::Expr;
use crate::failure::{Failure, ListFailure};
use crate::item::Item;
use crate::keys;
use crate::table::Table;

/// Most index reads one page request makes when a filter discards items. A page can then
/// hold fewer items than asked for while `next_cursor` is still set: clients follow the
/// cursor until it is null.
const MAX_READS_PER_PAGE: usize = 10;

/// Items evaluated per read when a filter is in play (after the first read, for a filter
/// that discards few: [`Listing::filtered_lightly`]).
const FILTERED_READ_SIZE: i32 = 200;

/// The margin a lightly filtered list's first read adds to what the page needs: one item
/// in this many may be discarded without a second read.
const LIGHT_FILTER_MARGIN: i32 = 4;

/// Items read from each shard of a sharded list beyond its even share of the page: with 16
/// shards and a page of 20, four a shard (64 items read for 20 shown, where reading a full
/// page from every shard would read 336).
const SHARD_SLACK: usize = 2;

/// A list served by one index partition.
#[derive(Debug)]
pub(crate) struct Listing {
    index: &'static str,
    partition_attr: &'static str,
    sort_attr: &'static str,
    partition: String,
    sort_prefix: String,
    /// Only sort keys below this (exclusive); never together with a `sort_prefix`.
    sort_below: Option<String>,
    filter: Expr,
    /// The filter discards few items: the first read asks for little more than the page.
    filter_is_light: bool,
    /// Only these attributes are read (`None`: all); a paged list's must include its keys.
    projection: Option<&'static [&'static str]>,
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
            sort_below: None,
            filter: Expr::new(),
            filter_is_light: false,
            projection: None,
            newest_first: false,
        }
    }

    /// Every item of `partition` in GSI4.
    pub fn gsi4(partition: impl Into<String>) -> Self {
        Self::on(
            keys::GSI4,
            keys::GSI4PK,
            keys::GSI4SK,
            partition.into(),
            String::new(),
        )
    }

    /// Every item of `partition` in GSI5.
    pub fn gsi5(partition: impl Into<String>) -> Self {
        Self::on(
            keys::GSI5,
            keys::GSI5PK,
            keys::GSI5SK,
            partition.into(),
            String::new(),
        )
    }

    /// Every item of `partition` in GSI6.
    pub fn gsi6(partition: impl Into<String>) -> Self {
        Self::on(
            keys::GSI6,
            keys::GSI6PK,
            keys::GSI6SK,
            partition.into(),
            String::new(),
        )
    }

    /// Only the items whose sort key is below `bound`.
    pub fn below(mut self, bound: impl Into<String>) -> Self {
        debug_assert!(self.sort_prefix.is_empty(), "a prefix or a bound, not both");
        self.sort_below = Some(bound.into());
        self
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

    /// Keeps only the items that satisfy `filter`'s conditions. Each read evaluates
    /// [`FILTERED_READ_SIZE`] items, so that a filter that keeps one item in ten still
    /// fills a page in one read.
    pub fn filtered(mut self, filter: Expr) -> Self {
        self.filter = filter;
        self.filter_is_light = false;
        self
    }

    /// Keeps only the items that satisfy `filter`, a filter that discards few of them
    /// (inactive products): the first read evaluates the page's items and a quarter more,
    /// not [`FILTERED_READ_SIZE`] (which would read, and parse, ten pages to keep one); a
    /// read after it, if the page is still short, evaluates as many as [`Self::filtered`]'s.
    pub fn filtered_lightly(mut self, filter: Expr) -> Self {
        self.filter = filter;
        self.filter_is_light = true;
        self
    }

    /// Reads only the attributes `names` of each item (DynamoDB still evaluates, and
    /// charges for, whole items; the response and its parsing shrink).
    pub fn only(mut self, names: &'static [&'static str]) -> Self {
        self.projection = Some(names);
        self
    }

    /// How many items the next read of a page that still needs `missing` (with one more,
    /// to know whether the list goes on) evaluates; `first`: no read was made yet.
    fn read_size(&self, missing: usize, first: bool) -> i32 {
        let missing = i32::try_from(missing).unwrap_or(i32::MAX);
        if self.filter.condition_expression().is_none() {
            missing
        } else if self.filter_is_light && first {
            missing.saturating_add(missing / LIGHT_FILTER_MARGIN + 1)
        } else {
            missing.max(FILTERED_READ_SIZE)
        }
    }

    fn key_attrs(&self) -> [&'static str; 4] {
        [keys::PK, keys::SK, self.partition_attr, self.sort_attr]
    }
}

/// One shard's read, newest first: its items by sort key, and the sort key of its last
/// evaluated item when it has more.
type ShardPage<T> = (Vec<(String, T)>, Option<String>);

/// Merges the newest-first reads of every shard into a page of at most `want` items and
/// the sort key to continue below (`None`: the list ends here).
///
/// A shard with more to read has been read down to its last evaluated key; the highest of
/// those keys is the frontier above which every shard has been read in full, so the page
/// holds only items at or above it (never skipping an unread item of a shorter read). The
/// page may then hold fewer than `want` items while the list goes on, as the API allows.
fn merge_newest_first<T>(shards: Vec<ShardPage<T>>, want: usize) -> (Vec<T>, Option<String>) {
    let frontier = shards.iter().filter_map(|(_, last)| last.clone()).max();
    let mut keyed: Vec<(String, T)> = shards.into_iter().flat_map(|(found, _)| found).collect();
    keyed.sort_by(|a, b| b.0.cmp(&a.0));
    if let Some(frontier) = &frontier {
        keyed.retain(|(key, _)| key >= frontier);
    }
    let more = keyed.len() > want || frontier.is_some();
    keyed.truncate(want);
    let below = keyed.last().filter(|_| more).map(|(key, _)| key.clone());
    (keyed.into_iter().map(|(_, item)| item).collect(), below)
}

/// The value of `sort_attr`, an index sort key, in `item`.
fn sort_key_of(item: &Item, sort_attr: &str) -> Result<String, Failure> {
    match item.get(sort_attr) {
        Some(AttributeValue::S(key)) => Ok(key.clone()),
        _ => Err(Failure::malformed("index sort key")),
    }
}

impl Table {
    /// One read of `listing` starting after `start`, evaluating at most `limit` items.
    async fn read(
        &self,
        listing: &Listing,
        start: Option<Item>,
        limit: i32,
    ) -> Result<(Vec<Item>, Option<Item>), Failure> {
        let mut key_condition = "#kp = :kp".to_owned();
        let mut request = self
            .client()
            .query()
            .table_name(self.name())
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
        } else if let Some(bound) = &listing.sort_below {
            key_condition.push_str(" AND #ks < :ks");
            request = request
                .expression_attribute_names("#ks", listing.sort_attr)
                .expression_attribute_values(":ks", AttributeValue::S(bound.clone()));
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
        if let Some(names) = listing.projection {
            let mut projection = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                let placeholder = format!("#proj{i}");
                request = request.expression_attribute_names(&placeholder, *name);
                projection.push(placeholder);
            }
            request = request.projection_expression(projection.join(", "));
        }
        let output = request
            .key_condition_expression(key_condition)
            .send()
            .await?;
        Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
    }

    /// One page of `listing`.
    pub(crate) async fn query_page(
        &self,
        listing: &Listing,
        page: &PageRequest,
    ) -> Result<Page<Item>, ListFailure> {
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
        let mut items: Vec<Item> = Vec::with_capacity(want + 1);
        for read in 0..MAX_READS_PER_PAGE {
            // Ask for one more than needed, so a full last page has no dangling cursor.
            let limit = listing.read_size(want + 1 - items.len(), read == 0);
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

    /// One page of a list sharded over `shards` (the same index, sort keys unique across
    /// them, newest first), named `list` in its cursors: one query per shard, in parallel,
    /// merged by sort key. The cursor is the sort key of the page's last item, so it does
    /// not depend on the number of shards.
    pub(crate) async fn query_sharded_page(
        &self,
        list: &str,
        shards: Vec<Listing>,
        page: &PageRequest,
    ) -> Result<Page<Item>, ListFailure> {
        let Some(sort_attr) = shards.first().map(|s| s.sort_attr) else {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let below = page
            .cursor
            .as_ref()
            .map(|c| cursor::decode_position(c, list))
            .transpose()?;
        let want = page.limit.get() as usize;
        // Each shard's share of the page plus slack: ids hash evenly over the shards, so
        // the newest `want` items are spread over them. When one shard holds more than it
        // was asked for, the frontier rule of `merge_newest_first` keeps the page exact
        // (shorter, with the cursor continuing it) instead of skipping anything.
        let per_shard = (want.div_ceil(shards.len()) + SHARD_SLACK).min(want + 1);
        let limit = i32::try_from(per_shard).unwrap_or(i32::MAX);
        let shards: Vec<Listing> = shards
            .into_iter()
            .map(|shard| match &below {
                Some(bound) => shard.below(bound.clone()),
                None => shard,
            })
            .map(Listing::newest_first)
            .collect();
        let reads =
            futures::future::try_join_all(shards.iter().map(|shard| self.read(shard, None, limit)))
                .await?;
        let mut shard_pages = Vec::with_capacity(reads.len());
        for (found, last) in reads {
            let found = found
                .into_iter()
                .map(|item| Ok((sort_key_of(&item, sort_attr)?, item)))
                .collect::<Result<Vec<_>, Failure>>()?;
            let last = last.map(|l| sort_key_of(&l, sort_attr)).transpose()?;
            shard_pages.push((found, last));
        }
        let (items, below) = merge_newest_first(shard_pages, want);
        Ok(Page {
            items,
            next_cursor: below
                .map(|key| cursor::encode_position(list, &key))
                .transpose()?,
        })
    }

    /// The first `limit` items of a list sharded over `shards` (one index), lowest sort key
    /// first.
    pub(crate) async fn query_sharded_first(
        &self,
        shards: &[Listing],
        limit: usize,
    ) -> Result<Vec<Item>, Failure> {
        let Some(sort_attr) = shards.first().map(|s| s.sort_attr) else {
            return Ok(Vec::new());
        };
        let per_shard = i32::try_from(limit).unwrap_or(i32::MAX);
        let reads = futures::future::try_join_all(
            shards.iter().map(|shard| self.read(shard, None, per_shard)),
        )
        .await?;
        let mut keyed = reads
            .into_iter()
            .flat_map(|(found, _)| found)
            .map(|item| Ok((sort_key_of(&item, sort_attr)?, item)))
            .collect::<Result<Vec<_>, Failure>>()?;
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.truncate(limit);
        Ok(keyed.into_iter().map(|(_, item)| item).collect())
    }

    /// One step of a walk down a list sharded over `shards` (one index, newest first):
    /// up to `per_shard` items evaluated in each shard, in parallel. Returns every item
    /// found and the sort key to go on below, the highest of the shards' last evaluated
    /// keys (every shard has been read in full above it; items below it that a shard
    /// returned are read again by the next step), or `None` once every shard is read to
    /// its end.
    pub(crate) async fn walk_sharded(
        &self,
        shards: Vec<Listing>,
        per_shard: usize,
    ) -> Result<(Vec<Item>, Option<String>), Failure> {
        let Some(sort_attr) = shards.first().map(|s| s.sort_attr) else {
            return Ok((Vec::new(), None));
        };
        let limit = i32::try_from(per_shard.max(1)).unwrap_or(i32::MAX);
        let shards: Vec<Listing> = shards.into_iter().map(Listing::newest_first).collect();
        let reads =
            futures::future::try_join_all(shards.iter().map(|shard| self.read(shard, None, limit)))
                .await?;
        let mut found = Vec::new();
        let mut frontier: Option<String> = None;
        for (items, last) in reads {
            found.extend(items);
            if let Some(last) = last {
                let key = sort_key_of(&last, sort_attr)?;
                if frontier.as_ref().is_none_or(|f| key > *f) {
                    frontier = Some(key);
                }
            }
        }
        Ok((found, frontier))
    }

    /// Every item of `listing`, or at most `cap + 1` when a cap is given (enough to tell
    /// that there are more than `cap`).
    pub(crate) async fn query_all(
        &self,
        listing: &Listing,
        cap: Option<usize>,
    ) -> Result<Vec<Item>, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(keys: &[&str], more: bool) -> ShardPage<String> {
        let found = keys
            .iter()
            .map(|k| ((*k).to_owned(), (*k).to_owned()))
            .collect();
        (
            found,
            more.then(|| (*keys.last().expect("a key")).to_owned()),
        )
    }

    #[test]
    fn a_read_asks_for_the_page_and_a_lightly_filtered_first_read_a_quarter_more() {
        let active = || Expr::new().when_eq("is_active", AttributeValue::Bool(true));
        let plain = Listing::gsi2("PRODUCTS", "");
        assert_eq!(
            (plain.read_size(21, true), plain.read_size(5, false)),
            (21, 5)
        );
        let light = Listing::gsi2("PRODUCTS", "").filtered_lightly(active());
        assert_eq!(light.read_size(21, true), 27);
        assert_eq!(light.read_size(4, true), 6);
        assert_eq!(light.read_size(3, false), FILTERED_READ_SIZE);
        let narrow = Listing::gsi2("PRODUCTS", "").filtered(active());
        assert_eq!(narrow.read_size(21, true), FILTERED_READ_SIZE);
        assert_eq!(narrow.read_size(500, true), 500);
    }

    #[test]
    fn shards_merge_newest_first_and_a_full_last_page_ends_the_list() {
        let (page, below) =
            merge_newest_first(vec![shard(&["9", "5"], false), shard(&["8"], false)], 3);
        assert_eq!(page, ["9", "8", "5"]);
        assert_eq!(below, None);
        let (page, below) =
            merge_newest_first(vec![shard(&["9", "5"], false), shard(&["8"], false)], 2);
        assert_eq!(page, ["9", "8"]);
        assert_eq!(below.as_deref(), Some("8"));
    }

    #[test]
    fn a_shard_cut_short_keeps_older_items_of_other_shards_for_the_next_page() {
        // Shard A stopped at 7 (1 MB read limit); its unread items are below 7, so 6 and 5
        // from shard B must wait for the next page, which continues below 7.
        let (page, below) = merge_newest_first(
            vec![shard(&["9", "7"], true), shard(&["8", "6", "5"], false)],
            4,
        );
        assert_eq!(page, ["9", "8", "7"]);
        assert_eq!(below.as_deref(), Some("7"));
    }

    #[test]
    fn no_items_is_an_empty_last_page() {
        let (page, below) = merge_newest_first::<String>(vec![(Vec::new(), None); 3], 5);
        assert!(page.is_empty());
        assert_eq!(below, None);
    }
}
