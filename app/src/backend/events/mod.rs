//! Publishing: validate each event against its type's schema, route it, and write the event
//! and one delivery per matching endpoint in ONE transaction (the outbox). If the commit
//! succeeds the deliveries exist; if anything fails, nothing does.

use super::catalog::{Catalog, CatalogCache};
use super::endpoints::Endpoints;
use super::event_types::EventTypes;
use super::faults::Faults;
use super::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::events::{EventDetail, EventSummary, PublishEvent, Published, PublishedBatch};
use crate::types::{Page, Role};
use crate::with_db;
use serde_json::Value;
use std::sync::Arc;

mod idempotency;
mod prepare;

use prepare::{Prepared, prepare};

/// An idempotency key answers with the same event for this long.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;
pub const MAX_BATCH: usize = 1000;

/// The envelope every receiver gets (unless its endpoint has a template). Takes `data` by
/// value: a payload of several megabytes is moved into it, not copied.
pub fn envelope(id: &str, at: i64, event_type: &str, context: Value, data: Value) -> Value {
    let mut m = serde_json::Map::with_capacity(5);
    m.insert("id".into(), Value::String(id.to_owned()));
    m.insert("event_time".into(), Value::String(Timestamp(at).rfc3339()));
    m.insert("event_type".into(), Value::String(event_type.to_owned()));
    m.insert("current_context".into(), context);
    m.insert("data".into(), data);
    Value::Object(m)
}

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
            id: self.id,
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

#[derive(Clone)]
pub struct Events {
    db: Db,
    catalog: Arc<CatalogCache>,
    endpoints: Endpoints,
    event_types: EventTypes,
    pub faults: Arc<Faults>,
    pub metrics: Arc<super::metrics::Metrics>,
    /// Woken after every commit that created deliveries (the delivery engine listens).
    pub outbox: Arc<tokio::sync::Notify>,
    /// Group commit: single publishes queue here and are stored together.
    writer: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<Job>>>,
    /// Caps checked before the work (set with [`super::AppState::with_limits`]).
    pub limits: super::limits::Limits,
}

/// One queued single publish and where its answer goes.
type Job = (Prepared, tokio::sync::oneshot::Sender<AppResult<Outcome>>);

/// Most single publishes stored in one transaction.
const GROUP_MAX: usize = 256;

/// Rows per multi-row INSERT (9 parameters each at most: far below both databases' limits).
const ROWS_PER_STATEMENT: usize = 250;

/// Stores whatever single publishes are waiting, together, in one transaction: under load
/// many events share one commit instead of queueing for SQLite's one writer each. Every
/// event keeps its own idempotency check and its own deliveries in that transaction (a
/// reused key fails that publish alone); if the transaction fails, every caller in the
/// group gets the error and nothing is stored.
async fn group_commit(events: Events, mut queue: tokio::sync::mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (prepared, replies): (Vec<Prepared>, Vec<_>) = jobs.into_iter().unzip();
        match events.store(prepared, Reuse::FailsAlone).await {
            Ok(outcomes) => {
                for (outcome, reply) in outcomes.into_iter().zip(replies) {
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
                if matches!(e, AppError::Unavailable { .. }) {
                    // Publishes that queued while this group waited on the lock would each
                    // wait as long again behind it: they get the same 503 now, and retry.
                    while let Ok((_, reply)) = queue.try_recv() {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// What a reused idempotency key (same key, different request) does to the rest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reuse {
    /// Single publishes sharing a commit: only that publish fails.
    FailsAlone,
    /// A batch: all of it is refused, like any other invalid item.
    FailsAll,
}

/// A stored event: `replayed` when an idempotency key returned an earlier one.
pub struct Outcome {
    pub published: Published,
    pub replayed: bool,
}

impl Events {
    pub fn new(
        db: Db,
        endpoints: Endpoints,
        event_types: EventTypes,
        versions: Arc<super::versions::Versions>,
    ) -> Self {
        Self {
            catalog: Arc::new(CatalogCache::new(versions)),
            db,
            endpoints,
            event_types,
            faults: Arc::new(Faults::default()),
            metrics: Arc::new(super::metrics::Metrics::default()),
            outbox: Arc::new(tokio::sync::Notify::new()),
            writer: Arc::new(std::sync::OnceLock::new()),
            limits: super::limits::Limits::default(),
        }
    }

    fn writer(&self) -> &tokio::sync::mpsc::Sender<Job> {
        self.writer.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * GROUP_MAX);
            tokio::spawn(group_commit(self.clone(), rx));
            tx
        })
    }

    pub async fn catalog(&self) -> AppResult<Arc<Catalog>> {
        self.catalog
            .get(&self.endpoints, &self.event_types, None)
            .await
    }

    /// The catalog as of `actor`'s admission (no second wait for the change counters).
    async fn catalog_for(&self, actor: &Actor) -> AppResult<Arc<Catalog>> {
        self.catalog
            .get(&self.endpoints, &self.event_types, actor.admitted)
            .await
    }

    pub async fn publish(
        &self,
        actor: &Actor,
        input: PublishEvent,
        header_key: Option<&str>,
    ) -> AppResult<Outcome> {
        actor.require_publish()?;
        let catalog = self.catalog_for(actor).await?;
        let prepared = prepare(&catalog, actor, input, "", header_key, now_ms())
            .map_err(AppError::invalid_many)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer()
            .send((prepared, reply))
            .await
            .map_err(|_| AppError::internal("publish", "the group-commit writer stopped"))?;
        answer.await.map_err(|_| {
            AppError::internal("publish", "the group-commit writer dropped a publish")
        })?
    }

    /// Up to 1000 events in one transaction: all stored, or none (with every item's errors).
    pub async fn publish_batch(
        &self,
        actor: &Actor,
        events: Vec<PublishEvent>,
    ) -> AppResult<PublishedBatch> {
        actor.require_publish()?;
        if events.is_empty() || events.len() > MAX_BATCH {
            return Err(AppError::invalid(
                "events",
                format!("must hold 1 to {MAX_BATCH} events, got {}", events.len()),
            ));
        }
        super::limits::check_batch_bytes(&events, self.limits.max_batch_bytes)?;
        let catalog = self.catalog_for(actor).await?;
        let now = now_ms();
        let mut prepared = Vec::with_capacity(events.len());
        let mut errors = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            match prepare(&catalog, actor, e, &format!("events[{i}]"), None, now) {
                Ok(p) => prepared.push(p),
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_many(errors));
        }
        let outcomes = self
            .store(prepared, Reuse::FailsAll)
            .await?
            .into_iter()
            .collect::<AppResult<Vec<Outcome>>>()?;
        let deliveries = outcomes.iter().map(|o| o.published.deliveries).sum();
        Ok(PublishedBatch {
            events: outcomes.into_iter().map(|o| o.published).collect(),
            deliveries,
        })
    }

    /// Stores `events` in one transaction. The outer error fails them all (nothing is
    /// stored); an inner one is a reused idempotency key, handled as `reuse` says.
    async fn store(
        &self,
        events: Vec<Prepared>,
        reuse: Reuse,
    ) -> AppResult<Vec<AppResult<Outcome>>> {
        let faults = self.faults.clone();
        let now = now_ms();
        let is_postgres = matches!(self.db, Db::Postgres(_));
        let outcomes = with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let mut outcomes = Vec::with_capacity(events.len());
            let mut fresh: Vec<&Prepared> = Vec::with_capacity(events.len());
            for e in &events {
                if let Some(key) = &e.idempotency_key {
                    sqlx::query(
                        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at <= $3",
                    )
                    .bind(&key.scope)
                    .bind(&key.key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let claimed = sqlx::query(
                        "INSERT INTO idempotency_keys (scope, key, fingerprint, event_id, expires_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING",
                    )
                    .bind(&key.scope)
                    .bind(&key.key)
                    .bind(&key.fingerprint)
                    .bind(&e.id)
                    .bind(now + IDEMPOTENCY_WINDOW_MS)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if claimed == 0 {
                        let (earlier, earlier_fingerprint): (String, String) = sqlx::query_as(
                            "SELECT event_id, fingerprint FROM idempotency_keys WHERE scope = $1 AND key = $2",
                        )
                        .bind(&key.scope)
                        .bind(&key.key)
                        .fetch_one(&mut *tx)
                        .await?;
                        if earlier_fingerprint != key.fingerprint {
                            let error = key.reused();
                            if reuse == Reuse::FailsAll {
                                // Dropping the transaction rolls back the keys claimed so far.
                                return Err(error);
                            }
                            outcomes.push(Err(error));
                            continue;
                        }
                        // The first with this key may be earlier in this very group.
                        let deliveries: i64 = match fresh.iter().find(|f| f.id == earlier) {
                            Some(f) => f.endpoints.len() as i64,
                            None => {
                                sqlx::query_scalar(
                                    "SELECT COUNT(*) FROM deliveries WHERE event_id = $1",
                                )
                                .bind(&earlier)
                                .fetch_one(&mut *tx)
                                .await?
                            }
                        };
                        outcomes.push(Ok(Outcome {
                            published: Published {
                                id: earlier,
                                deliveries: deliveries as u64,
                            },
                            replayed: true,
                        }));
                        continue;
                    }
                }
                fresh.push(e);
                outcomes.push(Ok(Outcome {
                    published: Published {
                        id: e.id.clone(),
                        deliveries: e.endpoints.len() as u64,
                    },
                    replayed: false,
                }));
            }
            // Multi-row statements: a batch of 500 is a handful of round trips, not 1,000.
            for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO events (id, event_type, tenant, idempotency_key, envelope, created_at) ",
                );
                q.push_values(chunk, |mut row, e| {
                    row.push_bind(&e.id)
                        .push_bind(&e.event_type)
                        .push_bind(&e.tenant)
                        .push_bind(e.idempotency_key.as_ref().map(|k| &k.key))
                        .push_bind(&e.envelope)
                        .push_bind(e.created_at);
                });
                // Not kept prepared: each row count is a new statement.
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            if !fresh.is_empty() && Faults::triggered(&faults.fail_after_event_insert) {
                return Err(AppError::internal(
                    "publish",
                    "injected fault: after the event rows, before their deliveries",
                ));
            }
            let deliveries: Vec<(&String, &String, bool)> = fresh
                .iter()
                .flat_map(|e| {
                    e.endpoints
                        .iter()
                        .map(move |(ep, ordered)| (&e.id, ep, *ordered))
                })
                .collect();
            for chunk in deliveries.chunks(ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at, ordered) ",
                );
                q.push_values(chunk, |mut row, (event, endpoint, ordered)| {
                    row.push_bind(super::ids::new_id("dlv"))
                        .push_bind(*event)
                        .push_bind(*endpoint)
                        .push_bind("pending")
                        .push_bind(0i64)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(*ordered);
                });
                // Not kept prepared: each row count is a new statement.
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            if is_postgres && fresh.iter().any(|e| !e.endpoints.is_empty()) {
                // Delivered to every listening node when (and only if) this commits.
                sqlx::query("SELECT pg_notify('hookline_outbox', '')")
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, AppError>(outcomes)
        })?;
        if outcomes
            .iter()
            .flatten()
            .any(|o| !o.replayed && o.published.deliveries > 0)
        {
            // A stored permit: the engine wakes even if it was busy at this instant.
            self.outbox.notify_one();
        }
        let accepted = outcomes.iter().flatten().filter(|o| !o.replayed).count();
        self.metrics
            .events_accepted
            .fetch_add(accepted as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(outcomes)
    }

    /// Test-fire: an event for one endpoint only, its delivery already leased to `node`
    /// (which sends it at once). `data` defaults to the event type's example. Returns the
    /// event id, the delivery id and the envelope.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_test(
        &self,
        actor: &Actor,
        endpoint_id: &str,
        event_type: &str,
        data: Option<Value>,
        node: &str,
        lease_token: &str,
        lease_ms: i64,
    ) -> AppResult<(String, String, Value)> {
        actor.require(Role::Editor)?;
        let catalog = self.catalog_for(actor).await?;
        let example = catalog
            .event_types
            .get(event_type)
            .and_then(|t| t.view.example.clone());
        let data = data.or(example).ok_or_else(|| {
            AppError::invalid(
                "data",
                format!("{event_type} has no example; send data to test with"),
            )
        })?;
        let input = PublishEvent {
            event_type: event_type.to_owned(),
            data,
            tenant: None,
            context: None,
            idempotency_key: None,
        };
        let now = now_ms();
        let prepared =
            prepare(&catalog, actor, input, "", None, now).map_err(AppError::invalid_many)?;
        let envelope: Value = serde_json::from_str(&prepared.envelope).unwrap_or(Value::Null);
        let delivery_id = super::ids::new_id("dlv");
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO events (id, event_type, tenant, idempotency_key, envelope, created_at) VALUES ($1, $2, NULL, NULL, $3, $4)")
                .bind(&prepared.id)
                .bind(&prepared.event_type)
                .bind(&prepared.envelope)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'in_flight', 0, $4, $5, $7, $6, $4, $4)",
            )
            .bind(&delivery_id)
            .bind(&prepared.id)
            .bind(endpoint_id)
            .bind(now)
            .bind(node)
            .bind(now + lease_ms)
            .bind(lease_token)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        Ok((prepared.id, delivery_id, envelope))
    }

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
        let limit = limit.clamp(1, 500) as i64;
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
            e.id.clone()
        }))
    }

    pub async fn get(&self, actor: &Actor, id: &str) -> AppResult<EventDetail> {
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
        let deliveries = super::deliveries::of_event(&self.db, &event.id).await?;
        let mut envelope = serde_json::from_str(&envelope).unwrap_or(Value::Null);
        if !actor.sees_sensitive() {
            super::event_types::sensitive_paths(&self.db, &event.event_type)
                .await?
                .redact(&mut envelope, super::sensitive::Redact::Mask);
        }
        Ok(EventDetail {
            summary: event.summary(),
            envelope,
            deliveries,
        })
    }
}
