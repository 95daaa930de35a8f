//! `POST /in/{id}`: where partners post their webhooks. No API key: each source verifies
//! its partner by its own scheme (see `app::backend::sources`). The answer is the
//! source's: 202 with the event id once the event is committed, 200 for a duplicate,
//! 401/403 when refused, 422 when the body is not a valid event; 404 for no such source.

use crate::api::state::ServerState;
use app::backend::AppState;
use app::backend::sources::receive::Received;
use app::error::AppError;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::net::SocketAddr;

/// Each source has its own body limit, applied while the body is read (see `receive`).
pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/in/{id}", post(receive))
        .layer(DefaultBodyLimit::disable())
}

async fn receive(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    // The source's limit is known before its body is read, and reading stops there.
    let limit = app.sources.body_limit(&id).await?;
    let query = query.as_deref().unwrap_or("");
    let reply = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            let received = Received {
                remote: peer.ip(),
                headers,
                query,
                body: &bytes,
            };
            app.sources.receive(&app.events, &id, received).await?
        }
        Err(_) => {
            let received = Received {
                remote: peer.ip(),
                headers,
                query,
                body: b"",
            };
            app.sources.refuse_oversized(&id, received, limit).await?
        }
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::ACCEPTED);
    Ok((status, Json(reply.body)).into_response())
}
