//! Sending deliveries again: one by hand (`retry`), or every dead or failed delivery of an
//! endpoint (`replay`, with its progress). Both wake the engine through the outbox.

use super::Deliveries;
use crate::backend::audit::AuditEntry;
use crate::backend::{Actor, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::Role;
use crate::types::events::{DeliveryView, ReplayView};
use crate::types::ids::{DeliveryId, EndpointId, ReplayId};
use crate::with_db;

impl Deliveries {
    /// Sends one delivery again now (whatever its state, unless it is in flight).
    pub async fn retry(&self, actor: &Actor, id: &DeliveryId) -> AppResult<DeliveryView> {
        let typed = id;
        let id = id.as_str();
        self.may(actor, Role::Editor, id).await?;
        let now = now_ms();
        let changed = with_db!(&self.db, |pool| {
            sqlx::query(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, completed_at = NULL, updated_at = $1 \
             WHERE id = $2 AND status <> 'in_flight'"
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            let exists = self.get(actor, typed).await?;
            return Err(AppError::Conflict(format!(
                "delivery {} is in flight right now; try again when it finishes",
                exists.delivery.id
            )));
        }
        self.wake.notify_one();
        Ok(self.get(actor, typed).await?.delivery)
    }

    /// Re-queues an endpoint's failed (or dead, or cancelled) deliveries; poll the replay.
    pub async fn replay(
        &self,
        actor: &Actor,
        endpoint_id: &EndpointId,
        status: crate::types::events::ReplayStatus,
        since: Option<Timestamp>,
    ) -> AppResult<ReplayView> {
        let endpoint_id = endpoint_id.as_str();
        self.may_on_endpoint(actor, Role::Editor, endpoint_id)
            .await?;
        // Which rows, each read through the partial index that holds it.
        use super::by_index::{CANCELLED, DEAD, FAILED};
        use crate::types::events::ReplayStatus;
        let statuses: &[&str] = match status {
            ReplayStatus::Failed => &[FAILED, DEAD],
            ReplayStatus::Dead => &[DEAD],
            ReplayStatus::Cancelled => &[CANCELLED],
        };
        let id = ReplayId::generate();
        let now = now_ms();
        let audit = AuditEntry::new(
            actor,
            "replay",
            "endpoint",
            endpoint_id,
            serde_json::json!({ "status": status, "since": since, "replay": id }),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let mut total = 0;
            for which in statuses {
                total += sqlx::query(&format!(
                    "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, completed_at = NULL, updated_at = $1, replay_id = $2 \
                     WHERE endpoint_id = $3 AND {which} AND ($4 IS NULL OR created_at >= $4)"
                ))
                .bind(now)
                .bind(id.as_str())
                .bind(endpoint_id)
                .bind(since.map(|t| t.0))
                .execute(&mut *tx)
                .await?
                .rows_affected() as i64;
            }
            sqlx::query("INSERT INTO replays (id, endpoint_id, status_filter, since, total, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id.as_str())
                .bind(endpoint_id)
                .bind(status.as_str())
                .bind(since.map(|t| t.0))
                .bind(total)
                .bind(&actor.label)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.wake.notify_one();
        self.replay_progress(actor, &id).await
    }

    pub async fn replay_progress(&self, actor: &Actor, id: &ReplayId) -> AppResult<ReplayView> {
        let id = id.as_str();
        actor.require_ahead(Role::Viewer)?;
        let head: Option<(String, i64, i64)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT endpoint_id, total, created_at FROM replays WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        let (endpoint_id, total, created_at) =
            head.ok_or_else(|| AppError::NotFound(format!("replay {id}")))?;
        if actor.tenant.is_some() {
            self.may_on_endpoint(actor, Role::Viewer, &endpoint_id)
                .await
                .map_err(|_| AppError::NotFound(format!("replay {id}")))?;
        }
        let counts: Vec<(String, i64)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT status, COUNT(*) FROM deliveries WHERE replay_id = $1 GROUP BY status"
        )
        .bind(id)
        .fetch_all(pool)
        .await)?;
        let count = |s: &[&str]| {
            counts
                .iter()
                .filter(|(k, _)| s.contains(&k.as_str()))
                .map(|(_, n)| n)
                .sum::<i64>()
        };
        let pending = count(&["pending", "in_flight"]);
        Ok(ReplayView {
            id: ReplayId::from_db(id.to_owned()),
            endpoint_id: EndpointId::from_db(endpoint_id),
            total,
            pending,
            succeeded: count(&["succeeded"]),
            failed: count(&["failed", "dead"]),
            done: pending == 0,
            created_at: Timestamp(created_at),
        })
    }
}
