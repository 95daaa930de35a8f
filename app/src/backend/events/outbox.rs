//! The outbox: an event, its deliveries (one per matching endpoint) and its idempotency key
//! written in one transaction, for a group of single publishes or a batch (test-fire has
//! its own, in `test_fire`).

use super::handoff::{Born, Reservation};
use super::prepare::Prepared;
use super::{Events, Outcome};
use crate::backend::faults::Faults;
use crate::backend::sources::log::RowVerdict;
use crate::backend::{Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::events::Published;
use crate::with_db;
use std::sync::Arc;

/// Rows per multi-row INSERT (12 parameters each at most: far below both databases' limits).
const ROWS_PER_STATEMENT: usize = 250;

/// A delivery about to be written.
struct NewDelivery<'a> {
    id: String,
    event: &'a Prepared,
    endpoint: &'a String,
    /// FIFO: it waits for its predecessor, so it is never handed over.
    ordered: bool,
}

/// What a reused idempotency key (same key, different request) does to the rest.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Reuse {
    /// Single publishes sharing a commit: only that publish fails.
    FailsAlone,
    /// A batch: all of it is refused, like any other invalid item.
    FailsAll,
}

impl Events {
    /// Asks this node's engine to take the deliveries it can send at once (FIFO ones are
    /// never taken: each waits for its predecessor).
    fn reserve(
        &self,
        catalog: &crate::backend::catalog::Catalog,
        deliveries: &[NewDelivery<'_>],
    ) -> Option<Reservation> {
        let engine = self.handoff.get()?;
        let free: Vec<usize> = (0..deliveries.len())
            .filter(|i| !deliveries[*i].ordered)
            .collect();
        if free.is_empty() {
            return None;
        }
        let endpoints: Vec<&str> = free
            .iter()
            .map(|i| deliveries[*i].endpoint.as_str())
            .collect();
        let asked = engine.reserve(catalog, &endpoints)?;
        let mut taken = vec![false; deliveries.len()];
        for (i, t) in free.into_iter().zip(asked.taken) {
            taken[i] = t;
        }
        Some(Reservation { taken, ..asked })
    }

    /// Stores `events` in one transaction. The outer error fails them all (nothing is
    /// stored); an inner one is a reused idempotency key, handled as `reuse` says.
    pub(super) async fn store(
        &self,
        events: Vec<Prepared>,
        reuse: Reuse,
    ) -> AppResult<Vec<AppResult<Outcome>>> {
        let faults = self.faults.clone();
        let now = now_ms();
        let is_postgres = matches!(self.db, Db::Postgres(_));
        // Read once: the engine's view of it is built here, not under the write lock.
        let catalog = self.catalog.cached();
        if let Some(engine) = self.handoff.get() {
            engine.warm(&catalog);
        }
        let gate = self.write_gate.enter(&self.db).await?;
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
                    .bind(key.expires_at)
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
                                id: crate::types::ids::EventId::from_db(earlier),
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
                        id: crate::types::ids::EventId::from_db(e.id.clone()),
                        deliveries: e.endpoints.len() as u64,
                    },
                    replayed: false,
                }));
            }
            // Multi-row statements: a batch of 500 is a handful of round trips, not 1,000.
            for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO events (id, event_type, tenant, idempotency_key, envelope, created_at, trace_context) ",
                );
                q.push_values(chunk, |mut row, e| {
                    row.push_bind(&e.id)
                        .push_bind(&e.event_type)
                        .push_bind(&e.tenant)
                        .push_bind(e.idempotency_key.as_ref().map(|k| &k.key))
                        .push_bind(&e.envelope)
                        .push_bind(e.created_at)
                        .push_bind(&e.trace_context);
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
            // Each delivery's id, event and endpoint; those the engine takes now are
            // written claimed by it (see [`super::handoff`]).
            let deliveries: Vec<NewDelivery<'_>> = fresh
                .iter()
                .flat_map(|e| {
                    e.endpoints
                        .iter()
                        .map(move |(endpoint, ordered)| NewDelivery {
                            id: crate::backend::ids::new_id("dlv"),
                            event: e,
                            endpoint,
                            ordered: *ordered,
                        })
                })
                .collect();
            let reservation = self.reserve(&catalog, &deliveries);
            let taken = |i: usize| reservation.as_ref().is_some_and(|r| r.taken[i]);
            let lease = reservation.as_ref().map(|r| &r.lease);
            let rows: Vec<(usize, &NewDelivery<'_>)> = deliveries.iter().enumerate().collect();
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at, ordered, lease_owner, lease_token, lease_expires_at) ",
                );
                q.push_values(chunk, |mut row, (i, d)| {
                    let born = taken(*i).then_some(lease).flatten();
                    row.push_bind(&d.id)
                        .push_bind(&d.event.id)
                        .push_bind(d.endpoint)
                        .push_bind(if born.is_some() {
                            "in_flight"
                        } else {
                            "pending"
                        })
                        .push_bind(0i64)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(d.ordered)
                        .push_bind(born.map(|l| &l.node))
                        .push_bind(born.map(|l| &l.token))
                        .push_bind(born.map(|l| l.expires_at));
                });
                // Not kept prepared: each row count is a new statement.
                q.build().persistent(false).execute(&mut *tx).await?;
            }
            let queued = (0..deliveries.len()).any(|i| !taken(i));
            // An inbound request's log entry exists exactly when its event (or its answer
            // as a duplicate) does.
            for (e, outcome) in events.iter().zip(&outcomes) {
                if let (Some(row), Ok(o)) = (&e.inbound, outcome) {
                    let verdict = RowVerdict::published(
                        row.accepted_status,
                        o.published.id.as_str(),
                        o.replayed,
                    );
                    row.insert(&mut *tx, &verdict).await?;
                }
            }
            if is_postgres && queued {
                // Delivered to every listening node when (and only if) this commits.
                sqlx::query("SELECT pg_notify('hookline_outbox', '')")
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            // Handed over only once committed; a failed transaction drops the reservation.
            let born = reservation.map(|r| {
                let mut envelopes: Option<(&str, Arc<str>)> = None;
                let born = deliveries
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| r.taken[*i])
                    .map(|(_, d)| {
                        // Shared by the deliveries of one event (they are adjacent).
                        let envelope = match &envelopes {
                            Some((of, env)) if *of == d.event.id => env.clone(),
                            _ => {
                                let env: Arc<str> = Arc::from(d.event.envelope.as_str());
                                envelopes = Some((&d.event.id, env.clone()));
                                env
                            }
                        };
                        Born {
                            id: d.id.clone(),
                            event_id: d.event.id.clone(),
                            endpoint_id: d.endpoint.clone(),
                            envelope,
                            trace_context: d.event.trace_context.clone(),
                        }
                    })
                    .collect::<Vec<_>>();
                (r.ticket, born)
            });
            Ok::<_, AppError>((outcomes, born, queued))
        })?;
        drop(gate);
        let (outcomes, born, queued) = outcomes;
        if let Some((ticket, born)) = born {
            ticket.hand(born);
        }
        if queued {
            // A stored permit: the engine wakes even if it was busy at this instant.
            self.outbox.notify_one();
        }
        let accepted = outcomes.iter().flatten().filter(|o| !o.replayed).count();
        self.metrics.events_accepted.inc_by(accepted as u64);
        Ok(outcomes)
    }
}
