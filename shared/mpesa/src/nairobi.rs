//! Daraja's timestamps: `YYYYMMDDHHmmss` in Nairobi time.
//!
//! Invariants:
//! - Nairobi is UTC+3 all year (no daylight saving), whatever the machine's zone: Lambda
//!   runs in UTC, so the offset is applied here, never taken from the environment.
//! - A written timestamp is always 14 ASCII digits and reads back as the same instant
//!   (to the second); reading accepts exactly 14 digits naming a real date and time.

use time::macros::offset;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// East Africa Time, UTC+3.
pub const NAIROBI: UtcOffset = offset!(+3);

/// `at` in Nairobi time as Daraja writes it: `2026-12-06T22:30:00Z` → `"20261207013000"`.
///
/// Instants whose Nairobi time would lie past the year 9999 are written as the last
/// second of 9999 (they cannot occur on a working clock).
pub fn nairobi_timestamp(at: OffsetDateTime) -> String {
    let local = at
        .checked_to_offset(NAIROBI)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_offset(NAIROBI));
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// The instant of a Daraja timestamp (14 digits, Nairobi time), or `None` when it is
/// not one.
pub fn parse_nairobi_timestamp(text: &str) -> Option<OffsetDateTime> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| text.get(range)?.parse::<u16>().ok();
    let year = i32::from(field(0..4)?);
    let month = Month::try_from(u8::try_from(field(4..6)?).ok()?).ok()?;
    let day = u8::try_from(field(6..8)?).ok()?;
    let hour = u8::try_from(field(8..10)?).ok()?;
    let minute = u8::try_from(field(10..12)?).ok()?;
    let second = u8::try_from(field(12..14)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(NAIROBI))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn timestamps_are_nairobi_time() {
        for (at, written) in [
            (datetime!(2026-12-06 22:30:00 UTC), "20261207013000"),
            (datetime!(2019-12-19 07:21:15 UTC), "20191219102115"),
            (datetime!(2026-01-01 00:00:00 UTC), "20260101030000"),
            (datetime!(2026-06-15 12:00:00 +3), "20260615120000"),
        ] {
            assert_eq!(nairobi_timestamp(at), written, "{at}");
        }
    }

    #[test]
    fn the_day_rolls_over_at_21_utc() {
        assert_eq!(
            nairobi_timestamp(datetime!(2026-03-31 20:59:59 UTC)),
            "20260331235959"
        );
        assert_eq!(
            nairobi_timestamp(datetime!(2026-03-31 21:00:00 UTC)),
            "20260401000000"
        );
        // Month, year and leap-day boundaries.
        assert_eq!(
            nairobi_timestamp(datetime!(2026-12-31 21:00:00 UTC)),
            "20270101000000"
        );
        assert_eq!(
            nairobi_timestamp(datetime!(2028-02-28 21:30:00 UTC)),
            "20280229003000"
        );
    }

    #[test]
    fn timestamps_read_back_as_instants() {
        assert_eq!(
            parse_nairobi_timestamp("20191219102115"),
            Some(datetime!(2019-12-19 07:21:15 UTC))
        );
        for bad in [
            "",
            "2019121910211",
            "201912191021155",
            "2019121910211x",
            "20191319102115", // month 13
            "20190230102115", // 30 February
            "20191219242115", // hour 24
            "20191219106015", // minute 60
            "+0191219102115",
            " 20191219102115",
        ] {
            assert_eq!(parse_nairobi_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_far_future_is_clamped_not_a_panic() {
        let last = PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(nairobi_timestamp(last), "99991231235959");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Unix seconds up to the last instant whose Nairobi time is still in 9999.
    const LAST: i64 = 253_402_300_799 - 3 * 3600;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Always 14 digits; the same fields as UTC three hours later; reads back.
        #[test]
        fn timestamps_are_utc_plus_three(seconds in prop_oneof![0_i64..=4_102_444_800, 0..=LAST]) {
            let at = OffsetDateTime::from_unix_timestamp(seconds).expect("in range");
            let written = nairobi_timestamp(at);
            prop_assert_eq!(written.len(), 14);
            prop_assert!(written.bytes().all(|b| b.is_ascii_digit()), "{}", written);
            let later = at + time::Duration::hours(3);
            let expected = format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                later.year(), u8::from(later.month()), later.day(),
                later.hour(), later.minute(), later.second()
            );
            prop_assert_eq!(&written, &expected);
            prop_assert_eq!(parse_nairobi_timestamp(&written), Some(at));
        }

        /// Any text at all: never a panic, and what is read is written back the same.
        #[test]
        fn any_text_reads_or_is_refused(text in prop_oneof!["[0-9]{14}", any::<String>()]) {
            if let Some(at) = parse_nairobi_timestamp(&text) {
                prop_assert_eq!(nairobi_timestamp(at), text);
            }
        }
    }
}
