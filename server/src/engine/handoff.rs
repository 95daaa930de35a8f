//! The engine's side of deliveries born claimed (see [`app::backend::events::handoff`]): a
//! publish asks for room before it writes its deliveries; those the engine takes are
//! written `in_flight` under this node's lease and handed over after the commit, each sent
//! by a task of its own, exactly as if a claim round had taken it.
//!
//! Room means what a claim round would grant: a free slot on this node, and room in the
//! endpoint's share; only endpoints claimed freely (no rate or concurrency limit, no
//! batching) are taken. The slot and the share are held from the reservation on, so a
//! claim round running meanwhile cannot hand them out twice.

use super::Engine;
use super::admission::InFlight;
use super::dispatch::Gathered;
use super::store::Claimed;
use super::target::Target;
use app::backend::catalog::Catalog;
use app::backend::events::handoff::{Born, Handoff, Lease, Reservation, Ticket};
use app::backend::faults::Faults;
use app::backend::now_ms;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::OwnedSemaphorePermit;

/// Room set aside for one delivery until it is handed over (or the reservation is dropped).
struct Room {
    target: Arc<Target>,
    in_flight: InFlight,
    slot: OwnedSemaphorePermit,
}

struct EngineTicket {
    engine: Arc<Engine>,
    token: String,
    rooms: Vec<Room>,
}

impl Handoff for Engine {
    fn warm(&self, catalog: &Catalog) {
        self.targets.of(catalog);
    }

    fn reserve(self: Arc<Self>, catalog: &Catalog, endpoints: &[&str]) -> Option<Reservation> {
        if !self.taking.load(Ordering::Acquire) {
            return None;
        }
        let targets = self.targets.of(catalog);
        let mut taken = vec![false; endpoints.len()];
        let mut rooms = Vec::new();
        for (i, endpoint) in endpoints.iter().enumerate() {
            let Some(Ok(target)) = targets.get(*endpoint) else {
                continue; // disabled since, or unusable settings: the claim path says why
            };
            if target.limited() || target.batch.is_some() {
                continue;
            }
            let Some(in_flight) = self.admission.try_start(endpoint) else {
                continue;
            };
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                break; // no slot left for anyone
            };
            taken[i] = true;
            rooms.push(Room {
                target: target.clone(),
                in_flight,
                slot,
            });
        }
        if rooms.is_empty() {
            return None;
        }
        let token = format!("lt_{}", app::backend::ids::random_hex(12));
        Some(Reservation {
            lease: Lease {
                node: self.store.node.clone(),
                token: token.clone(),
                expires_at: now_ms() + self.cfg.lease.as_millis() as i64,
            },
            taken,
            ticket: Box::new(EngineTicket {
                engine: self,
                token,
                rooms,
            }),
        })
    }
}

impl Ticket for EngineTicket {
    fn hand(self: Box<Self>, deliveries: Vec<Born>) {
        let EngineTicket {
            engine,
            token,
            rooms,
        } = *self;
        let mut handed = engine.handed.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(done) = handed.try_join_next() {
            super::log_task_end(done);
        }
        let shared = &engine.state.shared;
        for (born, room) in deliveries.into_iter().zip(rooms) {
            if Faults::take(&shared.faults.lose_handoffs) {
                // Its row stays claimed until the lease lapses; then a claim round takes it.
                continue;
            }
            shared.metrics.deliveries_handed_over.inc();
            let claimed = Claimed {
                id: born.id,
                event_id: born.event_id,
                endpoint_id: born.endpoint_id,
                attempts: 0,
                lease_token: token.clone(),
                test_fire: false,
            };
            let hold = engine
                .leases
                .hold(&engine.store, std::slice::from_ref(&claimed));
            let item = Gathered {
                claimed,
                envelope: Some(born.envelope),
                trace: born.trace_context.map(Arc::from),
                _hold: hold,
                _in_flight: room.in_flight,
            };
            let (engine, slot, target) = (engine.clone(), room.slot, room.target);
            handed.spawn(async move {
                let endpoint = item.claimed.endpoint_id.clone();
                engine.deliver(item, Some(Ok(target))).await;
                // The claim loop may be waiting for this slot, or for room in this
                // endpoint's share, to claim a backlog with (it hears only its own tasks).
                let freed_room = engine.slots.available_permits() == 0
                    || engine.admission.was_at_share(&endpoint);
                drop(slot);
                if freed_room {
                    engine.state.shared.outbox.notify_one();
                }
            });
        }
    }
}
