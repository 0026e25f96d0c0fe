//! Instants in UTC, written as RFC 3339 strings.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a string is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 timestamp")]
pub struct InvalidTimestamp;

impl Timestamp {
    /// The current instant, truncated to milliseconds.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let millis = at.millisecond();
        Self(
            at.replace_nanosecond(u32::from(millis) * 1_000_000)
                .unwrap_or(at),
        )
    }

    pub fn parse(s: &str) -> Result<Self, InvalidTimestamp> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Self::from_datetime)
            .map_err(|_| InvalidTimestamp)
    }

    pub fn as_datetime(&self) -> OffsetDateTime {
        self.0
    }

    /// The instant `duration` later (saturating at the end of representable time).
    pub fn after(&self, duration: std::time::Duration) -> Self {
        Self::from_datetime(
            self.0
                .checked_add(duration.try_into().unwrap_or(time::Duration::MAX))
                .unwrap_or(self.0),
        )
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }
}

/// `2026-11-25T07:20:30.123Z`: always UTC, always three fractional digits, so the
/// strings sort like the instants.
const WRITTEN: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(WRITTEN) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_rfc3339_utc_and_parses_back() {
        let ts = Timestamp::parse("2026-11-25T10:20:30.123+03:00").expect("valid");
        assert_eq!(ts.to_string(), "2026-11-25T07:20:30.123Z");
        assert_eq!(Timestamp::parse(&ts.to_string()), Ok(ts));
        assert_eq!(Timestamp::parse("yesterday"), Err(InvalidTimestamp));
        let whole = Timestamp::parse("2026-11-25T07:20:30.5Z").expect("valid");
        assert_eq!(whole.to_string(), "2026-11-25T07:20:30.500Z", "fixed width");
    }
}
