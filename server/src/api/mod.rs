//! HTTP routes outside the dashboard. One file per resource, each with its own `router()`.

pub mod health;

use crate::startup::ServerState;
use axum::Router;

pub fn router() -> Router<ServerState> {
    Router::new().merge(health::router())
}
