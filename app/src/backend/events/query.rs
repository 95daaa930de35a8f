//! Reading events back: the list (newest first) and one event with its envelope (its
//! sensitive fields masked for everyone but admins) and where it went.

use super::Events;
use crate::backend::Actor;
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::events::{EventDetail, EventSummary};
use crate::types::ids::EventId;
use crate::types::{Page, Role};
use crate::with_db;
use serde_json::Value;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    event_type: String,
    tenant: Option<String>,
    idempotency_key: Option<String>,
    created_at: i64,
}

impl EventRow {
    fn summary(self) -> EventSummary {
        EventSummary {
            id: EventId::from_db(self.id),
            event_type: self.event_type,
            tenant: self.tenant,
            event_time: Timestamp(self.created_at),
            idempotency_key: self.idempotency_key,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EventWithEnvelope {
    #[sqlx(flatten)]
    event: EventRow,
    envelope: String,
}

impl Events {
    pub async fn list(
        &self,
        actor: &Actor,
        event_type: Option<&str>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<EventSummary>> {
        actor.require(Role::Viewer)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let rows: Vec<EventRow> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT id, event_type, tenant, idempotency_key, created_at FROM events \
             WHERE ($1 IS NULL OR event_type = $1) AND ($2 IS NULL OR created_at >= $2) \
             AND ($3 IS NULL OR created_at < $3) AND ($4 IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5"
        )
        .bind(event_type)
        .bind(since.map(|t| t.0))
        .bind(until.map(|t| t.0))
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(pool)
        .await)?;
        let items = rows.into_iter().map(EventRow::summary).collect();
        Ok(Page::cut(items, limit as usize, |e: &EventSummary| {
            e.id.to_string()
        }))
    }

    pub async fn get(&self, actor: &Actor, id: &EventId) -> AppResult<EventDetail> {
        let id = id.as_str();
        actor.require(Role::Viewer)?;
        let row: Option<EventWithEnvelope> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT id, event_type, tenant, idempotency_key, created_at, envelope FROM events WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        })?;
        let Some(EventWithEnvelope { event, envelope }) = row else {
            return Err(AppError::NotFound(format!("event {id}")));
        };
        let deliveries = crate::backend::deliveries::of_event(&self.db, &event.id).await?;
        let mut envelope = serde_json::from_str(&envelope).unwrap_or(Value::Null);
        if !actor.sees_sensitive() {
            crate::backend::catalog::event_types::sensitive_paths(&self.db, &event.event_type)
                .await?
                .redact(
                    &mut envelope,
                    crate::backend::catalog::sensitive::Redact::Mask,
                );
        }
        Ok(EventDetail {
            summary: event.summary(),
            envelope,
            deliveries,
        })
    }
}
