//! The engine's database work: claiming due deliveries under a lease, keeping leases alive,
//! and recording each attempt together with the delivery's new state in one transaction.
//! Every write after the claim is conditional on still holding the lease, so a delivery is
//! never completed by two nodes.

use app::backend::{Db, now_ms};
use app::with_db;

/// Inside a transaction `$tx`: disables the endpoint (if still enabled) with `$reason`,
/// keeps the settings document's `enabled` flag in step, and bumps the catalog version.
/// Evaluates to whether it was disabled now. A macro because the body compiles once per
/// backend inside `with_db!`.
macro_rules! disable_in_tx {
    ($tx:expr, $endpoint:expr, $reason:expr, $now:expr) => {{
        let disabled = sqlx::query(
            "UPDATE endpoints SET enabled = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4 AND enabled = $5",
        )
        .bind(false)
        .bind($reason)
        .bind($now)
        .bind($endpoint)
        .bind(true)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1;
        if disabled {
            let config: String = sqlx::query_scalar("SELECT config FROM endpoints WHERE id = $1")
                .bind($endpoint)
                .fetch_one(&mut *$tx)
                .await?;
            let mut settings: serde_json::Value = serde_json::from_str(&config).unwrap_or_default();
            settings["enabled"] = serde_json::Value::Bool(false);
            sqlx::query("UPDATE endpoints SET config = $1 WHERE id = $2")
                .bind(settings.to_string())
                .bind($endpoint)
                .execute(&mut *$tx)
                .await?;
            sqlx::query(app::backend::catalog::BUMP_CATALOG).execute(&mut *$tx).await?;
        }
        disabled
    }};
}

/// A delivery this node now holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub attempts: i64,
}

/// What happened to one attempt, as stored in the attempt log.
#[derive(Debug, Clone, Default)]
pub struct AttemptRecord {
    pub started_at: i64,
    pub duration_ms: i64,
    pub url: String,
    pub request_headers: String,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_class: Option<&'static str>,
    pub error: Option<String>,
}

/// When an endpoint's continuous failures trip the circuit breaker.
#[derive(Debug, Clone, Copy)]
pub struct Breaker {
    /// Consecutive failed attempts (0 turns the breaker off).
    pub failures: i64,
    /// ...spanning at least this long.
    pub window_ms: i64,
}

/// The endpoint was disabled by the breaker in this transaction.
#[derive(Debug, Clone)]
pub struct Tripped {
    pub failures: i64,
    pub since: i64,
    pub reason: String,
}

/// The delivery's state after an attempt.
#[derive(Debug, Clone)]
pub enum NextState {
    Succeeded,
    RetryAt(i64),
    Dead(String),
}

/// Due deliveries (new, retry time reached, or a dead node's expired lease) of enabled
/// endpoints; for FIFO endpoints only the oldest unfinished one. `lock` is Postgres's
/// `FOR UPDATE OF d SKIP LOCKED`, so concurrent nodes take different rows.
fn claim_sql(lock: &str) -> String {
    format!(
        "UPDATE deliveries SET status = 'in_flight', lease_owner = $1, lease_expires_at = $2, updated_at = $3 \
         WHERE id IN ( \
           SELECT d.id FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id \
           WHERE e.enabled = $5 AND e.deleted_at IS NULL \
             AND ((d.status IN ('pending', 'failed') AND d.next_attempt_at <= $3) \
                  OR (d.status = 'in_flight' AND d.lease_expires_at <= $3)) \
             AND (d.ordered = $6 OR NOT EXISTS ( \
                  SELECT 1 FROM deliveries p \
                  WHERE p.endpoint_id = d.endpoint_id AND p.ordered = $5 \
                    AND p.status IN ('pending', 'failed', 'in_flight') \
                    AND (p.created_at < d.created_at OR (p.created_at = d.created_at AND p.id < d.id)))) \
           ORDER BY d.next_attempt_at \
           LIMIT $4 {lock}) \
         RETURNING id, event_id, endpoint_id, attempts"
    )
}

#[derive(Clone)]
pub struct EngineStore {
    pub db: Db,
    pub node: String,
}

impl EngineStore {
    pub async fn claim(&self, limit: usize, lease_ms: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = now_ms();
        let sql = claim_sql(match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => "FOR UPDATE OF d SKIP LOCKED",
        });
        with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(&self.node)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit as i64)
            .bind(true)
            .bind(false)
            .fetch_all(pool)
            .await)
    }

    /// The earliest time something becomes due, to sleep until then.
    pub async fn next_due(&self) -> Result<Option<i64>, sqlx::Error> {
        with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE status IN ('pending', 'failed')"
        )
        .fetch_one(pool)
        .await)
    }

    /// Envelopes of the claimed deliveries' events.
    pub async fn envelopes(
        &self,
        event_ids: &[String],
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=event_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, envelope FROM events WHERE id IN ({})",
            placeholders.join(", ")
        );
        with_db!(&self.db, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in event_ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })
    }

    /// Extends the leases of everything this node holds.
    pub async fn heartbeat(&self, lease_ms: i64) -> Result<u64, sqlx::Error> {
        with_db!(&self.db, |pool| {
            sqlx::query(
            "UPDATE deliveries SET lease_expires_at = $1 WHERE lease_owner = $2 AND status = 'in_flight'"
        )
        .bind(now_ms() + lease_ms)
        .bind(&self.node)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })
    }

    /// On shutdown: hand back what was not finished, due at once, for any node.
    pub async fn release_all(&self) -> Result<u64, sqlx::Error> {
        let now = now_ms();
        with_db!(&self.db, |pool| {
            sqlx::query(
            "UPDATE deliveries SET status = 'failed', next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL, \
             last_error = 'interrupted by shutdown', updated_at = $1 WHERE lease_owner = $2 AND status = 'in_flight'"
        )
        .bind(now)
        .bind(&self.node)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })
    }

    /// Hands one delivery back without an attempt (its endpoint went away meanwhile).
    pub async fn release_one(&self, d: &Claimed) -> Result<(), sqlx::Error> {
        let now = now_ms();
        with_db!(&self.db, |pool| {
            sqlx::query(
            "UPDATE deliveries SET status = 'failed', next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL, \
             updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'in_flight'"
        )
        .bind(now)
        .bind(&d.id)
        .bind(&self.node)
        .execute(pool)
        .await
        .map(|_| ())
        })
    }

    /// Stores the attempt and moves the deliveries it carried on (one, or a batch), in one
    /// transaction. Returns how many leases had been lost (their attempt is still logged;
    /// their state is left alone), and whether the breaker disabled the endpoint. A request
    /// counts once for the breaker, however many deliveries it carried.
    pub async fn finish(
        &self,
        ds: &[Claimed],
        attempt: &AttemptRecord,
        next: &NextState,
        breaker: Breaker,
    ) -> Result<(usize, Option<Tripped>), sqlx::Error> {
        let Some(first) = ds.first() else {
            return Ok((0, None));
        };
        let now = now_ms();
        let (status, next_at, completed, error) = match next {
            NextState::Succeeded => ("succeeded", None, Some(now), attempt.error.clone()),
            NextState::RetryAt(at) => ("failed", Some(*at), None, attempt.error.clone()),
            NextState::Dead(why) => ("dead", None, Some(now), Some(why.clone())),
        };
        with_db!(&self.db, |pool| {
            async {
            let mut tx = pool.begin().await?;
            let mut lost = 0;
            for d in ds {
            let number = d.attempts + 1;
            sqlx::query(
                "INSERT INTO attempts (id, delivery_id, attempt, node, started_at, duration_ms, url, request_headers, \
                 request_body, response_status, response_headers, response_body, error_class, error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(app::backend::ids::new_id("att"))
            .bind(&d.id)
            .bind(number)
            .bind(&self.node)
            .bind(attempt.started_at)
            .bind(attempt.duration_ms)
            .bind(&attempt.url)
            .bind(&attempt.request_headers)
            .bind(&attempt.request_body)
            .bind(attempt.response_status)
            .bind(&attempt.response_headers)
            .bind(&attempt.response_body)
            .bind(attempt.error_class)
            .bind(&attempt.error)
            .execute(&mut *tx)
            .await?;
            let moved = sqlx::query(
                "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, lease_owner = NULL, \
                 lease_expires_at = NULL, last_status_code = $4, last_error = $5, updated_at = $6, completed_at = $7 \
                 WHERE id = $8 AND lease_owner = $9 AND status = 'in_flight'",
            )
            .bind(status)
            .bind(number)
            .bind(next_at)
            .bind(attempt.response_status)
            .bind(&error)
            .bind(now)
            .bind(completed)
            .bind(&d.id)
            .bind(&self.node)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                lost += 1;
            }
            }
            let d = first;
            // The circuit breaker, counted in the same transaction as the attempt.
            let mut tripped = None;
            if matches!(next, NextState::Succeeded) {
                sqlx::query("UPDATE endpoints SET consecutive_failures = 0, failing_since = NULL WHERE id = $1 AND consecutive_failures > 0")
                    .bind(&d.endpoint_id)
                    .execute(&mut *tx)
                    .await?;
            } else {
                let (failures, since): (i64, Option<i64>) = sqlx::query_as(
                    "UPDATE endpoints SET consecutive_failures = consecutive_failures + 1, failing_since = COALESCE(failing_since, $1) \
                     WHERE id = $2 RETURNING consecutive_failures, failing_since",
                )
                .bind(now)
                .bind(&d.endpoint_id)
                .fetch_one(&mut *tx)
                .await?;
                let since = since.unwrap_or(now);
                if breaker.failures > 0 && failures >= breaker.failures && now - since >= breaker.window_ms {
                    let reason = format!(
                        "circuit breaker: {failures} consecutive failures since {}",
                        app::time_fmt::Timestamp(since).rfc3339()
                    );
                    if disable_in_tx!(tx, &d.endpoint_id, &reason, now) {
                        tripped = Some(Tripped { failures, since, reason });
                    }
                }
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>((lost, tripped))
        }
        .await
        })
    }

    /// `410 Gone`: the receiver asked us to stop. Disables the endpoint (visible, reversible).
    pub async fn disable_endpoint(
        &self,
        endpoint_id: &str,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let now = now_ms();
        with_db!(&self.db, |pool| async {
            let mut tx = pool.begin().await?;
            disable_in_tx!(tx, endpoint_id, reason, now);
            tx.commit().await
        }
        .await)
    }
}
