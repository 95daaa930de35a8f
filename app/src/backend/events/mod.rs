//! Publishing: validate each event against its type's schema, route it, and write the event
//! and one delivery per matching endpoint in ONE transaction (the outbox). If the commit
//! succeeds the deliveries exist; if anything fails, nothing does.
//!
//! `prepare` checks and routes one event; `group_commit` gathers single publishes into
//! shared transactions; `outbox` is that one transaction; `test_fire` writes a test event
//! for one endpoint; `operational` publishes Hookline's own `hookline.*` events;
//! `idempotency` scopes and fingerprints keys; `query` reads events back; `handoff` gives
//! new deliveries the engine can send at once straight to it.

use super::catalog::event_types::EventTypes;
use super::catalog::{Catalog, CatalogCache};
use super::endpoints::Endpoints;
use super::faults::Faults;
use super::metrics::labels::{MIXED, PublishKind};
use super::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::events::{PublishEvent, Published, PublishedBatch};
use std::sync::Arc;

mod group_commit;
pub mod handoff;
mod idempotency;
mod operational;
mod outbox;
mod prepare;
mod query;
mod test_fire;

use group_commit::Job;
pub use operational::Operational;
use outbox::Reuse;
pub use prepare::KeyFrom;
use prepare::prepare;

/// An idempotency key answers with the same event for this long.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 3600 * 1000;
pub const MAX_BATCH: usize = 1000;

pub use super::envelope::envelope;

#[derive(Clone)]
pub struct Events {
    db: Db,
    catalog: Arc<CatalogCache>,
    endpoints: Endpoints,
    event_types: EventTypes,
    faults: Arc<Faults>,
    metrics: Arc<super::metrics::Metrics>,
    /// Woken after every commit that created deliveries (the delivery engine listens).
    outbox: Arc<tokio::sync::Notify>,
    /// This node's engine, which takes the deliveries it can send at once.
    handoff: handoff::Slot,
    /// This process's busy SQLite writers queue here (see [`super::write_gate`]).
    write_gate: super::write_gate::WriteGate,
    /// Group commit: single publishes queue here and are stored together.
    writer: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<Job>>>,
    /// Caps checked before the work (set with [`super::AppState::with_limits`]).
    pub limits: super::limits::Limits,
}

/// A stored event: `replayed` when an idempotency key returned an earlier one.
pub struct Outcome {
    pub published: Published,
    pub replayed: bool,
}

impl Events {
    /// The shared parts come from [`super::AppState`], which hands the same ones to the
    /// engine: the catalog cache, the outbox's wake-up, the counters and the fault points.
    pub fn new(db: Db, endpoints: Endpoints, s: &super::shared::Shared) -> Self {
        Self {
            catalog: s.catalog.clone(),
            endpoints,
            event_types: EventTypes::new(db.clone()),
            db,
            faults: s.faults.clone(),
            metrics: s.metrics.clone(),
            outbox: s.outbox.clone(),
            handoff: s.handoff.clone(),
            write_gate: s.write_gate.clone(),
            writer: Arc::new(std::sync::OnceLock::new()),
            limits: super::limits::Limits::default(),
        }
    }

    /// The catalog as of `actor`'s admission (no second wait for the change counters).
    async fn catalog_for(&self, actor: &Actor) -> AppResult<Arc<Catalog>> {
        self.catalog
            .get(&self.endpoints, &self.event_types, actor.admitted)
            .await
    }

    /// One event, through the group commit; `header_key` is the `Idempotency-Key` header.
    pub async fn publish(
        &self,
        actor: &Actor,
        input: PublishEvent,
        header_key: Option<&str>,
    ) -> AppResult<Outcome> {
        let key = header_key.map(|key| KeyFrom {
            key,
            window_ms: IDEMPOTENCY_WINDOW_MS,
        });
        self.publish_one(actor, input, key, None).await
    }

    /// One event from an inbound request, deduplicated by `key` (the partner's id), and
    /// the request's log entry written in the event's transaction.
    pub async fn publish_inbound(
        &self,
        actor: &Actor,
        input: PublishEvent,
        key: Option<KeyFrom<'_>>,
        logged: super::sources::log::InboundRow,
    ) -> AppResult<Outcome> {
        self.publish_one(actor, input, key, Some(logged)).await
    }

    async fn publish_one(
        &self,
        actor: &Actor,
        input: PublishEvent,
        key: Option<KeyFrom<'_>>,
        inbound: Option<super::sources::log::InboundRow>,
    ) -> AppResult<Outcome> {
        actor.require_publish()?;
        let started = std::time::Instant::now();
        let kind = match inbound {
            Some(_) => PublishKind::Inbound,
            None => PublishKind::Single,
        };
        // Open until this returns: the trace's root of every attempt of this event.
        let span =
            tracing::info_span!("publish", kind = kind.as_str(), event_type = %input.event_type);
        let catalog = self.catalog_for(actor).await?;
        let mut prepared =
            prepare(&catalog, actor, input, "", key, now_ms()).map_err(AppError::invalid_many)?;
        prepared.inbound = inbound;
        prepared.trace_context = super::trace::traceparent(&span);
        let tenant = prepared.tenant.clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer()
            .send((prepared, reply))
            .await
            .map_err(|_| AppError::internal("publish", "the group-commit writer stopped"))?;
        let outcome = answer.await.map_err(|_| {
            AppError::internal("publish", "the group-commit writer dropped a publish")
        })??;
        self.metrics
            .publish_took(tenant.as_deref(), kind, started.elapsed());
        Ok(outcome)
    }

    /// What publishing `input` would do, without storing anything: how many endpoints it
    /// would go to, or every problem with it.
    pub async fn dry_run(
        &self,
        actor: &Actor,
        input: PublishEvent,
    ) -> AppResult<Result<usize, Vec<crate::types::FieldError>>> {
        let catalog = self.catalog_for(actor).await?;
        Ok(prepare(&catalog, actor, input, "", None, now_ms()).map(|p| p.endpoints.len()))
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
        let started = std::time::Instant::now();
        let span = tracing::info_span!("publish", kind = "batch", events = events.len());
        let trace_context = super::trace::traceparent(&span);
        let catalog = self.catalog_for(actor).await?;
        let now = now_ms();
        let mut prepared = Vec::with_capacity(events.len());
        let mut errors = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            match prepare(&catalog, actor, e, &format!("events[{i}]"), None, now) {
                Ok(mut p) => {
                    p.trace_context = trace_context.clone();
                    prepared.push(p)
                }
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid_many(errors));
        }
        // A batch is counted under its tenant when its events share one.
        let first = prepared.first().and_then(|p| p.tenant.clone());
        let tenant = match prepared.iter().all(|p| p.tenant == first) {
            true => first,
            false => Some(MIXED.to_owned()),
        };
        let outcomes = self
            .store(prepared, Reuse::FailsAll)
            .await?
            .into_iter()
            .collect::<AppResult<Vec<Outcome>>>()?;
        let deliveries = outcomes.iter().map(|o| o.published.deliveries).sum();
        self.metrics
            .publish_took(tenant.as_deref(), PublishKind::Batch, started.elapsed());
        Ok(PublishedBatch {
            events: outcomes.into_iter().map(|o| o.published).collect(),
            deliveries,
        })
    }
}
