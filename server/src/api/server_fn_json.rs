//! The dashboard's JSON server functions (`/api/fn/*` with a JSON body, e.g. saving an
//! endpoint with its filter and template) get the REST API's input limits: at most
//! `--max-body-bytes`, nested at most `MAX_JSON_DEPTH` deep, checked before server_fn
//! parses the body (its own refusal would be a plain 400 that names no place).

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn limit(body_limit: usize, req: Request, next: Next) -> Response {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
    if !is_json || !req.uri().path().starts_with("/api/fn/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return AppError::PayloadTooLarge {
                limit_bytes: body_limit,
            }
            .into_response();
        }
    };
    if let Err(e) = app::backend::limits::check_json_text(&bytes, "") {
        return AppError::invalid_many(vec![e]).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
