//! The engine's database work. Claims take due deliveries under a lease whose token belongs
//! to that claim alone ([`claims`]); only a live task renews its lease, and expired ones go
//! back to the queue ([`leases`]); an attempt is recorded together with the delivery's new
//! state in one transaction, conditional on still holding the claim's token ([`finish`]), so a
//! delivery is never completed by two claims.

pub mod claims;
pub mod finish;
pub mod leases;
mod unsynced;

use app::backend::Db;

pub use finish::{AttemptRecord, Breaker, Finished, NextState, Tripped};

/// A delivery this node now holds, with the token of the claim that took it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub attempts: i64,
    pub lease_token: String,
    /// A test-fire: sent once, on its own (never batched), outside the endpoint's limits.
    pub test_fire: bool,
}

#[derive(Clone)]
pub struct EngineStore {
    pub db: Db,
    pub node: String,
    /// Every write here queues with the publishes' (see [`app::backend::write_gate`]).
    pub gate: app::backend::write_gate::WriteGate,
}

impl EngineStore {
    /// This process's turn to write (at once on Postgres).
    async fn turn(&self) -> Result<app::backend::write_gate::Entered, sqlx::Error> {
        self.gate.enter(&self.db).await
    }
}

/// Postgres's row lock for a claim; SQLite has one writer and needs none.
fn skip_locked(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    }
}
