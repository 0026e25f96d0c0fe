//! A product's stock split over buckets, so that the orders of a flash sale spread their
//! stock writes over several items instead of meeting on one: the arithmetic, pure.
//!
//! Invariants:
//! - A product has 1 to [`MAX_BUCKETS`] buckets; its stock is the sum of theirs, and no
//!   bucket ever holds less than nothing.
//! - Taking units for an order line takes exactly the units ordered: all from one bucket
//!   when any holds enough (chosen by the caller's random number among those that do, so
//!   concurrent orders meet on different items), else from as few buckets as possible, the
//!   fullest first. A line is refused only when the sum is short, naming what there is.
//! - Putting taken units back restores exactly what was taken, bucket by bucket.
//! - Spreading a total over the buckets, or changing it, conserves it: after a spread the
//!   buckets differ by at most one unit; a change adds to the emptiest buckets and takes
//!   from the fullest.

/// The most buckets a product's stock may be split over.
pub const MAX_BUCKETS: u8 = 32;

/// How many buckets a product's stock is split over: 1 to [`MAX_BUCKETS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BucketCount(u8);

/// Why a number is not a bucket count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to {MAX_BUCKETS}")]
pub struct InvalidBucketCount;

impl BucketCount {
    /// One bucket: the stock of every product until staff split it.
    pub const ONE: Self = Self(1);

    pub fn new(count: i64) -> Result<Self, InvalidBucketCount> {
        u8::try_from(count)
            .ok()
            .filter(|c| (1..=MAX_BUCKETS).contains(c))
            .map(Self)
            .ok_or(InvalidBucketCount)
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }

    /// The count as a byte (as stored and shown).
    pub fn as_u8(self) -> u8 {
        self.0
    }
}

/// Why units cannot be taken: the buckets together hold fewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only {available} in stock")]
pub struct ShortOfStock {
    pub available: u64,
}

/// Units taken from (or put back into) one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Portion {
    /// The bucket's number, from 0.
    pub bucket: usize,
    pub units: u32,
}

/// What each bucket holds, bucket 0 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets(Vec<u32>);

/// Why a list of units is not a product's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a product has 1 to {MAX_BUCKETS} stock buckets")]
pub struct InvalidBuckets;

impl Buckets {
    /// The buckets holding `units` (bucket 0 first).
    pub fn new(units: Vec<u32>) -> Result<Self, InvalidBuckets> {
        (1..=usize::from(MAX_BUCKETS))
            .contains(&units.len())
            .then_some(Self(units))
            .ok_or(InvalidBuckets)
    }

    /// `total` spread evenly over `count` buckets (the first ones hold the remainder).
    pub fn spread(total: u64, count: BucketCount) -> Self {
        let k = count.get() as u64;
        Self(
            (0..k)
                .map(|i| u32::try_from(total / k + u64::from(i < total % k)).unwrap_or(u32::MAX))
                .collect(),
        )
    }

    pub fn units(&self) -> &[u32] {
        &self.0
    }

    pub fn count(&self) -> BucketCount {
        BucketCount(u8::try_from(self.0.len()).unwrap_or(MAX_BUCKETS))
    }

    /// What the buckets hold together: the product's stock.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|&u| u64::from(u)).sum()
    }

    /// Where `quantity` units come from: one bucket that holds them all, picked by
    /// `random` among those that do; else the fullest buckets first, as few as possible.
    pub fn take(&self, quantity: u32, random: u64) -> Result<Vec<Portion>, ShortOfStock> {
        let whole: Vec<usize> = (0..self.0.len())
            .filter(|&i| self.0[i] >= quantity)
            .collect();
        if !whole.is_empty() {
            let pick = usize::try_from(random % whole.len() as u64).unwrap_or(0);
            return Ok(vec![Portion {
                bucket: whole[pick],
                units: quantity,
            }]);
        }
        if self.total() < u64::from(quantity) {
            return Err(ShortOfStock {
                available: self.total(),
            });
        }
        let mut fullest: Vec<usize> = (0..self.0.len()).collect();
        fullest.sort_by_key(|&i| (std::cmp::Reverse(self.0[i]), i));
        let mut missing = quantity;
        let mut portions = Vec::new();
        for bucket in fullest {
            if missing == 0 {
                break;
            }
            let units = self.0[bucket].min(missing);
            if units > 0 {
                portions.push(Portion { bucket, units });
                missing -= units;
            }
        }
        Ok(portions)
    }

    /// The buckets once `portions` are taken out (portions from [`Buckets::take`]).
    pub fn without(&self, portions: &[Portion]) -> Self {
        let mut units = self.0.clone();
        for p in portions {
            if let Some(u) = units.get_mut(p.bucket) {
                *u = u.saturating_sub(p.units);
            }
        }
        Self(units)
    }

    /// The buckets once `portions` are put back (a cancellation): into the buckets they
    /// came from, or bucket 0 when the product has fewer buckets since.
    pub fn with(&self, portions: &[Portion]) -> Self {
        let mut units = self.0.clone();
        for p in put_back_into(portions, units.len()) {
            units[p.bucket] = units[p.bucket].saturating_add(p.units);
        }
        Self(units)
    }

    /// The buckets after the stock changes by `delta`: added to the emptiest buckets,
    /// taken from the fullest (water-filling: they end as level as the change allows).
    /// Short when the stock would go below zero.
    pub fn changed_by(&self, delta: i64) -> Result<Self, ShortOfStock> {
        if i128::from(self.total()) + i128::from(delta) < 0 {
            return Err(ShortOfStock {
                available: self.total(),
            });
        }
        let units: Vec<u64> = self.0.iter().map(|&u| u64::from(u)).collect();
        let amount = delta.unsigned_abs();
        let levelled = if delta >= 0 {
            fill(&units, amount)
        } else {
            drain(&units, amount)
        };
        Ok(Self(
            levelled
                .into_iter()
                .map(|u| u32::try_from(u).unwrap_or(u32::MAX))
                .collect(),
        ))
    }

    /// The same stock spread evenly over `count` buckets (staff raising or lowering the
    /// split for a sale).
    pub fn respread(&self, count: BucketCount) -> Self {
        Self::spread(self.total(), count)
    }
}

/// Where units taken as `portions` go back when the product has `count` buckets now: each
/// into the bucket it came from, or bucket 0 (which always exists) when that one is gone;
/// one portion a bucket, lowest first.
pub fn put_back_into(portions: &[Portion], count: usize) -> Vec<Portion> {
    let mut into = std::collections::BTreeMap::<usize, u32>::new();
    for p in portions {
        let bucket = if p.bucket < count { p.bucket } else { 0 };
        let units = into.entry(bucket).or_default();
        *units = units.saturating_add(p.units);
    }
    into.into_iter()
        .map(|(bucket, units)| Portion { bucket, units })
        .collect()
}

/// `units` with `amount` added: every bucket below the level `L` raised to it (the highest
/// level `amount` reaches), the rest one each to the first buckets at `L`.
fn fill(units: &[u64], amount: u64) -> Vec<u64> {
    let below = |level: u64| -> u64 { units.iter().map(|&u| level.saturating_sub(u)).sum() };
    let (mut lo, mut hi) = (0u64, units.iter().max().copied().unwrap_or(0) + amount);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if below(mid) <= amount {
            lo = mid
        } else {
            hi = mid - 1
        }
    }
    let mut out: Vec<u64> = units.iter().map(|&u| u.max(lo)).collect();
    let mut rest = amount - below(lo);
    for u in out.iter_mut().filter(|u| **u == lo) {
        if rest == 0 {
            break;
        }
        *u += 1;
        rest -= 1;
    }
    out
}

/// `units` with `amount` taken (at most their sum): every bucket above the level `L`
/// lowered to it (the lowest level `amount` reaches), the rest one each from the first
/// buckets at `L`.
fn drain(units: &[u64], amount: u64) -> Vec<u64> {
    let above = |level: u64| -> u64 { units.iter().map(|&u| u.saturating_sub(level)).sum() };
    let (mut lo, mut hi) = (0u64, units.iter().max().copied().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if above(mid) <= amount {
            hi = mid
        } else {
            lo = mid + 1
        }
    }
    let mut out: Vec<u64> = units.iter().map(|&u| u.min(lo)).collect();
    let mut rest = amount - above(lo);
    for u in out.iter_mut().filter(|u| **u == lo && lo > 0) {
        if rest == 0 {
            break;
        }
        *u -= 1;
        rest -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn units_go_back_to_their_bucket_or_to_bucket_0_once_it_is_gone() {
        let portions = [
            Portion {
                bucket: 2,
                units: 3,
            },
            Portion {
                bucket: 0,
                units: 1,
            },
            Portion {
                bucket: 1,
                units: 2,
            },
        ];
        assert_eq!(put_back_into(&portions, 3), {
            let mut sorted = portions.to_vec();
            sorted.sort_by_key(|p| p.bucket);
            sorted
        });
        assert_eq!(
            put_back_into(&portions, 1),
            [Portion {
                bucket: 0,
                units: 6
            }]
        );
    }

    use proptest::prelude::*;

    use super::*;

    fn buckets(units: &[u32]) -> Buckets {
        Buckets::new(units.to_vec()).expect("buckets")
    }

    #[test]
    fn bucket_counts_are_one_to_thirty_two() {
        assert!(BucketCount::new(0).is_err());
        assert!(BucketCount::new(33).is_err());
        assert_eq!(BucketCount::new(16).map(BucketCount::get), Ok(16));
        assert!(Buckets::new(Vec::new()).is_err());
        assert!(Buckets::new(vec![0; 33]).is_err());
    }

    #[test]
    fn a_line_no_bucket_holds_is_taken_from_several_and_refused_only_when_the_sum_is_short() {
        let b = buckets(&[3, 3, 3]);
        let taken = b.take(7, 0).expect("the sum holds 9");
        assert_eq!(taken.iter().map(|p| p.units).sum::<u32>(), 7);
        assert_eq!(taken.len(), 3);
        assert_eq!(b.without(&taken).total(), 2);
        assert_eq!(b.take(10, 0), Err(ShortOfStock { available: 9 }));
    }

    #[test]
    fn a_line_one_bucket_holds_is_taken_from_one_chosen_among_those_that_hold_it() {
        let b = buckets(&[5, 1, 5, 0]);
        let chosen: std::collections::BTreeSet<usize> = (0..8)
            .map(|r| {
                let taken = b.take(4, r).expect("in stock");
                assert_eq!(taken.len(), 1);
                taken[0].bucket
            })
            .collect();
        assert_eq!(chosen, [0, 2].into_iter().collect());
    }

    #[test]
    fn a_change_fills_the_emptiest_buckets_and_drains_the_fullest() {
        let b = buckets(&[5, 0, 2]);
        assert_eq!(b.changed_by(4).expect("added").units(), &[5, 3, 3]);
        assert_eq!(b.changed_by(-4).expect("taken").units(), &[1, 0, 2]);
        assert_eq!(b.changed_by(-7).expect("all").units(), &[0, 0, 0]);
        assert_eq!(b.changed_by(-8), Err(ShortOfStock { available: 7 }));
    }

    #[test]
    fn a_spread_differs_by_at_most_one_unit() {
        assert_eq!(
            Buckets::spread(10, BucketCount::new(4).expect("4")).units(),
            &[3, 3, 2, 2]
        );
        assert_eq!(Buckets::spread(0, BucketCount::ONE).units(), &[0]);
    }

    fn any_buckets() -> impl Strategy<Value = Buckets> {
        prop::collection::vec(0u32..2_000, 1..=32).prop_map(Buckets)
    }

    proptest! {
        #[test]
        fn taking_takes_exactly_the_units_ordered_or_refuses_with_the_sum(
            b in any_buckets(), quantity in 1u32..10_000, random in any::<u64>(),
        ) {
            match b.take(quantity, random) {
                Ok(portions) => {
                    prop_assert_eq!(portions.iter().map(|p| u64::from(p.units)).sum::<u64>(), u64::from(quantity));
                    for p in &portions {
                        prop_assert!(p.units > 0 && p.units <= b.units()[p.bucket]);
                    }
                    let mut seen: Vec<usize> = portions.iter().map(|p| p.bucket).collect();
                    seen.sort_unstable();
                    seen.dedup();
                    prop_assert_eq!(seen.len(), portions.len(), "a bucket at most once");
                    if b.units().iter().any(|&u| u >= quantity) {
                        prop_assert_eq!(portions.len(), 1, "one bucket when one holds it");
                    }
                    let after = b.without(&portions);
                    prop_assert_eq!(after.total() + u64::from(quantity), b.total());
                    prop_assert_eq!(after.with(&portions), b.clone(), "cancelling restores");
                }
                Err(short) => {
                    prop_assert!(b.total() < u64::from(quantity));
                    prop_assert_eq!(short.available, b.total());
                }
            }
        }

        #[test]
        fn changes_and_spreads_conserve_the_total(
            b in any_buckets(), delta in -70_000i64..70_000, k in 1i64..=32,
        ) {
            match b.changed_by(delta) {
                Ok(after) => {
                    prop_assert_eq!(i128::from(after.total()), i128::from(b.total()) + i128::from(delta));
                    prop_assert_eq!(after.count(), b.count());
                }
                Err(short) => {
                    prop_assert!(i128::from(b.total()) + i128::from(delta) < 0);
                    prop_assert_eq!(short.available, b.total());
                }
            }
            let spread = b.respread(BucketCount::new(k).expect("1..=32"));
            prop_assert_eq!(spread.total(), b.total());
            prop_assert_eq!(spread.units().len(), k as usize);
            let (lo, hi) = (spread.units().iter().min(), spread.units().iter().max());
            prop_assert!(hi.zip(lo).is_some_and(|(h, l)| h - l <= 1));
        }
    }
}
