//! ISO 8601 timestamps that keep the client's own spelling.
//!
//! Client dates (`createDate`, `shipOnDate`, ...) are echoed exactly as sent, offset included, so
//! a client comparing what it sent with what it reads back sees no difference. Search and sort use
//! the UTC instant.

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoDate {
    text: String,
    instant: DateTime<Utc>,
}

impl IsoDate {
    /// Accepts RFC 3339 (`2022-02-07T01:20:00Z`, `2022-01-06T07:03:09-07:00`, fractions allowed).
    pub fn parse(text: &str) -> Result<Self, String> {
        DateTime::<FixedOffset>::parse_from_rfc3339(text)
            .map(|d| IsoDate {
                text: text.to_string(),
                instant: d.with_timezone(&Utc),
            })
            .map_err(|_| {
                format!(
                    "'{text}' is not an ISO 8601 date-time with an offset (YYYY-MM-DDThh:mm:ssZ)"
                )
            })
    }

    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Serialize for IsoDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        IsoDate::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A bound of a date range in a search: a full date-time, or a bare date meaning the whole day
/// (`end_of_day` picks the last instant of that day for an upper bound).
pub fn parse_search_bound(text: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = IsoDate::parse(text) {
        return Ok(d.instant());
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not an ISO 8601 date or date-time"))?;
    let t = if end_of_day {
        day.and_hms_micro_opt(23, 59, 59, 999_999)
    } else {
        day.and_hms_opt(0, 0, 0)
    };
    Ok(t.expect("valid time of day").and_utc())
}

/// The server's own timestamps: UTC, whole seconds, `Z` (`YYYY-MM-DDThh:mm:ssZ`, the documents'
/// format). Truncated when taken, not only when shown, so that what a backend stores, sorts and
/// filters on is what the client was shown: a search up to a `pbCreateDate` a client read finds
/// that order.
pub fn now_whole_seconds() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("current time in range")
}

/// A server timestamp as both APIs show it; a stored sub-second part (orders written before
/// timestamps were whole seconds) is dropped.
pub fn format_utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Serde helper for server timestamps stored in the canonical document.
pub mod utc_seconds {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_utc(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_offset_as_sent() {
        let d = IsoDate::parse("2022-01-06T07:03:09-07:00").unwrap();
        assert_eq!(d.as_str(), "2022-01-06T07:03:09-07:00");
        assert_eq!(format_utc(&d.instant()), "2022-01-06T14:03:09Z");
    }

    #[test]
    fn rejects_dates_without_offset_and_nonsense() {
        assert!(IsoDate::parse("2022-01-06T07:03:09").is_err());
        assert!(IsoDate::parse("yesterday").is_err());
        assert!(IsoDate::parse("2022-02-07T14:33:27-07:00Z").is_err());
    }

    #[test]
    fn server_time_is_whole_seconds() {
        let now = now_whole_seconds();
        assert_eq!(now.timestamp_subsec_nanos(), 0);
        let shown = format_utc(&now);
        assert_eq!(shown.len(), "2026-12-04T22:32:06Z".len(), "{shown}");
        let legacy = DateTime::from_timestamp_millis(1_796_423_526_647).unwrap();
        assert_eq!(format_utc(&legacy), "2026-12-04T22:32:06Z");
    }

    #[test]
    fn bare_dates_cover_the_whole_day_in_searches() {
        let from = parse_search_bound("2024-03-01", false).unwrap();
        let to = parse_search_bound("2024-03-01", true).unwrap();
        assert_eq!(format_utc(&from), "2024-03-01T00:00:00Z");
        assert!(to > from && to.date_naive() == from.date_naive());
    }
}
