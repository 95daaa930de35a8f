//! HTTP routes outside the dashboard: probes, the REST API and inbound webhooks (`/in/{id}`). One file per resource, each
//! with its own `router()`.

pub mod health;
pub mod inbound;
pub mod live;
pub mod portal;
pub mod server_fn_json;
pub mod state;
pub mod v1;

use crate::api::state::ServerState;
use axum::Router;

pub fn router(body_limit: usize) -> Router<ServerState> {
    Router::new()
        .merge(health::router())
        .merge(live::router())
        .merge(inbound::router())
        .nest("/api/v1", v1::router(body_limit))
}
