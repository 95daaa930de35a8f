//! The HTTP router's state, built once by `startup` and shared by every route: what the
//! leptos handlers need, the application state, the engine (for readiness) and the
//! shutdown signal long-lived responses listen to.

use app::backend::AppState;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// The axum router's state: what the leptos handlers need plus the application state.
#[derive(Clone, FromRef)]
pub struct ServerState {
    pub leptos_options: LeptosOptions,
    pub app: AppState,
    pub engine: std::sync::Arc<crate::engine::Engine>,
    /// `--no-engine`: readiness does not wait for a delivery engine.
    pub api_only: bool,
    /// Turns true when shutdown begins: long-lived responses (the live log) end then.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Live streams open per session (capped).
    pub live_streams: std::sync::Arc<crate::api::live::StreamSlots>,
    /// `--metrics-token`: `/metrics` asks for it when set.
    pub metrics_token: Option<std::sync::Arc<crate::telemetry::args::MetricsToken>>,
}
