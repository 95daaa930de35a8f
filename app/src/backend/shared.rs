//! What the publishing side and the delivery engine share, built once at start by
//! [`super::AppState::new`]: handed to `Events` and read by the engine from `AppState`.

use super::catalog::CatalogCache;
use super::faults::Faults;
use super::metrics::Metrics;
use std::sync::Arc;

/// The engine reads these from `AppState` directly, not through the services.
#[derive(Clone)]
pub struct Shared {
    /// The routing catalog (event types, schemas, enabled endpoints), reloaded when the
    /// change counters move; read it with `AppState::catalog`.
    pub catalog: Arc<CatalogCache>,
    /// Woken after every commit that created or re-queued deliveries (the engine waits on
    /// it; on Postgres other nodes hear `NOTIFY hookline_outbox`).
    pub outbox: Arc<tokio::sync::Notify>,
    /// This node's delivery engine, once it runs: publishes hand it the deliveries it can
    /// send at once (see [`super::events::handoff`]).
    pub handoff: super::events::handoff::Slot,
    /// Process-wide counters, rendered by `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// Fault injection for the tests (all off otherwise).
    pub faults: Arc<Faults>,
    /// The queue of this process's busy SQLite writers (see [`super::write_gate`]).
    pub write_gate: super::write_gate::WriteGate,
}
