//! Timestamps are Unix milliseconds everywhere and rendered in UTC with one fixed format,
//! so the server's HTML and the browser's hydration produce identical text.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// The instant `ms` milliseconds after 1970 (`None` past what `time` represents, years
/// -9999..=9999: no timestamp Hookline writes comes near).
fn instant(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()
}

/// RFC 3339 as an instant, at full precision: `Z` or a `±hh:mm` offset, an optional
/// fraction, `T` or a space between date and time, the calendar checked. The one parser of
/// times on the wire and in filters.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    let mut text = s.trim().to_owned();
    // The `time` crate takes any byte here; RFC 3339 has `T` (any case) or a space.
    match text.as_bytes().get(10) {
        Some(b'T' | b't') => {}
        Some(b' ') => text.replace_range(10..11, "T"),
        _ => return None,
    }
    OffsetDateTime::parse(&text, &Rfc3339).ok()
}

/// `2026-11-23 01:02:03 UTC`
pub fn utc(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    instant(ms)
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("{ms} ms after 1970"))
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_395_723_000), "2026-11-23 01:02:03 UTC");
        assert_eq!(utc(-1_000), "1969-12-31 23:59:59 UTC");
    }
}

/// A point in time on the wire: RFC 3339 in UTC with milliseconds
/// (`2026-11-23T01:02:03.456Z`), held as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn rfc3339(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        instant(self.0)
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| format!("{} ms after 1970", self.0))
    }

    /// Parses RFC 3339 (`Z` or a `±hh:mm` offset, optional fraction, `T` or a space
    /// between date and time), checking the calendar: `2026-02-31` is refused, not read
    /// as 3 March. Digits past milliseconds are dropped.
    pub fn parse(s: &str) -> Result<Timestamp, String> {
        let t = parse_rfc3339(s)
            .ok_or_else(|| format!("'{s}' is not an RFC 3339 time such as 2026-11-23T01:02:03Z"))?;
        Ok(Timestamp(
            t.unix_timestamp_nanos().div_euclid(1_000_000) as i64
        ))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod timestamp_tests {
    use super::Timestamp;

    #[test]
    fn round_trips_and_offsets() {
        let t = Timestamp(1_795_395_723_456);
        assert_eq!(t.rfc3339(), "2026-11-23T01:02:03.456Z");
        assert_eq!(Timestamp::parse("2026-11-23T01:02:03.456Z"), Ok(t));
        assert_eq!(Timestamp::parse("2026-11-23T02:02:03.456+01:00"), Ok(t));
        assert_eq!(
            Timestamp::parse("2026-11-23T01:02:03Z"),
            Ok(Timestamp(1_795_395_723_000))
        );
        assert_eq!(
            Timestamp::parse("2000-02-29T00:00:00.1Z"),
            Ok(Timestamp(951_782_400_100))
        );
        assert_eq!(Timestamp::parse("2026-11-23 01:02:03.456Z"), Ok(t));
        assert_eq!(Timestamp::parse("2026-11-23t01:02:03.456z"), Ok(t));
        assert_eq!(
            Timestamp::parse("2026-11-23T01:02:03.456789Z"),
            Ok(t),
            "past milliseconds is dropped"
        );
        assert_eq!(
            Timestamp::parse("1969-12-31T23:59:59.5Z"),
            Ok(Timestamp(-500))
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-23 01:02:03",
            "2026-11-23T01:02:03+0100",
            // The calendar counts: no 31 February, no 29 February outside leap years.
            "2026-02-31T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-23T24:00:00Z",
            // Between date and time only `T`, `t` or a space.
            "2026-11-23x01:02:03Z",
            "2026-11-23_01:02:03Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?}");
        }
    }
}

#[cfg(feature = "ssr")]
mod schema {
    use super::Timestamp;
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::{RefOr, Schema};

    impl utoipa::PartialSchema for Timestamp {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("RFC 3339 time in UTC with milliseconds"))
                .examples([serde_json::json!("2026-11-23T01:02:03.456Z")])
                .into()
        }
    }

    impl utoipa::ToSchema for Timestamp {}
}
