//! One access-log line per request, at info: method, path (never the query string, which
//! may carry tokens), status, duration and the request id. The id is the caller's
//! `X-Request-Id` when it is a sane one (up to 64 of `A-Z a-z 0-9 . _ -`), else a new one;
//! it is echoed in the response's `X-Request-Id` and is a field of every line logged while
//! the request runs.

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id a request is known by.
fn request_id(given: Option<&HeaderValue>) -> String {
    given
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| app::backend::ids::new_id("req"))
}

pub async fn log(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers().get(&REQUEST_ID));
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        otel.name = %format!("HTTP {method}"),
        otel.kind = "server",
    );
    // Traces continue the caller's (when traces are on).
    let parent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    app::backend::trace::continue_from(&span, parent);
    let mut response = next.run(req).instrument(span.clone()).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    let status = response.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            %method,
            path,
            status,
            duration_ms = (ms * 1000.0).round() / 1000.0,
            peer = peer.as_deref().unwrap_or("-"),
            "request"
        );
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_id_is_kept_and_anything_else_replaced() {
        let keep = HeaderValue::from_static("abc-123_X.y");
        assert_eq!(request_id(Some(&keep)), "abc-123_X.y");
        for bad in ["", "has space", "new\u{7f}line", &"x".repeat(65)] {
            let v = HeaderValue::from_str(bad).ok();
            let id = request_id(v.as_ref());
            assert!(id.starts_with("req_") && id.len() == 30, "{bad:?} -> {id}");
        }
        assert!(request_id(None).starts_with("req_"));
    }
}
