//! `GET /live/deliveries`: the dashboard's live delivery log, as server-sent events.
//!
//! Signed-in users (any role) only, by session cookie, since `EventSource` cannot send an
//! API key. The stream reads the database, not this process's memory, so on several nodes
//! it shows deliveries made by every node. Each `deliveries` event carries a JSON array of
//! deliveries that changed (same shape as `GET /api/v1/deliveries` items).

use crate::startup::ServerState;
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
use std::time::Duration;
use tower_sessions::Session;

/// How often the stream looks for changes.
const POLL: Duration = Duration::from_millis(500);
/// A change is looked for again this long after its timestamp: a row's `updated_at` is
/// set before its transaction commits, so it can become visible a little "in the past".
const LATE_COMMIT_MS: i64 = 5_000;
/// The session is checked again this often (a sign-out or removal ends the stream).
const RECHECK: Duration = Duration::from_secs(10);

pub fn router() -> Router<ServerState> {
    Router::new().route("/live/deliveries", get(deliveries))
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
    sent: HashMap<String, i64>,
    checked: tokio::time::Instant,
}

impl Tail {
    async fn next_batch(&mut self) -> Result<Vec<app::types::events::DeliveryView>, AppError> {
        loop {
            if self.checked.elapsed() >= RECHECK {
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
    session: Session,
    Query(filter): Query<LiveQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let actor = app.auth.actor(&session).await?;
    actor.require(app::types::Role::Viewer)?;
    let tail = Tail {
        app,
        session,
        actor,
        filter,
        // The page was rendered with the list as it stood; the stream starts from now.
        watermark: now_ms(),
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
