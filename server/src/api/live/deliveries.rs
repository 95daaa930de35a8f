//! `GET /live/deliveries?endpoint=&status=&event_type=`: deliveries as they change, each
//! `deliveries` event an array of them.

use super::StreamSlots;
use super::feed::{Feed, stream};
use app::backend::deliveries::DeliveryQuery;
use app::backend::{Actor, AppState};
use app::error::AppError;
use app::types::events::DeliveryView;
use app::types::ids::DeliveryId;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

#[derive(Deserialize, Default, Clone)]
pub struct LiveQuery {
    endpoint: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().and_then(app::backend::nonblank)
}

impl Feed for LiveQuery {
    type Row = DeliveryView;
    type Id = DeliveryId;
    const LIMIT: usize = 500;
    const EVENT: &'static str = "deliveries";

    async fn changed_since(
        &self,
        app: &AppState,
        actor: &Actor,
        since: i64,
    ) -> Result<Vec<DeliveryView>, AppError> {
        let q = DeliveryQuery {
            endpoint_id: blank(&self.endpoint),
            status: blank(&self.status),
            event_type: blank(&self.event_type),
            ..Default::default()
        };
        app.deliveries
            .changed_since(actor, &q, since, Self::LIMIT as u32)
            .await
    }

    fn key(d: &DeliveryView) -> (DeliveryId, i64) {
        (d.id.clone(), d.updated_at.0)
    }
}

pub(super) async fn deliveries(
    State(app): State<AppState>,
    State(stopping): State<tokio::sync::watch::Receiver<bool>>,
    State(slots): State<Arc<StreamSlots>>,
    session: Session,
    Query(filter): Query<LiveQuery>,
) -> Result<impl IntoResponse, AppError> {
    stream(app, stopping, slots, session, filter).await
}
