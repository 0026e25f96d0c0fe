//! How often, and after which pause, a write is tried again when a concurrent write got in
//! its way: one policy for every adapter.
//!
//! Every retry of the system, and where it lives (each decides one thing, none retries
//! what another already retried):
//! - the AWS SDK (shared/bootstrap `aws.rs`): one request, 3 attempts, for transport
//!   failures and throttling; what is still failing is a 503 with `Retry-After`;
//! - here, storage: a transaction cancelled for a `TransactionConflict` (the same items,
//!   sent again, [`CONFLICT_TRIES`]: status changes; an order's placement goes back to
//!   the service, which holds off with [`contention_pause`] and draws its stock buckets
//!   again, `Race::Contended`), and a
//!   read-then-write whose read went stale ([`StaleReads`]: product updates);
//! - the orders service (shared/domain `order/service.rs`, `Race::retries`): placing an
//!   order that lost a race to another request — a price changed (priced once more), the
//!   stock moved (placed again, 3×), the order number was taken (a new one, 3×). Those are
//!   business outcomes the transaction's conditions report, not conflicts: the service
//!   reads and prices again, then sends a new transaction (which storage may in turn
//!   retry on a conflict);
//! - signing in (shared/domain `customer_use_cases.rs`): a second round finds the customer
//!   a concurrent first sign-in registered;
//! - the notifier (functions/notifier) and the reconciler: messages redelivered by SQS
//!   with their own backoff, and confirmations re-sent until acknowledged.
//!
//! Two cases here, one backoff (full jitter under a doubling ceiling, so racing writers
//! spread out instead of colliding again in step):
//! - DynamoDB cancelled a transaction for a conflicting concurrent transaction
//!   (`TransactionConflict`): the same transaction is sent again, [`CONFLICT_TRIES`] in all;
//! - a read-then-write found its read stale (its condition failed because the item changed
//!   in between): the caller reads again and rebuilds the write, for up to
//!   [`STALE_READ_BUDGET`] ([`StaleReads`]). Admin writes record before/after values, so
//!   they must start from the item as it is; each race has one winner, so many staff (or a
//!   script) changing one product's stock at once need many rounds: a time budget lets the
//!   unlucky ones through where a small count of tries would refuse them, and the doubling
//!   pauses thin the crowd so the table is not flooded with doomed tries. What is still
//!   refused after the budget is a 409 the client may retry.

use std::time::Duration;

use rand_core::RngCore;

use crate::table::Table;
use crate::txn::{Transaction, TxnError};

/// Tries of a transaction that DynamoDB cancels for a conflicting concurrent transaction
/// on the same items.
pub(crate) const CONFLICT_TRIES: u32 = 4;

/// How long a read-then-write keeps starting again after stale reads: well inside the
/// API functions' 10-second timeout.
pub(crate) const STALE_READ_BUDGET: Duration = Duration::from_secs(5);

/// The first retry's pause ceiling; it doubles with each further retry, up to
/// [`MAX_BACKOFF`].
const CONFLICT_BACKOFF: Duration = Duration::from_millis(25);

/// The largest pause ceiling.
const MAX_BACKOFF: Duration = Duration::from_millis(800);

/// Runs a transaction, retrying after a jittered, growing pause while DynamoDB cancels
/// it for conflicting with a concurrent transaction.
pub(crate) async fn execute_retrying_conflicts(
    table: &Table,
    items: Transaction,
) -> Result<(), TxnError> {
    let mut attempt = 0;
    loop {
        match table.transact(items.clone()).await {
            Err(err) if err.conflicted() && attempt + 1 < CONFLICT_TRIES => {
                attempt += 1;
                tokio::time::sleep(conflict_pause(attempt, rand_core::OsRng.next_u32())).await;
            }
            other => return other,
        }
    }
}

/// The pause after an order's transaction met others on a stock bucket `times` times,
/// before the service draws the buckets again: jittered under a ceiling that doubles from
/// 25 ms up to [`CONTENTION_MAX_BACKOFF`] (the service draws again for up to its
/// contention budget, 5 s).
pub(crate) async fn contention_pause(times: u32) {
    let pause = conflict_pause(times.min(CONTENTION_DOUBLINGS), rand_core::OsRng.next_u32());
    tokio::time::sleep(pause.min(CONTENTION_MAX_BACKOFF)).await;
}

/// How often the ceiling of the pause between two draws doubles: 25 ms · 2⁴ = 400 ms,
/// [`CONTENTION_MAX_BACKOFF`].
const CONTENTION_DOUBLINGS: u32 = 5;

/// The longest pause between two draws of an order's stock buckets.
const CONTENTION_MAX_BACKOFF: Duration = Duration::from_millis(400);

/// The tries of one read-then-write: [`StaleReads::again`] before every try but the first.
#[derive(Debug)]
pub(crate) struct StaleReads {
    deadline: tokio::time::Instant,
    attempt: u32,
}

impl StaleReads {
    pub fn new() -> Self {
        Self {
            deadline: tokio::time::Instant::now() + STALE_READ_BUDGET,
            attempt: 0,
        }
    }

    /// Whether to try (again): always the first time; later only while the budget lasts,
    /// after a jittered pause under a doubling ceiling (at most [`MAX_BACKOFF`]).
    pub async fn again(&mut self) -> bool {
        self.attempt += 1;
        if self.attempt == 1 {
            return true;
        }
        if tokio::time::Instant::now() >= self.deadline {
            return false;
        }
        let pause = conflict_pause(self.attempt - 1, rand_core::OsRng.next_u32());
        tokio::time::sleep(pause).await;
        true
    }
}

/// The pause before retry `attempt` (1, 2, …), from a random draw `roll`: evenly below
/// `CONFLICT_BACKOFF · 2^(attempt-1)`, at most [`MAX_BACKOFF`].
fn conflict_pause(attempt: u32, roll: u32) -> Duration {
    let ceiling = CONFLICT_BACKOFF
        .saturating_mul(2_u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_BACKOFF);
    let nanos = ceiling.as_nanos().saturating_mul(u128::from(roll)) >> 32;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_pauses_are_jittered_below_a_doubling_ceiling() {
        assert_eq!(conflict_pause(1, 0), Duration::ZERO);
        assert!(conflict_pause(1, u32::MAX) < CONFLICT_BACKOFF);
        assert!(conflict_pause(2, u32::MAX) > CONFLICT_BACKOFF);
        assert!(conflict_pause(2, u32::MAX) < CONFLICT_BACKOFF * 2);
        assert!(conflict_pause(3, u32::MAX) < CONFLICT_BACKOFF * 4);
        let half = conflict_pause(3, u32::MAX / 2);
        assert!(
            half.abs_diff(CONFLICT_BACKOFF * 2) < Duration::from_millis(1),
            "{half:?}"
        );
    }

    #[test]
    fn pauses_between_draws_stay_below_their_own_ceiling() {
        let ceiling = conflict_pause(CONTENTION_DOUBLINGS, u32::MAX);
        assert!(ceiling < CONTENTION_MAX_BACKOFF);
        assert!(ceiling > CONTENTION_MAX_BACKOFF / 2);
    }

    #[test]
    fn the_ceiling_stops_doubling_at_the_largest_pause() {
        assert!(conflict_pause(10, u32::MAX) < MAX_BACKOFF);
        assert!(conflict_pause(40, u32::MAX) < MAX_BACKOFF);
    }

    #[tokio::test(start_paused = true)]
    async fn stale_reads_are_retried_until_the_budget_is_spent() {
        let mut tries = StaleReads::new();
        let start = tokio::time::Instant::now();
        let mut count = 0;
        while tries.again().await {
            count += 1;
        }
        // The clock is paused and advanced by the pauses alone: each below MAX_BACKOFF.
        let floor = STALE_READ_BUDGET.as_millis() / MAX_BACKOFF.as_millis();
        assert!(count > usize::try_from(floor).unwrap_or(0), "{count}");
        assert!(start.elapsed() >= STALE_READ_BUDGET);
        assert!(start.elapsed() < STALE_READ_BUDGET + MAX_BACKOFF);
    }
}
