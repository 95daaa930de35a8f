//! The fault-and-abuse suite: crashes, database outages, flaky and throttled neighbours,
//! and failing outcome writes, each against the real server, a real receiver and both
//! databases. Every scenario prints one line (accepted, delivered, lost, duplicated, worst
//! delay) and fails if an accepted event was lost.
//!
//! `make test` runs the short version; `make chaos` (`HOOKLINE_CHAOS=full`) the long one,
//! writing the lines to `HOOKLINE_CHAOS_REPORT` when set.

pub(crate) mod cluster;
mod crashes;
mod ledger;
mod neighbours;

use ledger::Tally;
use std::io::Write;
use std::time::Duration;

/// How hard to push: the short version for every `make test`, the full one for `make chaos`.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub full: bool,
}

impl Scale {
    pub fn get() -> Scale {
        Scale {
            full: std::env::var("HOOKLINE_CHAOS").is_ok_and(|v| v == "full"),
        }
    }

    pub fn pick<T>(self, short: T, full: T) -> T {
        if self.full { full } else { short }
    }
}

/// Prints the scenario's line (and appends it to the report file), then checks that
/// nothing accepted was lost.
pub fn report(scenario: &str, db: &str, t: &Tally, extra: &str) {
    let line = format!(
        "| {scenario} | {db} | {} | {} | {} | {} | {:.2} s | {extra} |",
        t.accepted,
        t.delivered,
        t.lost,
        t.duplicated,
        t.worst_delay.as_secs_f64()
    );
    println!("chaos {line}");
    if let Ok(path) = std::env::var("HOOKLINE_CHAOS_REPORT")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{line}");
    }
    assert!(t.accepted > 0, "{scenario} on {db}: nothing was accepted");
    assert_eq!(
        t.lost, 0,
        "{scenario} on {db}: accepted events were lost: {t:?}"
    );
}

pub fn db_name(backend: crate::helpers::Backend) -> &'static str {
    match backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
