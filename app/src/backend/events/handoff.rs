//! Deliveries born claimed. When this node's delivery engine has room to send a new delivery
//! at once, the publish transaction writes it already claimed by that engine (`in_flight`,
//! with the engine's node, a claim token and a lease, in the same durable commit as the
//! event), and after the commit the publish hands it to the engine in memory, with its
//! envelope. The delivery then leaves without a claim round: no claim statement, no second
//! commit, no envelope read, no engine wake-up.
//!
//! Nothing durable changes: a node that dies between the commit and the send leaves a lease
//! that lapses like any other claim's, and the delivery is claimed again. Only endpoints the
//! engine claims freely are eligible (no rate or concurrency limit, no batching, not FIFO),
//! and only while the engine has a free slot and the endpoint has room in its share; the
//! rest are written pending and claimed as before.

use std::sync::{Arc, Weak};

use super::super::catalog::Catalog;

/// The engine side: implemented by the delivery engine, registered with
/// [`super::super::AppState::hand_deliveries_to`].
pub trait Handoff: Send + Sync {
    /// Room for new deliveries to `endpoints` (one entry per delivery) to leave at once, as
    /// routed by `catalog`; `None` when the engine takes none now (stopped, stopping, full).
    fn reserve(self: Arc<Self>, catalog: &Catalog, endpoints: &[&str]) -> Option<Reservation>;

    /// Readies whatever [`Handoff::reserve`] derives from `catalog`, so that a reservation
    /// made inside a write transaction finds it built (on SQLite that transaction holds
    /// the database's one write lock).
    fn warm(&self, catalog: &Catalog);
}

/// The claim new deliveries are written with.
#[derive(Debug, Clone)]
pub struct Lease {
    pub node: String,
    pub token: String,
    pub expires_at: i64,
}

/// What [`Handoff::reserve`] set aside: which of the asked deliveries the engine takes, the
/// lease to write them with, and the ticket that hands them over once committed. Dropped
/// without [`Ticket::hand`] (the transaction failed), the room is given back.
pub struct Reservation {
    pub lease: Lease,
    /// One per asked delivery, in order.
    pub taken: Vec<bool>,
    pub ticket: Box<dyn Ticket>,
}

/// Hands committed deliveries to the engine, in the order they were taken.
pub trait Ticket: Send + Sync {
    fn hand(self: Box<Self>, deliveries: Vec<Born>);
}

/// A delivery written claimed by the engine, with its event's envelope.
pub struct Born {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub envelope: Arc<str>,
    /// Its event's `traceparent` (see [`crate::backend::trace`]).
    pub trace_context: Option<String>,
}

/// Where publishes find the engine: empty until one registers (a node with `--no-engine`,
/// and a state without an engine, hand nothing over). Weak, so the engine, which holds the
/// state, is not kept alive by it.
#[derive(Default, Clone)]
pub struct Slot(Arc<std::sync::RwLock<Option<Weak<dyn Handoff>>>>);

impl Slot {
    pub fn set(&self, engine: Weak<dyn Handoff>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(engine);
    }

    pub fn get(&self) -> Option<Arc<dyn Handoff>> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(Weak::upgrade)
    }
}
