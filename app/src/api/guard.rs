//! Plumbing shared by the server functions: the state, the session and the caller.

use crate::backend::{Actor, AppState};
use crate::error::{AppError, AppResult};
use axum::extract::ConnectInfo;
use leptos::prelude::use_context;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

pub fn state() -> AppResult<AppState> {
    use_context::<AppState>()
        .ok_or_else(|| AppError::internal("server function without state", "AppState missing"))
}

pub async fn session() -> AppResult<Session> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::internal("session layer missing", e))
}

/// The signed-in caller, or 401.
pub async fn actor() -> AppResult<(AppState, Actor)> {
    let state = state()?;
    let session = session().await?;
    let actor = state.auth.actor(&session).await?;
    Ok((state, actor))
}

/// What the portal cookie's link grants now, or 401 with why (expired, revoked, not a
/// link). The dashboard's session plays no part: a portal request is never an admin's.
pub async fn portal_grant()
-> AppResult<(AppState, crate::backend::access::portal_links::PortalGrant)> {
    use crate::types::portal::PORTAL_COOKIE;
    let state = state()?;
    let headers = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(|e| AppError::internal("request headers missing", e))?;
    let token = crate::backend::access::cookies::value(&headers, PORTAL_COOKIE)
        .ok_or(AppError::Unauthorized)?;
    let grant = state
        .portal_links
        .verify(token)
        .await
        .map_err(|why| AppError::forbidden(why.to_string()))?;
    Ok((state, grant))
}

pub async fn client_ip() -> Option<IpAddr> {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Every server function ends here: an error gets its real HTTP status (401, 403, 422,
/// 429 with Retry-After…) instead of server_fn's blanket 500, so direct callers and
/// proxies see what happened.
pub fn finish<T>(result: AppResult<T>) -> AppResult<T> {
    if let Err(e) = &result
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(e.status_code());
        if let Some(retry_after_secs) = e.retry_after_secs() {
            response.insert_header(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
    }
    result
}
