//! The dashboard's live views, as server-sent events: `GET /live/deliveries` (the delivery
//! log) and `GET /live/sources/{id}` (a source's inbound log).
//!
//! Signed-in users (any role) only, by session cookie, since `EventSource` cannot send an
//! API key. A stream reads the database, not this process's memory, so on several nodes
//! it shows what every node did. Each event carries a JSON array of rows that are new or
//! changed (the same shape as the REST list's items).
//!
//! A stream ends when its session does (sign-out, idle expiry, lifetime, a removed user):
//! the session is re-read from the store every few seconds, on whichever node signed out.
//! At most [`STREAMS_PER_SESSION`] are open per session on a node; the next gets 429.
//! `feed` holds what every stream shares; `deliveries` and `inbound` what each reads.

mod deliveries;
mod feed;
mod inbound;

use crate::api::state::ServerState;
use app::error::AppError;
use axum::Router;
use axum::routing::get;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower_sessions::session::Id;

/// Live streams one session may hold open at once (tabs showing a live log).
pub const STREAMS_PER_SESSION: usize = 4;
/// Paths served here: long-lived on purpose, so exempt from the request time limit.
pub const PREFIX: &str = "/live/";

pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/live/deliveries", get(deliveries::deliveries))
        .route("/live/sources/{id}", get(inbound::inbound))
}

/// Open streams per session, on this node.
#[derive(Default)]
pub struct StreamSlots {
    open: Mutex<HashMap<Id, usize>>,
}

/// One open stream; dropping it (the stream ended or the client went away) frees the slot.
struct StreamSlot {
    slots: Arc<StreamSlots>,
    session: Id,
}

impl StreamSlots {
    fn claim(self: &Arc<Self>, session: Id) -> Result<StreamSlot, AppError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(session).or_default();
        if *count >= STREAMS_PER_SESSION {
            return Err(AppError::LimitReached {
                message: format!(
                    "at most {STREAMS_PER_SESSION} live streams may be open per session; \
                     close another tab showing the live log"
                ),
                retry_after_secs: 5,
            });
        }
        *count += 1;
        Ok(StreamSlot {
            slots: self.clone(),
            session,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.session) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}
