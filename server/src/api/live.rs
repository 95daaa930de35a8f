//! `GET /live/deliveries`: the dashboard's live delivery log, as server-sent events.
//!
//! Signed-in users (any role) only, by session cookie, since `EventSource` cannot send an
//! API key. The stream reads the database, not this process's memory, so on several nodes
//! it shows deliveries made by every node. Each `deliveries` event carries a JSON array of
//! deliveries that changed (same shape as `GET /api/v1/deliveries` items).
//!
//! A stream ends when its session does (sign-out, idle expiry, lifetime, a removed user):
//! the session is re-read from the store every few seconds, on whichever node signed out.
//! At most [`STREAMS_PER_SESSION`] are open per session on a node; the next gets 429.

use crate::api::state::ServerState;
use app::backend::deliveries::DeliveryQuery;
use app::backend::{Actor, AppState, now_ms};
use app::error::AppError;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream::Stream;
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_sessions::Session;
use tower_sessions::session::Id;

/// How often the stream looks for changes.
const POLL: Duration = Duration::from_millis(500);
/// A change is looked for again this long after its timestamp: a row's `updated_at` is
/// set before its transaction commits, so it can become visible a little "in the past".
const LATE_COMMIT_MS: i64 = 5_000;
/// A new stream first sends the changes of this long before it opened. The page read its
/// list before it loaded its code and opened the stream, which on a busy machine takes
/// seconds: a change in that gap would otherwise never reach it. Rows it already shows
/// are updated in place (the page merges by id).
const CATCH_UP_MS: i64 = 60_000;
/// The session is read again from the store this often (a sign-out, an expiry or a
/// removal ends the stream).
const RECHECK: Duration = Duration::from_secs(2);
/// Live streams one session may hold open at once (tabs showing the live log).
pub const STREAMS_PER_SESSION: usize = 4;
/// Paths served here: long-lived on purpose, so exempt from the request time limit.
pub const PREFIX: &str = "/live/";

pub fn router() -> Router<ServerState> {
    Router::new().route("/live/deliveries", get(deliveries))
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

#[derive(Deserialize, Default, Clone)]
pub struct LiveQuery {
    endpoint: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
}

struct Tail {
    app: AppState,
    session: Session,
    actor: Actor,
    filter: LiveQuery,
    /// The newest change sent, and what was sent for each delivery recently.
    watermark: i64,
    sent: HashMap<app::types::ids::DeliveryId, i64>,
    checked: tokio::time::Instant,
    _slot: StreamSlot,
}

impl Tail {
    async fn next_batch(&mut self) -> Result<Vec<app::types::events::DeliveryView>, AppError> {
        loop {
            if self.checked.elapsed() >= RECHECK {
                // The request's session is a snapshot: read it again from the store.
                self.session
                    .load()
                    .await
                    .map_err(|e| AppError::internal("session store failed", e))?;
                self.actor = self.app.auth.actor(&self.session).await?;
                self.checked = tokio::time::Instant::now();
            }
            let q = DeliveryQuery {
                endpoint_id: blank(&self.filter.endpoint),
                status: blank(&self.filter.status),
                event_type: blank(&self.filter.event_type),
                ..Default::default()
            };
            let rows = self
                .app
                .deliveries
                .changed_since(&self.actor, &q, self.watermark - LATE_COMMIT_MS, 500)
                .await?;
            let fresh: Vec<_> = rows
                .into_iter()
                .filter(|d| self.sent.get(&d.id) != Some(&d.updated_at.0))
                .collect();
            for d in &fresh {
                self.sent.insert(d.id.clone(), d.updated_at.0);
                self.watermark = self.watermark.max(d.updated_at.0);
            }
            let horizon = self.watermark - 2 * LATE_COMMIT_MS;
            self.sent.retain(|_, at| *at >= horizon);
            if !fresh.is_empty() {
                return Ok(fresh);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn deliveries(
    State(app): State<AppState>,
    State(stopping): State<tokio::sync::watch::Receiver<bool>>,
    State(slots): State<Arc<StreamSlots>>,
    session: Session,
    Query(filter): Query<LiveQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let actor = app.auth.actor(&session).await?;
    actor.require(app::types::Role::Viewer)?;
    let slot = slots.claim(session.id().ok_or(AppError::Unauthorized)?)?;
    let tail = Tail {
        _slot: slot,
        app,
        session,
        actor,
        filter,
        // The page was rendered with the list as it stood a moment ago (see CATCH_UP_MS).
        watermark: now_ms() - CATCH_UP_MS + LATE_COMMIT_MS,
        sent: HashMap::new(),
        checked: tokio::time::Instant::now(),
    };
    let stream = futures_util::stream::unfold(Some(tail), move |tail| {
        let mut stopping = stopping.clone();
        async move {
            let mut tail = tail?;
            // On shutdown the stream ends, so the server's graceful stop does not wait for
            // it (the page's EventSource reconnects to whichever node serves next).
            let next = tokio::select! {
                next = tail.next_batch() => next,
                _ = stopping.wait_for(|s| *s) => return None,
            };
            match next {
                Ok(rows) => {
                    let data = serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into());
                    Some((
                        Ok(Event::default().event("deliveries").data(data)),
                        Some(tail),
                    ))
                }
                Err(e) => {
                    // Tell the page why, then end.
                    let data = serde_json::json!({"code": e.code(), "message": e.to_string()});
                    Some((
                        Ok(Event::default().event("end").data(data.to_string())),
                        None,
                    ))
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().and_then(app::backend::nonblank)
}
