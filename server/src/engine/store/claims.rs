//! Claiming due deliveries. Two kinds of claim, so that no endpoint's backlog or limit holds
//! up the others:
//! - **open** endpoints (no rate or concurrency limit) share one statement per round, which
//!   skips endpoints the engine says are saturated and takes at most a given number per
//!   endpoint, in round-robin order over the oldest due work. SQLite reads the due rows in
//!   time order from an index that carries the endpoint, so skipped rows cost an index
//!   entry each; Postgres, when anything is skipped, asks each open endpoint for its own
//!   oldest work instead, so a skipped endpoint's backlog costs nothing however deep;
//! - **limited** endpoints are claimed one at a time, inside a transaction that holds the
//!   endpoint's budget row: the token bucket is refilled and spent there and the in-flight
//!   count is read there, so every node sharing the database obeys the same limit, and
//!   nothing is claimed that may not be sent at once.

use super::unsynced::Unsynced;
use super::{Claimed, EngineStore, skip_locked};
use app::backend::{Db, now_ms};
use app::with_db;
use std::time::Duration;

/// Skips FIFO deliveries whose predecessor is still open (`d` is the candidate).
const FIFO_READY: &str = " AND (d.ordered = FALSE OR NOT EXISTS ( \
     SELECT 1 FROM deliveries p \
     WHERE p.endpoint_id = d.endpoint_id AND p.ordered = TRUE \
       AND p.status IN ('pending', 'failed', 'in_flight') \
       AND (p.created_at < d.created_at OR (p.created_at = d.created_at AND p.id < d.id))))";

const RETURNING: &str = " RETURNING id, event_id, endpoint_id, attempts, lease_token, test_fire";

/// Runs an open claim on a connection whose commit does not wait for the disk (see
/// [`super::unsynced`]), then commits it (or, if the claim failed, rolls it back; SQLite's
/// connection is put back either way) and answers the claim's rows or error.
///
/// `$fixed`: the statement has the same text whatever the round (no per-endpoint lists), so
/// it is prepared once per connection and its plan reused; the others are parsed each time
/// rather than filling the statement cache with one variant per list length.
macro_rules! claim_commit {
    ($pool:ident, $q:ident, $fixed:expr) => {{
        let mut conn = $pool.unsynced().await?;
        let rows = $q
            .build_query_as()
            .persistent($fixed)
            .fetch_all(conn.conn())
            .await;
        conn.done(rows.is_ok()).await?;
        rows
    }};
}

/// One round's claim over the open endpoints.
#[derive(Debug, Default)]
pub struct OpenClaim {
    pub limit: usize,
    /// How many of the oldest due rows the round looks at (a multiple of `limit`).
    pub scan: usize,
    /// Endpoints not to take from: limited ones (claimed apart) and saturated ones.
    pub exclude: Vec<String>,
    /// At most this many for these endpoints (their remaining share)...
    pub caps: Vec<(String, usize)>,
    /// ...and this many for any other.
    pub default_cap: usize,
    /// Every open endpoint with room, and how many it may take: on Postgres, when some
    /// endpoints are skipped, the round asks each of these for its oldest due work instead
    /// of reading past the skipped ones' backlog (see [`EACH_AT_MOST`]).
    pub each: Vec<(String, usize)>,
}

/// Up to this many open endpoints are asked one by one (one index probe each); with more,
/// the round reads the due rows in time order and steps over the skipped ones.
pub const EACH_AT_MOST: usize = 512;

/// One limited endpoint's claim.
#[derive(Debug)]
pub struct LimitedClaim<'a> {
    pub endpoint_id: &'a str,
    pub rate_per_minute: Option<u32>,
    pub concurrency: Option<u32>,
    /// Deliveries per request (a batch endpoint's `max_events`, else 1): limits count requests.
    pub per_request: usize,
    /// At most this many (this node's free slots and the endpoint's share).
    pub max: usize,
}

#[derive(Debug, Default)]
pub struct LimitedOutcome {
    pub claimed: Vec<Claimed>,
    /// Another node holds the budget right now: try again soon.
    pub busy_elsewhere: bool,
    /// The bucket is empty: the next request may go after this long.
    pub rate_wait: Option<Duration>,
    /// Every concurrent request the endpoint allows is in flight (on some node).
    pub concurrency_full: bool,
}

/// A token bucket holding at most one second's worth of requests (at least one), so the
/// rate is smooth: refilled by the time since it was last touched.
pub fn refill(tokens: f64, refilled_at: i64, now: i64, per_minute: u32) -> f64 {
    let per_ms = per_minute as f64 / 60_000.0;
    let capacity = (per_minute as f64 / 60.0).max(1.0);
    (tokens + (now - refilled_at).max(0) as f64 * per_ms).min(capacity)
}

/// How long until a bucket at `tokens` holds one whole token.
pub fn until_next_token(tokens: f64, per_minute: u32) -> Duration {
    let per_ms = per_minute.max(1) as f64 / 60_000.0;
    Duration::from_millis(((1.0 - tokens).max(0.0) / per_ms).ceil() as u64)
}

/// `UPDATE deliveries SET <claimed by this node, token and lease>`: the start of both open
/// claims, followed by the `WHERE` that picks the rows.
fn claim_head<'a, DB: sqlx::Database>(
    node: &'a str,
    token: &'a str,
    now: i64,
    lease_ms: i64,
) -> sqlx::QueryBuilder<'a, DB>
where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut q =
        sqlx::QueryBuilder::new("UPDATE deliveries SET status = 'in_flight', lease_owner = ");
    q.push_bind(node)
        .push(", lease_token = ")
        .push_bind(token)
        .push(", lease_expires_at = ")
        .push_bind(now + lease_ms)
        .push(", updated_at = ")
        .push_bind(now);
    q
}

impl EngineStore {
    /// Claims due deliveries of open endpoints: the oldest `scan` due rows outside
    /// `exclude`, at most each endpoint's cap of them, taken round-robin (every endpoint's
    /// oldest first, then every endpoint's second, ...) up to `limit`.
    pub async fn claim_open(
        &self,
        plan: &OpenClaim,
        token: &str,
        lease_ms: i64,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        if plan.limit == 0 {
            return Ok(Vec::new());
        }
        if matches!(self.db, Db::Postgres(_))
            && !plan.exclude.is_empty()
            && plan.each.len() <= EACH_AT_MOST
        {
            return self.claim_open_each(plan, token, lease_ms).await;
        }
        let now = now_ms();
        // SQLite otherwise reads (status, next_attempt_at) and sorts every due row; the
        // partial index hands them over in time order, and carries the endpoint so skipped
        // rows are tested without reading them. Postgres locks the candidates it takes, so
        // concurrent nodes take different rows.
        let (index_hint, lock) = match self.db {
            Db::Sqlite(_) => (" INDEXED BY deliveries_open_due", ""),
            Db::Postgres(_) => ("", " FOR UPDATE OF d SKIP LOCKED"),
        };
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| {
            let mut q = claim_head(&self.node, token, now, lease_ms);
            q.push(
                    " WHERE id IN (SELECT r.id FROM (SELECT c.id, c.endpoint_id, c.next_attempt_at, \
                     ROW_NUMBER() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) AS rn FROM ( \
                     SELECT d.id, d.endpoint_id, d.next_attempt_at FROM deliveries d",
                )
                .push(index_hint)
                .push(
                    " JOIN endpoints e ON e.id = d.endpoint_id \
                     WHERE e.enabled = TRUE AND e.deleted_at IS NULL AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= ",
                )
                .push_bind(now)
                .push(FIFO_READY);
            if !plan.exclude.is_empty() {
                q.push(" AND d.endpoint_id NOT IN (");
                let mut list = q.separated(", ");
                for id in &plan.exclude {
                    list.push_bind(id);
                }
                q.push(")");
            }
            q.push(" ORDER BY d.next_attempt_at LIMIT ")
                .push_bind(plan.scan.max(plan.limit) as i64)
                .push(lock)
                .push(") c) r WHERE r.rn <= ");
            if plan.caps.is_empty() {
                q.push_bind(plan.default_cap as i64);
            } else {
                q.push("CASE r.endpoint_id");
                for (id, cap) in &plan.caps {
                    q.push(" WHEN ")
                        .push_bind(id)
                        .push(" THEN ")
                        .push_bind(*cap as i64);
                }
                q.push(" ELSE ")
                    .push_bind(plan.default_cap as i64)
                    .push(" END");
            }
            q.push(" ORDER BY r.rn, r.next_attempt_at LIMIT ")
                .push_bind(plan.limit as i64)
                .push(")")
                .push(RETURNING);
            claim_commit!(pool, q, plan.exclude.is_empty() && plan.caps.is_empty())
        })
    }

    /// [`Self::claim_open`] on Postgres beside skipped endpoints: each open endpoint's oldest
    /// due work, found through its own index range, so a skipped endpoint's backlog of any
    /// size costs nothing (the time-ordered read would step over every row of it).
    async fn claim_open_each(
        &self,
        plan: &OpenClaim,
        token: &str,
        lease_ms: i64,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        if plan.each.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| {
            let mut q = claim_head(&self.node, token, now, lease_ms);
            q.push(
                    " WHERE id IN (SELECT r.id FROM (SELECT x.id, x.next_attempt_at,                      ROW_NUMBER() OVER (PARTITION BY w.endpoint_id ORDER BY x.next_attempt_at, x.id) AS rn                      FROM (VALUES ",
                );
            let mut values = q.separated(", ");
            for (id, cap) in &plan.each {
                values
                    .push("(")
                    .push_bind_unseparated(id)
                    .push_unseparated(", ")
                    .push_bind_unseparated(*cap as i64)
                    .push_unseparated(")");
            }
            q.push(
                ") AS w (endpoint_id, cap)                  JOIN endpoints e ON e.id = w.endpoint_id AND e.enabled = TRUE AND e.deleted_at IS NULL                  CROSS JOIN LATERAL (SELECT d.id, d.next_attempt_at FROM deliveries d                  WHERE d.endpoint_id = w.endpoint_id AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= ",
            )
            .push_bind(now)
            .push(FIFO_READY)
            .push(
                " ORDER BY d.next_attempt_at LIMIT w.cap FOR UPDATE OF d SKIP LOCKED) x) r                  ORDER BY r.rn, r.next_attempt_at LIMIT ",
            )
            .push_bind(plan.limit as i64)
            .push(")")
            .push(RETURNING);
            claim_commit!(pool, q, false)
        })
    }

    /// Which of these (limited) endpoints have due work now.
    pub async fn with_due_work(&self, endpoints: &[&str]) -> Result<Vec<String>, sqlx::Error> {
        if endpoints.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        with_db!(&self.db, |pool| {
            let mut q = sqlx::QueryBuilder::new("SELECT e.id FROM endpoints e WHERE e.id IN (");
            let mut list = q.separated(", ");
            for id in endpoints {
                list.push_bind(*id);
            }
            q.push(
                ") AND EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id \
                 AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= ",
            )
            .push_bind(now)
            .push(")");
            q.build_query_scalar()
                .persistent(false)
                .fetch_all(pool)
                .await
        })
    }

    /// Claims what one limited endpoint may send now, across every node: refills and spends
    /// its token bucket and counts its in-flight requests under the budget row's lock.
    pub async fn claim_limited(
        &self,
        c: &LimitedClaim<'_>,
        token: &str,
        lease_ms: i64,
    ) -> Result<LimitedOutcome, sqlx::Error> {
        let now = now_ms();
        let lock = skip_locked(&self.db);
        let per_request = c.per_request.max(1);
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                // A write first: on SQLite it takes the write lock before anything is read,
                // so the read below cannot go stale.
                sqlx::query(
                    "INSERT INTO endpoint_budgets (endpoint_id, tokens, refilled_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (endpoint_id) DO NOTHING",
                )
                .bind(c.endpoint_id)
                .bind(c.rate_per_minute.map_or(1.0, |r| (r as f64 / 60.0).max(1.0)))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let budget: Option<(f64, i64)> = sqlx::query_as(&format!(
                    "SELECT tokens, refilled_at FROM endpoint_budgets WHERE endpoint_id = $1{lock}"
                ))
                .bind(c.endpoint_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((tokens, refilled_at)) = budget else {
                    return Ok(LimitedOutcome {
                        busy_elsewhere: true,
                        ..Default::default()
                    });
                };
                let mut out = LimitedOutcome::default();
                let mut concurrency_bound = false;
                let mut requests = c.max.div_ceil(per_request);
                let tokens = c.rate_per_minute.map(|r| refill(tokens, refilled_at, now, r));
                if let (Some(t), Some(r)) = (tokens, c.rate_per_minute) {
                    let whole = t.floor().max(0.0) as usize;
                    if whole < requests {
                        requests = whole;
                        out.rate_wait = Some(until_next_token(t - whole as f64, r));
                    }
                }
                if let Some(limit) = c.concurrency {
                    let in_flight: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'in_flight'",
                    )
                    .bind(c.endpoint_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    let free = (limit as i64 * per_request as i64 - in_flight).max(0) as usize;
                    let free = free.div_ceil(per_request);
                    if free <= requests {
                        requests = free;
                        concurrency_bound = true;
                    }
                }
                let max = (requests * per_request).min(c.max);
                if max > 0 {
                    out.claimed = sqlx::query_as(&format!(
                        "UPDATE deliveries SET status = 'in_flight', lease_owner = $1, lease_token = $2, \
                         lease_expires_at = $3, updated_at = $4 WHERE id IN ( \
                         SELECT d.id FROM deliveries d WHERE d.endpoint_id = $5 \
                         AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= $4{FIFO_READY} \
                         ORDER BY d.next_attempt_at LIMIT $6{lock}){RETURNING}"
                    ))
                    .bind(&self.node)
                    .bind(token)
                    .bind(now + lease_ms)
                    .bind(now)
                    .bind(c.endpoint_id)
                    .bind(max as i64)
                    .fetch_all(&mut *tx)
                    .await?;
                }
                // Full only if it took all it was allowed (else nothing more is due).
                out.concurrency_full = concurrency_bound && out.claimed.len() >= max;
                if let Some(t) = tokens {
                    let spent = out.claimed.len().div_ceil(per_request) as f64;
                    sqlx::query(
                        "UPDATE endpoint_budgets SET tokens = $1, refilled_at = $2 WHERE endpoint_id = $3",
                    )
                    .bind(t - spent)
                    .bind(now)
                    .bind(c.endpoint_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(out)
            }
            .await
        })
    }

    /// Claims waiting test-fires, oldest first, whatever their endpoint's limits or state:
    /// someone waits for each answer. A read first (a partial index of the few waiting),
    /// so a round with none writes nothing.
    pub async fn claim_tests(
        &self,
        limit: usize,
        token: &str,
        lease_ms: i64,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        const WAITING: &str =
            "FROM deliveries d WHERE d.test_fire AND d.status IN ('pending', 'failed')";
        let now = now_ms();
        let lock = skip_locked(&self.db);
        with_db!(&self.db, |pool| {
            let any: Option<String> = sqlx::query_scalar(&format!("SELECT d.id {WAITING} LIMIT 1"))
                .fetch_optional(pool)
                .await?;
            if any.is_none() || limit == 0 {
                return Ok(Vec::new());
            }
            let _turn = self.turn().await?;
            sqlx::query_as(&format!(
                "UPDATE deliveries SET status = 'in_flight', lease_owner = $1, lease_token = $2, \
                 lease_expires_at = $3, updated_at = $4 WHERE id IN ( \
                 SELECT d.id {WAITING} ORDER BY d.created_at LIMIT $5{lock}){RETURNING}"
            ))
            .bind(&self.node)
            .bind(token)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
        })
    }

    /// The earliest time something becomes due, to sleep until then.
    pub async fn next_due(&self) -> Result<Option<i64>, sqlx::Error> {
        with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE status IN ('pending', 'failed')"
        )
        .fetch_one(pool)
        .await)
    }

    /// Envelopes of the claimed deliveries' events, with their trace contexts.
    pub async fn envelopes(
        &self,
        event_ids: &[String],
    ) -> Result<Vec<(String, String, Option<String>)>, sqlx::Error> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        with_db!(&self.db, |pool| {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT id, envelope, trace_context FROM events WHERE id IN (",
            );
            let mut list = q.separated(", ");
            for id in event_ids {
                list.push_bind(id);
            }
            q.push(")");
            q.build_query_as().persistent(false).fetch_all(pool).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_at_the_rate_and_holds_one_second() {
        // 120/min: 2 per second, so it holds 2.
        assert_eq!(refill(0.0, 0, 500, 120), 1.0);
        assert_eq!(refill(0.0, 0, 60_000, 120), 2.0);
        // 1/min holds one token, the next after a minute.
        assert_eq!(refill(0.0, 0, 30_000, 1), 0.5);
        assert_eq!(until_next_token(0.5, 1), Duration::from_secs(30));
        assert_eq!(until_next_token(0.0, 120), Duration::from_millis(500));
        // A clock that went backwards does not drain it.
        assert_eq!(refill(1.0, 1_000, 0, 60), 1.0);
    }
}
