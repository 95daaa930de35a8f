//! Checks every request passes before it reaches a handler: where a cookie-authenticated
//! write comes from (`origin`), how long a request may take (`time_limit`), and who may
//! frame a page (`framing`).

pub mod framing;
pub mod origin;
pub mod time_limit;

use app::error::AppError;
use axum::http::HeaderValue;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};

/// Where the dashboard's server functions are served.
pub const SERVER_FN_PREFIX: &str = "/api/fn/";

/// A refusal in the shape its caller reads: the server-function encoding for the
/// dashboard's calls (so the page shows the message inline), `{code, message, errors}`
/// for everything else.
pub fn refusal(path: &str, error: AppError) -> Response {
    if !path.starts_with(SERVER_FN_PREFIX) {
        return error.into_response();
    }
    let mut response = (error.status_code(), axum::Json(&error)).into_response();
    if let Some(secs) = error.retry_after_secs() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
