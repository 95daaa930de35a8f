//! The REST API, `/api/v1`: JSON in and out, `Authorization: Bearer <API key>`, errors as
//! `{code, message, errors: [{path, message}]}`.

pub mod alerts;
pub mod api_error;
pub mod api_keys;
pub mod audit;
pub mod deliveries;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod extract;
pub mod json_errors;
pub mod openapi;
pub mod portal_links;
pub mod sources;
pub mod tools;

use crate::api::state::ServerState;
use app::error::AppError;
use axum::Router;
use axum::extract::DefaultBodyLimit;

pub fn router(body_limit: usize) -> Router<ServerState> {
    Router::new()
        .merge(api_keys::router())
        .merge(portal_links::router())
        .merge(alerts::router())
        .merge(event_types::router())
        .merge(audit::router())
        .merge(deliveries::router())
        .merge(endpoints::router())
        .merge(events::router())
        .merge(sources::router())
        .merge(tools::router())
        .merge(openapi::router())
        .fallback(|| async { AppError::NotFound("API route".into()) })
        .layer(axum::Extension(extract::BodyLimit(body_limit)))
        .layer(axum::Extension(std::sync::Arc::new(
            openapi::requests::RequestSchemas::from_document(openapi::document()),
        )))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            body_limit,
            json_errors::layer,
        ))
}
