//! Deliveries: the service that reads the `deliveries` and `attempts` tables for people
//! (lists, one delivery with its attempt log, the live log's changes, the queue's counts).
//! The engine's store writes them; `replay` sends them again; `stats` charts them.

mod replay;
pub mod stats;
mod test_fire;

use super::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::events::{AttemptView, DeliveryDetail, DeliveryStatus, DeliveryView, Redaction};
use crate::types::ids::DeliveryId;
use crate::types::{Page, Role};
use crate::with_db;
use std::sync::Arc;

const COLUMNS: &str = "d.id, d.event_id, e.event_type, d.endpoint_id, ep.name AS endpoint_name, d.status, \
                       d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.last_duration_ms, \
                       d.created_at, d.updated_at";

/// Every delivery query reads from here (the event's type and the endpoint's name come along).
const FROM: &str =
    "deliveries d JOIN events e ON e.id = d.event_id JOIN endpoints ep ON ep.id = d.endpoint_id";

/// `WHERE` terms that pick one status through the partial index holding it. Each repeats
/// its index's predicate, which SQLite needs verbatim to use a partial index (see migration
/// `20261202000001_delivery_indexes`).
pub(crate) mod by_index {
    /// Pending or retrying: `deliveries_open_due` and `deliveries_endpoint_due`.
    pub const OPEN: &str = "status IN ('pending', 'failed')";
    pub const FAILED: &str = "status IN ('pending', 'failed') AND status = 'failed'";
    /// `deliveries_given_up`.
    pub const DEAD: &str = "status IN ('dead', 'cancelled') AND status = 'dead'";
    pub const CANCELLED: &str = "status IN ('dead', 'cancelled') AND status = 'cancelled'";
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    event_id: String,
    event_type: String,
    endpoint_id: String,
    endpoint_name: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    last_duration_ms: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for DeliveryView {
    type Error = AppError;

    /// The column's CHECK constraint allows only the known statuses.
    fn try_from(r: Row) -> AppResult<Self> {
        let status = DeliveryStatus::parse(&r.status).ok_or_else(|| {
            AppError::internal(
                "a delivery has an unknown status",
                format!("{}: {}", r.id, r.status),
            )
        })?;
        Ok(DeliveryView {
            id: DeliveryId::from_db(r.id),
            event_id: crate::types::ids::EventId::from_db(r.event_id),
            event_type: r.event_type,
            endpoint_id: crate::types::ids::EndpointId::from_db(r.endpoint_id),
            endpoint_name: r.endpoint_name,
            status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.map(Timestamp),
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            last_duration_ms: r.last_duration_ms,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    attempt: i64,
    node: String,
    started_at: i64,
    duration_ms: i64,
    url: String,
    request_headers: String,
    request_body: String,
    request_body_masked: Option<String>,
    masked_for: Option<String>,
    response_status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    error_class: Option<String>,
    error: Option<String>,
    decided_by: Option<String>,
}

/// An attempt's request body as shown to someone who may not see sensitive values
/// (`sensitive`: its event type's paths now; `None` for an admin). The masked copy is
/// used while the paths it was masked for cover today's; otherwise the body is withheld.
fn shown_body(
    a: &AttemptRow,
    event_type: &str,
    sensitive: Option<&super::catalog::sensitive::SensitivePaths>,
) -> (String, Redaction) {
    let Some(now) = sensitive.filter(|_| !a.request_body.is_empty()) else {
        return (a.request_body.clone(), Redaction::None);
    };
    let masked_for: Vec<String> = a
        .masked_for
        .as_deref()
        .and_then(|m| {
            serde_json::from_str::<std::collections::BTreeMap<String, Vec<String>>>(m).ok()
        })
        .and_then(|mut by_type| by_type.remove(event_type))
        .unwrap_or_default();
    if !now.covered_by(&masked_for) {
        return (String::new(), Redaction::Withheld);
    }
    match &a.request_body_masked {
        Some(masked) => (masked.clone(), Redaction::Masked),
        None => (a.request_body.clone(), Redaction::None),
    }
}

#[derive(Default)]
pub struct DeliveryQuery<'a> {
    pub endpoint_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub event_id: Option<&'a str>,
    /// Only deliveries created at or after this time (Unix ms).
    pub since_ms: Option<i64>,
    pub cursor: Option<&'a str>,
    pub limit: u32,
}

/// Where one event went: its deliveries, oldest first. For the events service, whose
/// caller has been checked already.
pub(crate) async fn of_event(db: &Db, event_id: &str) -> AppResult<Vec<DeliveryView>> {
    let sql =
        format!("SELECT {COLUMNS} FROM {FROM} WHERE d.event_id = $1 ORDER BY d.created_at, d.id");
    let rows: Vec<Row> = with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(event_id)
        .fetch_all(pool)
        .await)?;
    rows.into_iter().map(DeliveryView::try_from).collect()
}

#[derive(Clone)]
pub struct Deliveries {
    db: Db,
    wake: Arc<tokio::sync::Notify>,
}

impl Deliveries {
    pub fn new(db: Db, wake: Arc<tokio::sync::Notify>) -> Self {
        Self { db, wake }
    }

    /// For `GET /metrics` (unauthenticated, like every scrape target): how many deliveries
    /// are due now (pending or retrying), and how many wait for a later retry.
    pub async fn queue_counts(&self) -> AppResult<(i64, i64)> {
        let now = now_ms();
        use by_index::{FAILED, OPEN};
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM deliveries WHERE {OPEN} AND next_attempt_at <= $1), \
             (SELECT COUNT(*) FROM deliveries WHERE {FAILED} AND next_attempt_at > $1)"
        );
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as(&sql).bind(now).fetch_one(pool).await
        })?)
    }

    /// Newest first.
    pub async fn list(&self, actor: &Actor, q: DeliveryQuery<'_>) -> AppResult<Page<DeliveryView>> {
        let tenant = actor.require_listing(Role::Viewer)?;
        if let Some(s) = q.status
            && DeliveryStatus::parse(s).is_none()
        {
            let all: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(AppError::invalid(
                "status",
                format!("must be one of {}", all.join(", ")),
            ));
        }
        let limit = q.limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} \
             WHERE ($1 IS NULL OR d.endpoint_id = $1) AND ($2 IS NULL OR d.status = $2) \
             AND ($3 IS NULL OR e.event_type = $3) AND ($4 IS NULL OR d.id < $4) \
             AND ($6 IS NULL OR d.event_id = $6) AND ($7 IS NULL OR d.created_at >= $7) \
             AND ($8 IS NULL OR ep.tenant = $8) ORDER BY d.id DESC LIMIT $5"
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(q.endpoint_id)
            .bind(q.status)
            .bind(q.event_type)
            .bind(q.cursor)
            .bind(limit + 1)
            .bind(q.event_id)
            .bind(q.since_ms)
            .bind(tenant)
            .fetch_all(pool)
            .await)?;
        let items = rows
            .into_iter()
            .map(DeliveryView::try_from)
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |d: &DeliveryView| {
            d.id.to_string()
        }))
    }

    /// For the live log: deliveries (matching the filters) that changed at or after
    /// `since_ms`, oldest change first, at most `limit`.
    pub async fn changed_since(
        &self,
        actor: &Actor,
        q: &DeliveryQuery<'_>,
        since_ms: i64,
        limit: u32,
    ) -> AppResult<Vec<DeliveryView>> {
        let tenant = actor.require_listing(Role::Viewer)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} \
             WHERE d.updated_at >= $1 AND ($2 IS NULL OR d.endpoint_id = $2) AND ($3 IS NULL OR d.status = $3) \
             AND ($4 IS NULL OR e.event_type = $4) AND ($6 IS NULL OR ep.tenant = $6) ORDER BY d.updated_at LIMIT $5"
        );
        let rows: Vec<Row> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(since_ms)
            .bind(q.endpoint_id)
            .bind(q.status)
            .bind(q.event_type)
            .bind(limit.clamp(1, 1000) as i64)
            .bind(tenant)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(DeliveryView::try_from).collect()
    }

    /// May `actor` act on delivery `id` with `needed`? A portal link only on its tenant's
    /// (any other is not found).
    async fn may(&self, actor: &Actor, needed: Role, id: &str) -> AppResult<()> {
        if actor.tenant.is_none() {
            return actor.require(needed);
        }
        let tenant: Option<Option<String>> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
            "SELECT ep.tenant FROM deliveries d JOIN endpoints ep ON ep.id = d.endpoint_id WHERE d.id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        })?;
        actor.require_on(needed, tenant.flatten().as_deref(), || {
            format!("delivery {id}")
        })
    }

    /// May `actor` act on the live endpoint `id`'s deliveries with `needed`? Not found when
    /// it does not exist, or (for a portal link) is not its tenant's.
    async fn may_on_endpoint(&self, actor: &Actor, needed: Role, id: &str) -> AppResult<()> {
        actor.require_ahead(needed)?;
        let tenant: Option<Option<String>> = with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT tenant FROM endpoints WHERE id = $1 AND deleted_at IS NULL"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        let Some(tenant) = tenant else {
            return Err(AppError::NotFound(format!("endpoint {id}")));
        };
        actor.require_on(needed, tenant.as_deref(), || format!("endpoint {id}"))
    }

    pub async fn get(&self, actor: &Actor, id: &DeliveryId) -> AppResult<DeliveryDetail> {
        let id = id.as_str();
        self.may(actor, Role::Viewer, id).await?;
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE d.id = $1");
        let found: Option<Row> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        let found = found.ok_or_else(|| AppError::NotFound(format!("delivery {id}")))?;
        let attempts: Vec<AttemptRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT id, attempt, node, started_at, duration_ms, url, request_headers, request_body, request_body_masked, \
             masked_for, response_status, response_headers, response_body, error_class, error, decided_by FROM attempts WHERE delivery_id = $1 ORDER BY attempt, started_at"
        )
        .bind(id)
        .fetch_all(pool)
        .await
        })?;
        let sensitive = if actor.sees_sensitive() {
            None
        } else {
            Some(super::catalog::event_types::sensitive_paths(&self.db, &found.event_type).await?)
        };
        // Masked again on the way out: logs written before header masking covered every
        // secret-looking name must not show those values either.
        let pairs = |s: &str| {
            serde_json::from_str::<Vec<(String, String)>>(s)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| {
                    let v = crate::types::endpoints::shown_header_value(&k, &v);
                    (k, v)
                })
                .collect::<Vec<_>>()
        };
        let event_type = found.event_type.clone();
        Ok(DeliveryDetail {
            delivery: found.try_into()?,
            attempt_log: attempts
                .into_iter()
                .map(|a| {
                    let (request_body, request_body_redaction) =
                        shown_body(&a, &event_type, sensitive.as_ref());
                    AttemptView {
                        id: a.id,
                        attempt: a.attempt,
                        node: a.node,
                        started_at: Timestamp(a.started_at),
                        duration_ms: a.duration_ms,
                        url: a.url,
                        request_headers: pairs(&a.request_headers),
                        request_body,
                        request_body_redaction,
                        response_status: a.response_status,
                        response_headers: a.response_headers.as_deref().map(pairs),
                        response_body: a.response_body,
                        error_class: a.error_class,
                        error: a.error,
                        decided_by: a.decided_by,
                    }
                })
                .collect(),
        })
    }
}
