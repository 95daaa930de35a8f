//! Liveness and readiness probes.

use crate::api::state::ServerState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "up" }))
}

/// Ready when the database answers and the delivery engine runs.
async fn readyz(State(state): State<ServerState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.app.db.ping().await {
        Ok(()) if !state.engine.running() && !state.api_only => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({ "status": "unavailable", "database": state.app.db.backend_name(), "engine": "stopped" }),
            ),
        ),
        Ok(()) => (
            StatusCode::OK,
            Json(
                json!({ "status": "ready", "database": state.app.db.backend_name(), "engine": "running" }),
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
        }
    }
}

/// Prometheus text format.
async fn metrics(
    State(state): State<ServerState>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), StatusCode> {
    let counts = state.app.deliveries.queue_counts().await.map_err(|e| {
        tracing::warn!(error = %e, "metrics: reading queue depth failed");
        StatusCode::SERVICE_UNAVAILABLE
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.app.shared.metrics.render(counts.0, counts.1),
    ))
}
