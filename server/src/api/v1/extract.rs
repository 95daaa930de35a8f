//! Extractors that turn bad requests into the API's error shape: who is calling (bearer
//! API key), a typed id or a name from the path, a query string and a JSON body whose
//! errors name the parameter or path that is wrong.

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
        let raw = path_text(parts, state).await?;
        Ok(ApiId(T::from_str(&raw)?))
    }
}

/// The one parameter of the path, decoded: one that does not decode names nothing (404).
async fn path_text<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, AppError> {
    let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|e| AppError::NotFound(e.body_text()))?;
    Ok(raw)
}

/// A name from the URL (`/event-types/{name}`): one that holds a control character (no
/// name does), or is not UTF-8 once decoded, names nothing (404) instead of reaching the
/// database.
pub struct ApiName(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiName {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let raw = path_text(parts, state).await?;
        if raw.chars().any(char::is_control) {
            return Err(AppError::NotFound("a name with control characters".into()));
        }
        Ok(ApiName(raw))
    }
}

/// A query string parsed into `T` (whose fields say what each parameter may be): a value
/// of the wrong type, out of its range, repeated, unknown to `T`, not UTF-8 or holding a
/// NUL character is a 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let raw = parts.uri.query().unwrap_or("");
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = |part: &str| {
                let spaced = part.replace('+', " ");
                percent_encoding::percent_decode_str(&spaced)
                    .decode_utf8()
                    .map(|text| text.into_owned())
            };
            let name = decoded(name).map_err(|_| {
                AppError::invalid(
                    "",
                    "the query string holds a parameter name that is not UTF-8",
                )
            })?;
            let value =
                decoded(value).map_err(|_| AppError::invalid(name.as_str(), "is not UTF-8"))?;
            // Neither database stores a NUL as text (Postgres refuses it).
            if name.contains('\0') || value.contains('\0') {
                return Err(AppError::invalid(name, "holds a NUL character"));
            }
        }
        // Checked for UTF-8 above, so the decoding below replaces nothing.
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        let value = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            AppError::invalid(path, e.into_inner().to_string())
        })?;
        Ok(ApiQuery(value))
    }
}

/// The query of a list that takes only a page: `?cursor=…&limit=…`.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<app::types::PageLimit>,
}

impl PageQuery {
    pub fn limit(&self) -> u32 {
        app::types::PageLimit::or(self.limit, 100)
    }
}

/// The configured maximum request body, for the 413 message.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body. Without `Content-Type: application/json` (or `+json`) it is a 415;
/// malformed JSON is a 400 with line and column; JSON of the wrong shape, against the
/// operation's schema in the OpenAPI document (see [`super::openapi::requests`]), nested
/// deeper than `MAX_JSON_DEPTH` or holding a NUL character is a 422 naming the path
/// (`events[3].data`); a body over the limit is a 413.
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
        // The operation's schema in the document, checked before the body is read into T.
        let schemas = req
            .extensions()
            .get::<std::sync::Arc<super::openapi::requests::RequestSchemas>>()
            .cloned();
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned());
        let method = req.method().clone();
        let Some(ct) = req.headers().get(CONTENT_TYPE) else {
            return Err(AppError::UnsupportedMediaType(
                "this operation takes a JSON body: send Content-Type: application/json".into(),
            ));
        };
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
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge { limit_bytes: limit }
            } else {
                AppError::Request(e.body_text())
            }
        })?;
        // Before any parsing (see check_json_text for why).
        app::backend::limits::check_json_text(&bytes, "")
            .map_err(|e| AppError::invalid_many(vec![e]))?;
        // Every body of this API is an object; serde would also read a struct from an
        // array of its fields in order, which no client means.
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | None => {}
            Some(_) => return Err(AppError::invalid("", "the body must be a JSON object")),
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| AppError::Request(format!("invalid JSON: {e}")))?;
        let problems = match (&schemas, &route) {
            (Some(schemas), Some(route)) => schemas.check(&method, route, &value),
            _ => Vec::new(),
        };
        if !problems.is_empty() {
            // serde's words for a wrong shape ("unknown field `x`, expected one of …") say
            // more than the schema's; its own reading is tried first, on a borrow.
            if let Err(e) = serde_path_to_error::deserialize::<_, T>(&value) {
                return Err(shape_error(e));
            }
            return Err(AppError::invalid_many(problems));
        }
        let value = serde_path_to_error::deserialize(value).map_err(shape_error)?;
        Ok(ApiJson(value))
    }
}

/// JSON of the wrong shape for its type: a 422 naming the place.
fn shape_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let message = strip_position(&e.into_inner().to_string());
    AppError::Validation {
        message: if path.is_empty() {
            message.clone()
        } else {
            format!("{path}: {message}")
        },
        errors: vec![FieldError::new(path, message)],
    }
}

/// serde_json appends " at line 1 column 42" to data errors; the path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
