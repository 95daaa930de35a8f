//! Leases in the database: renewed only for the claims a live task still holds, handed back
//! on shutdown or when a task gives a delivery up, and returned to the queue when they
//! expire (the holder crashed, stalled, or could not record its outcome).

use super::{Claimed, EngineStore};
use app::backend::now_ms;
use app::with_db;

/// Pairs per renewal statement (2 parameters each).
const RENEW_CHUNK: usize = 400;

impl EngineStore {
    /// Extends the leases of exactly these claims (delivery id, claim token); a row whose
    /// token changed (claimed again elsewhere) is left alone. Answers how many were renewed.
    pub async fn renew(
        &self,
        held: &[(String, String)],
        lease_ms: i64,
    ) -> Result<u64, sqlx::Error> {
        let until = now_ms() + lease_ms;
        let mut renewed = 0;
        for chunk in held.chunks(RENEW_CHUNK) {
            let _turn = self.turn().await?;
            renewed += with_db!(&self.db, |pool| {
                let mut q = sqlx::QueryBuilder::new("UPDATE deliveries SET lease_expires_at = ");
                q.push_bind(until).push(" FROM (");
                q.push_values(chunk, |mut b, (id, token)| {
                    b.push_bind(id).push_bind(token);
                });
                q.push(
                    ") AS v WHERE deliveries.id = v.column1 AND deliveries.lease_token = v.column2 \
                     AND deliveries.status = 'in_flight'",
                );
                q.build()
                    .persistent(false)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
        Ok(renewed)
    }

    /// Expired leases become due failures, for any node to claim (the attempt the holder
    /// may have made is unknown: at-least-once).
    pub async fn recover_expired(&self) -> Result<u64, sqlx::Error> {
        let now = now_ms();
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', next_attempt_at = $1, lease_owner = NULL, \
                 lease_token = NULL, lease_expires_at = NULL, \
                 last_error = 'lease expired: the claim holding it stopped, stalled or could not record its outcome', \
                 updated_at = $1 WHERE status = 'in_flight' AND lease_expires_at <= $1",
            )
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }

    /// On shutdown: hand back what this node still holds, due at once, for any node.
    pub async fn release_all(&self) -> Result<u64, sqlx::Error> {
        let now = now_ms();
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', next_attempt_at = $1, lease_owner = NULL, \
                 lease_token = NULL, lease_expires_at = NULL, last_error = 'interrupted by shutdown', \
                 updated_at = $1 WHERE lease_owner = $2 AND status = 'in_flight'",
            )
            .bind(now)
            .bind(&self.node)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }

    /// Hands one claim back without an attempt, due at once (its endpoint went away, or its
    /// task failed). Only while the claim's token still holds it.
    pub async fn release_one(&self, d: &Claimed, why: &str) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', next_attempt_at = $1, lease_owner = NULL, \
                 lease_token = NULL, lease_expires_at = NULL, last_error = $4, updated_at = $1 \
                 WHERE id = $2 AND lease_token = $3 AND status = 'in_flight'",
            )
            .bind(now)
            .bind(&d.id)
            .bind(&d.lease_token)
            .bind(why)
            .execute(pool)
            .await
            .map(|_| ())
        })
    }
}
