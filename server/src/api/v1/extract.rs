//! Extractors that turn bad requests into the API's error shape: who is calling (bearer
//! API key), a typed id from the path, and a JSON body whose errors name the path that
//! is wrong.

use app::backend::{Actor, AppState};
use app::error::AppError;
use app::types::FieldError;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The caller, authenticated by `Authorization: Bearer hlk_…`.
pub struct ApiActor(pub Actor);

impl<S> FromRequestParts<S> for ApiActor
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthorized)?;
        let (scheme, token) = header.split_once(' ').ok_or(AppError::Unauthorized)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AppError::Unauthorized);
        }
        let state = AppState::from_ref(state);
        Ok(ApiActor(state.api_keys.authenticate(token.trim()).await?))
    }
}

/// A typed id from the URL (`/endpoints/{id}`), checked before any work: one that is not
/// of its kind names nothing, a 404 that says what such an id looks like. Put it after
/// [`ApiActor`], so an unauthenticated caller learns nothing about ids.
pub struct ApiId<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiId<T>
where
    T: std::str::FromStr<Err = app::types::ids::IdError> + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| AppError::NotFound(e.body_text()))?;
        Ok(ApiId(T::from_str(&raw)?))
    }
}

/// The configured maximum request body, for the 413 message.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body. Malformed JSON is a 400 with line and column; JSON of the wrong shape, or
/// nested deeper than `MAX_JSON_DEPTH`, is a 422 naming the path (`events[3].data`); a body
/// over the limit is a 413.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or(0);
        if let Some(ct) = req.headers().get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(AppError::UnsupportedMediaType(format!(
                    "Content-Type must be application/json, got '{ct}'"
                )));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge { limit_bytes: limit }
            } else {
                AppError::Request(e.body_text())
            }
        })?;
        // Before any parsing: a deep document would otherwise fail deep inside serde_json
        // (or a recursive walk after it) with a message that names no place.
        app::backend::limits::check_depth(&bytes, "")
            .map_err(|e| AppError::invalid_many(vec![e]))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                AppError::Request(format!("invalid JSON: {inner}"))
            } else {
                let path = if path == "." { String::new() } else { path };
                let message = strip_position(&inner.to_string());
                AppError::Validation {
                    message: if path.is_empty() {
                        message.clone()
                    } else {
                        format!("{path}: {message}")
                    },
                    errors: vec![FieldError::new(path, message)],
                }
            }
        })?;
        de.end()
            .map_err(|e| AppError::Request(format!("invalid JSON: {e}")))?;
        Ok(ApiJson(value))
    }
}

/// serde_json appends " at line 1 column 42" to data errors; the path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
