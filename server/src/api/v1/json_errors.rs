//! Every error of the REST API answers its JSON error body (`{code, message, errors}`), also
//! those the framework writes before a handler runs: a method the path does not have (405,
//! keeping `Allow`), a path it could not decode, a body over the limit. Answers that are
//! already JSON pass untouched.

use app::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most of a framework's plain-text error that is kept as the message.
const MAX_MESSAGE_BYTES: usize = 2048;

/// `body_limit`: the configured maximum request body, for the 413 message.
pub async fn layer(State(body_limit): State<usize>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| {
            let mut text = String::from_utf8_lossy(&b).trim().to_string();
            if text.len() > MAX_MESSAGE_BYTES {
                let mut end = MAX_MESSAGE_BYTES;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            text
        })
        .unwrap_or_default();
    let error = match status.as_u16() {
        404 => AppError::NotFound(if text.is_empty() {
            "API route".into()
        } else {
            text
        }),
        405 => AppError::MethodNotAllowed(format!(
            "{method} is not a method of this path; the Allow header lists its methods"
        )),
        413 => AppError::PayloadTooLarge {
            limit_bytes: body_limit,
        },
        415 => AppError::UnsupportedMediaType(text),
        500.. => {
            // Not ours: whatever wrote it is logged, the caller gets the opaque face.
            tracing::error!(status = status.as_u16(), body = %text, "a non-JSON server error");
            AppError::Internal
        }
        _ => AppError::Request(if text.is_empty() {
            status.canonical_reason().unwrap_or("bad request").into()
        } else {
            text
        }),
    };
    let mut answer = error.into_response();
    *answer.status_mut() = status;
    for name in [ALLOW, RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer.map(Body::new)
}
