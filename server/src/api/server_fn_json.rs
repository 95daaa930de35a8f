//! The dashboard's JSON server functions (`/api/fn/*` with a JSON body, e.g. saving an
//! endpoint with its filter and template) get the REST API's input limits: at most
//! `--max-body-bytes`, nested at most `MAX_JSON_DEPTH` deep, checked before server_fn
//! parses the body (its own refusal would be a plain 400 that names no place). And every
//! server function's arguments that do not decode (an unknown enum value, a missing
//! field) are a 400, as the error they carry says, not the 500 server_fn answers them with.

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
    if !req.uri().path().starts_with("/api/fn/") {
        return next.run(req).await;
    }
    if !is_json {
        return bad_arguments_are_400(next.run(req).await).await;
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
    bad_arguments_are_400(
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await,
    )
    .await
}

/// server_fn answers arguments it cannot decode with 500 and the error its
/// `FromServerFnError` made of it, [`AppError::Request`], whose status is 400: that status.
async fn bad_arguments_are_400(res: Response) -> Response {
    if res.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return AppError::Internal.into_response();
    };
    if let Ok(e @ AppError::Request(_)) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = axum::http::StatusCode::from_u16(e.status())
            .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    }
    Response::from_parts(parts, Body::from(bytes))
}
