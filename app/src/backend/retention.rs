//! Retention: events older than the retention, with their deliveries and attempts, and the
//! sources' inbound log entries, are
//! purged in the background in small batches, so the single SQLite writer is never held for
//! long. Only finished work is purged: an event with a delivery still pending or retrying
//! stays, however old, because every accepted event is delivered or visibly dead-lettered.

use super::{Db, now_ms};
use crate::with_db;
use std::time::Duration;

pub const BATCH: i64 = 1000;
const FINISHED: &str = "('succeeded', 'dead', 'cancelled')";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub attempts: u64,
    pub deliveries: u64,
    pub events: u64,
    /// Entries of the sources' inbound logs.
    pub inbound_requests: u64,
}

/// Removes what is older than `cutoff_ms`, a batch at a time, until nothing is left.
pub async fn purge_before(db: &Db, cutoff_ms: i64) -> Result<Purged, sqlx::Error> {
    let mut total = Purged::default();
    let old_finished = format!(
        "SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE e.created_at < $1 AND d.status IN {FINISHED} \
         AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.event_id = e.id AND o.status NOT IN {FINISHED}) LIMIT $2"
    );
    let attempts_sql = format!("DELETE FROM attempts WHERE delivery_id IN ({old_finished})");
    let deliveries_sql = format!(
        "DELETE FROM deliveries WHERE id IN ({old_finished}) \
         AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = deliveries.id)"
    );
    let events_sql = "DELETE FROM events WHERE id IN (SELECT e.id FROM events e WHERE e.created_at < $1 \
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2)";
    let inbound_sql = "DELETE FROM inbound_requests WHERE id IN (SELECT id FROM inbound_requests \
                       WHERE received_at < $1 LIMIT $2)";
    for (sql, slot) in [
        (attempts_sql.as_str(), 0),
        (deliveries_sql.as_str(), 1),
        (events_sql, 2),
        (inbound_sql, 3),
    ] {
        loop {
            let n = with_db!(db, |pool| sqlx::query(sql)
                .bind(cutoff_ms)
                .bind(BATCH)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
            match slot {
                0 => total.attempts += n,
                1 => total.deliveries += n,
                2 => total.events += n,
                _ => total.inbound_requests += n,
            }
            if (n as i64) < BATCH {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    with_db!(db, |pool| sqlx::query(
        "DELETE FROM idempotency_keys WHERE expires_at <= $1"
    )
    .bind(now_ms())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(total)
}
