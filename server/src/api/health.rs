//! Liveness and readiness probes.

use crate::api::state::ServerState;
use app::backend::metrics::CONTENT_TYPE;
use app::error::AppError;
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

/// The OpenMetrics exposition (`app::backend::metrics`); behind `--metrics-token` when set.
async fn metrics(
    State(state): State<ServerState>,
    headers: axum::http::HeaderMap,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), AppError> {
    if let Some(token) = &state.metrics_token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if !token.admits(given) {
            return Err(AppError::Unauthorized);
        }
    }
    let counts = state.app.deliveries.queue_counts().await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)],
        state.app.shared.metrics.render(counts.0, counts.1),
    ))
}
