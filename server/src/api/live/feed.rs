//! What every live stream shares: the session re-checked every few seconds, a poll of
//! the database every half second for rows a [`Feed`] has not sent yet, the end of the
//! stream on shutdown or when the session ends (with an `end` event saying why), and one
//! slot per open stream.

use super::{StreamSlot, StreamSlots};
use app::backend::{Actor, AppState, now_ms};
use app::error::AppError;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Serialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions::Session;

/// How often a stream looks for changes.
const POLL: Duration = Duration::from_millis(500);
/// A change is looked for again this long after its timestamp: a row's timestamp is set
/// before its transaction commits, so it can become visible a little "in the past".
pub(super) const LATE_COMMIT_MS: i64 = 5_000;
/// A new stream first sends the changes of this long before it opened. The page read its
/// list before it loaded its code and opened the stream, which on a busy machine takes
/// seconds: a change in that gap would otherwise never reach it. Rows it already shows
/// are updated in place (the page merges by id).
const CATCH_UP_MS: i64 = 60_000;
/// The session is read again from the store this often (a sign-out, an expiry or a
/// removal ends the stream).
const RECHECK: Duration = Duration::from_secs(2);

/// One kind of live rows: those changed at or after `since` (ms), oldest first, each
/// with its id and the time it changed.
pub(super) trait Feed: Send + 'static {
    type Row: Serialize + Send;
    type Id: Hash + Eq + Clone + Send;
    /// The SSE event name (`deliveries`, `requests`).
    const EVENT: &'static str;
    /// The most rows one read returns.
    const LIMIT: usize;
    fn changed_since(
        &self,
        app: &AppState,
        actor: &Actor,
        since: i64,
    ) -> impl Future<Output = Result<Vec<Self::Row>, AppError>> + Send;
    fn key(row: &Self::Row) -> (Self::Id, i64);
}

struct Tail<F: Feed> {
    app: AppState,
    session: Session,
    actor: Actor,
    feed: F,
    /// The newest change sent, and what was sent for each row recently.
    watermark: i64,
    sent: HashMap<F::Id, i64>,
    /// The last read was a full page: read on from the watermark itself, without the
    /// margin for late commits, so a flood of rows within it cannot hold the stream still.
    saturated: bool,
    checked: tokio::time::Instant,
    _slot: StreamSlot,
}

impl<F: Feed> Tail<F> {
    async fn next_batch(&mut self) -> Result<Vec<F::Row>, AppError> {
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
            let margin = if self.saturated { 0 } else { LATE_COMMIT_MS };
            let rows = self
                .feed
                .changed_since(&self.app, &self.actor, self.watermark - margin)
                .await?;
            self.saturated = rows.len() >= F::LIMIT;
            let fresh: Vec<_> = rows
                .into_iter()
                .filter(|r| {
                    let (id, at) = F::key(r);
                    self.sent.get(&id) != Some(&at)
                })
                .collect();
            for r in &fresh {
                let (id, at) = F::key(r);
                self.sent.insert(id, at);
                self.watermark = self.watermark.max(at);
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

/// Opens a stream of `feed` for the signed-in `session` (any role).
pub(super) async fn stream<F: Feed>(
    app: AppState,
    stopping: tokio::sync::watch::Receiver<bool>,
    slots: Arc<StreamSlots>,
    session: Session,
    feed: F,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let actor = app.auth.actor(&session).await?;
    actor.require(app::types::Role::Viewer)?;
    let slot = slots.claim(session.id().ok_or(AppError::Unauthorized)?)?;
    let tail = Tail {
        _slot: slot,
        app,
        session,
        actor,
        feed,
        // The page was rendered with the list as it stood a moment ago (see CATCH_UP_MS).
        watermark: now_ms() - CATCH_UP_MS + LATE_COMMIT_MS,
        sent: HashMap::new(),
        saturated: false,
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
                    Some((Ok(Event::default().event(F::EVENT).data(data)), Some(tail)))
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
