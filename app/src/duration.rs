//! Human durations (`500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`) for config and, later,
//! retry schedules. Shared, so the dashboard validates exactly as the server does.

use std::time::Duration;

pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("empty duration: expected e.g. 30s, 5m, 2h, 1d".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "'{input}': expected a number before each unit, e.g. 30s"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("'{input}': number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            "" => return Err(format!("'{input}': missing unit (ms, s, m, h or d)")),
            other => {
                return Err(format!(
                    "'{input}': unknown unit '{other}' (use ms, s, m, h or d)"
                ));
            }
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

/// Whole seconds as the shortest exact form `parse` reads back: `90s`, `5m`, `2h`, `1d`.
pub fn format_secs(secs: i64) -> String {
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::{format_secs, parse};

    #[test]
    fn whole_seconds_print_in_their_shortest_unit() {
        for (secs, text) in [
            (90, "90s"),
            (300, "5m"),
            (7200, "2h"),
            (86_400, "1d"),
            (0, "0s"),
        ] {
            assert_eq!(format_secs(secs), text);
            assert_eq!(parse(text).unwrap().as_secs() as i64, secs);
        }
    }
    use std::time::Duration;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse(" 1d "), Ok(Duration::from_secs(86_400)));
        for bad in ["", "5", "m", "5x", "1.5h", "-1s"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
