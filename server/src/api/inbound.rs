//! `POST /in/{id}`: where partners post their webhooks. No API key: each source verifies
//! its partner by its own scheme (see `app::backend::sources`). The answer is the
//! source's: 202 with the event id once the event is committed, 200 for a duplicate,
//! 401/403 when refused, 413 over its body limit, 422 when the body is not a valid event,
//! 429 (with `Retry-After`) over its rate limit; 404 for no such source.

use crate::api::state::ServerState;
use app::backend::AppState;
use app::backend::sources::receive::{Admission, Received};
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
    let query = query.as_deref().unwrap_or("");
    // The source and its rate limit are checked, and its body limit known, before its
    // body is read; reading stops at the limit.
    let admitted = app
        .sources
        .admit(&id, Received::http(peer.ip(), headers.clone(), query, b""))
        .await?;
    let reply = match admitted {
        Admission::Refused(reply) => reply,
        Admission::Read(admitted) => match axum::body::to_bytes(body, admitted.limit()).await {
            Ok(bytes) => {
                let received = Received::http(peer.ip(), headers, query, &bytes);
                app.sources.receive(&app.events, admitted, received).await?
            }
            Err(_) => {
                let received = Received::http(peer.ip(), headers, query, b"");
                app.sources.refuse_oversized(admitted, received).await?
            }
        },
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::ACCEPTED);
    let mut response = (status, Json(reply.body)).into_response();
    if let Some(secs) = reply.retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    Ok(response)
}
