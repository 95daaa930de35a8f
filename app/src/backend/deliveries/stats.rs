//! Delivery metrics for the dashboard's charts, from the attempt log: per time slice the
//! attempts, successes and latency (percentiles from a fixed set of latency bands, so the
//! database does the counting on both backends), plus the queue as it stands.

use crate::backend::{Actor, Db, now_ms};
use crate::error::AppResult;
use crate::time_fmt::Timestamp;
use crate::types::Role;
use crate::types::events::{EndpointHealth, StatsBucket, StatsView};
use crate::with_db;

/// Upper bounds (ms) of the latency bands; the last band is open.
const BANDS: [i64; 12] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
];

/// The windows offered, with their slice length.
pub fn window(name: &str) -> Option<(i64, i64)> {
    match name {
        "1h" => Some((3_600_000, 300_000)),
        "24h" => Some((86_400_000, 3_600_000)),
        _ => None,
    }
}

/// enabled, disabled_reason, consecutive_failures, failing_since, last success, last failure.
type HealthRow = (
    bool,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

#[derive(Clone)]
pub struct Stats {
    db: Db,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    attempts: i64,
    succeeded: i64,
    duration: i64,
    bands: [i64; BANDS.len() + 1],
}

impl Acc {
    fn bucket(&self, start: i64) -> StatsBucket {
        let pct = |p: f64| -> Option<i64> {
            if self.attempts == 0 {
                return None;
            }
            let want = (self.attempts as f64 * p).ceil() as i64;
            let mut seen = 0;
            for (i, n) in self.bands.iter().enumerate() {
                seen += n;
                if seen >= want {
                    return Some(BANDS.get(i).copied().unwrap_or(i64::MAX));
                }
            }
            None
        };
        StatsBucket {
            start: Timestamp(start),
            attempts: self.attempts,
            succeeded: self.succeeded,
            failed: self.attempts - self.succeeded,
            avg_ms: (self.attempts > 0).then(|| self.duration as f64 / self.attempts as f64),
            p50_ms: pct(0.5),
            p95_ms: pct(0.95),
        }
    }
}

impl Stats {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn get(
        &self,
        actor: &Actor,
        endpoint: Option<&str>,
        window_name: &str,
    ) -> AppResult<StatsView> {
        actor.require(Role::Viewer)?;
        let (span, slice) = window(window_name)
            .ok_or_else(|| crate::error::AppError::invalid("window", "must be 1h or 24h"))?;
        let now = now_ms();
        // Slices end at the next slice boundary, so they stay put between refreshes.
        let end = (now / slice + 1) * slice;
        let since = end - span;
        let mut band_sql = String::from("CASE");
        for (i, upper) in BANDS.iter().enumerate() {
            band_sql.push_str(&format!(" WHEN a.duration_ms <= {upper} THEN {i}"));
        }
        band_sql.push_str(&format!(" ELSE {} END", BANDS.len()));
        let sql = format!(
            "SELECT CAST((a.started_at - $1) / $2 AS BIGINT) AS slice, CAST({band_sql} AS BIGINT) AS band, \
             CAST(COUNT(*) AS BIGINT), \
             CAST(SUM(CASE WHEN a.response_status >= 200 AND a.response_status < 300 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(a.duration_ms) AS BIGINT) \
             FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.started_at >= $1 AND ($3 IS NULL OR d.endpoint_id = $3) GROUP BY 1, 2"
        );
        let rows: Vec<(i64, i64, i64, i64, i64)> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(since)
            .bind(slice)
            .bind(endpoint)
            .fetch_all(pool)
            .await)?;
        let slices = (span / slice) as usize;
        let mut accs = vec![Acc::default(); slices];
        let mut total = Acc::default();
        for (s, band, n, ok, duration) in rows {
            let band = band.clamp(0, BANDS.len() as i64) as usize;
            for acc in [accs.get_mut(s as usize), Some(&mut total)]
                .into_iter()
                .flatten()
            {
                acc.attempts += n;
                acc.succeeded += ok;
                acc.duration += duration;
                acc.bands[band] += n;
            }
        }
        // One count per status, each read from the partial index that holds it; the retries
        // also count finished deliveries that needed more than one attempt in the window.
        use super::by_index::{DEAD, FAILED, OPEN};
        const OF: &str = "($2 IS NULL OR endpoint_id = $2)";
        let counts = format!(
            "SELECT (SELECT COUNT(*) FROM deliveries WHERE {FAILED} AND {OF}) \
             + (SELECT COUNT(*) FROM deliveries WHERE updated_at >= $1 AND attempts > 1 AND status <> 'failed' AND {OF}), \
             (SELECT COUNT(*) FROM deliveries WHERE {OPEN} AND {OF}), \
             (SELECT COUNT(*) FROM deliveries WHERE status = 'in_flight' AND {OF}), \
             (SELECT COUNT(*) FROM deliveries WHERE {DEAD} AND {OF})"
        );
        let (retries, queue_depth, in_flight, dead_letters): (i64, i64, i64, i64) =
            with_db!(&self.db, |pool| {
                sqlx::query_as(&counts)
                    .bind(since)
                    .bind(endpoint)
                    .fetch_one(pool)
                    .await
            })?;
        let health = match endpoint {
            None => None,
            Some(id) => {
                let row: Option<HealthRow> = with_db!(&self.db, |pool| {
                    sqlx::query_as(
                        "SELECT enabled, disabled_reason, consecutive_failures, failing_since, last_success_at, \
                         last_failure_at FROM endpoints WHERE id = $1 AND deleted_at IS NULL"
                    )
                    .bind(id)
                    .fetch_optional(pool)
                    .await
                })?;
                let (
                    enabled,
                    disabled_reason,
                    consecutive_failures,
                    failing_since,
                    ok_at,
                    failed_at,
                ) =
                    row.ok_or_else(|| crate::error::AppError::NotFound(format!("endpoint {id}")))?;
                Some(EndpointHealth {
                    enabled,
                    disabled_reason,
                    consecutive_failures,
                    failing_since: failing_since.map(Timestamp),
                    last_success_at: ok_at.map(Timestamp),
                    last_failure_at: failed_at.map(Timestamp),
                })
            }
        };
        Ok(StatsView {
            window: window_name.to_owned(),
            bucket_ms: slice,
            buckets: accs
                .iter()
                .enumerate()
                .map(|(i, a)| a.bucket(since + i as i64 * slice))
                .collect(),
            total: total.bucket(since),
            retries,
            queue_depth,
            in_flight,
            dead_letters,
            health,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_bands() {
        let mut a = Acc {
            attempts: 20,
            succeeded: 19,
            duration: 20 * 30,
            ..Default::default()
        };
        a.bands[2] = 10; // <= 25 ms
        a.bands[3] = 9; // <= 50 ms
        a.bands[7] = 1; // <= 1 s
        let b = a.bucket(0);
        assert_eq!(b.p50_ms, Some(25));
        assert_eq!(b.p95_ms, Some(50));
        assert_eq!(b.failed, 1);
        assert_eq!(b.avg_ms, Some(30.0));
        assert_eq!(Acc::default().bucket(0).p95_ms, None);
    }
}
