//! `GET /live/sources/{id}`: a source's inbound log as requests come in, each `requests`
//! event an array of them (oldest first).

use super::StreamSlots;
use super::feed::{Feed, stream};
use app::backend::{Actor, AppState};
use app::error::AppError;
use app::types::ids::{InboundRequestId, SourceId};
use app::types::sources::InboundRequestView;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use std::sync::Arc;
use tower_sessions::Session;

struct Inbound(SourceId);

impl Feed for Inbound {
    type Row = InboundRequestView;
    type Id = InboundRequestId;
    const LIMIT: usize = 200;
    const EVENT: &'static str = "requests";

    async fn changed_since(
        &self,
        app: &AppState,
        actor: &Actor,
        since: i64,
    ) -> Result<Vec<InboundRequestView>, AppError> {
        app.sources
            .requests_since(actor, &self.0, since, Self::LIMIT as u32)
            .await
    }

    fn key(r: &InboundRequestView) -> (InboundRequestId, i64) {
        (r.id.clone(), r.received_at.0)
    }
}

pub(super) async fn inbound(
    State(app): State<AppState>,
    State(stopping): State<tokio::sync::watch::Receiver<bool>>,
    State(slots): State<Arc<StreamSlots>>,
    session: Session,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let id: SourceId = id.parse()?;
    stream(app, stopping, slots, session, Inbound(id)).await
}
