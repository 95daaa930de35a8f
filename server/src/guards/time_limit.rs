//! `--request-timeout`: a request that has not produced its response in time is stopped
//! (its future dropped, so an open transaction rolls back) and answered 503. The live
//! stream is exempt: it is meant to stay open.

use super::refusal;
use app::error::AppError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct TimeLimit {
    pub limit: Duration,
    /// Paths under this prefix are long-lived on purpose.
    pub exempt_prefix: &'static str,
}

pub async fn enforce(State(policy): State<TimeLimit>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(policy.exempt_prefix) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(policy.limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%path, limit = ?policy.limit, "request stopped at the time limit");
            let limit_secs = policy.limit.as_secs_f64().ceil() as u64;
            refusal(&path, AppError::TimedOut { limit_secs })
        }
    }
}
