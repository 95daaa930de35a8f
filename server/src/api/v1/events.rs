//! `/api/v1/events`: publishing (one, or a batch of up to 1000 in one transaction) and
//! reading events with where each one went.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::time_fmt::Timestamp;
use app::types::Page;
use app::types::events::{
    EventDetail, EventSummary, PublishBatch, PublishEvent, Published, PublishedBatch,
};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router<S>() -> Router<S>
where
    AppState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/events", get(list).post(publish))
        .route("/events/batch", post(publish_batch))
        .route("/events/{id}", get(read))
}

#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = PublishEvent, params(("Idempotency-Key" = Option<String>, Header, description = "Per API key: the same key with the same request within 24 h answers with the same event (`Idempotent-Replayed: true`), no second fan-out; with a different request, 422 `idempotency_key_reused`")), responses((status = 202, description = "Stored with one delivery per matching endpoint", body = Published), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 413, description = "Body over the configured limit", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path. `code` is `idempotency_key_reused` when the Idempotency-Key was used in the last 24 h for a different request", body = ApiError), (status = 503, description = "The database is locked or unreachable; nothing was stored. Retry after `Retry-After` seconds", body = ApiError)), security(("bearer" = [])))]
async fn publish(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PublishEvent>,
) -> Result<(StatusCode, HeaderMap, Json<Published>), AppError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| AppError::invalid("Idempotency-Key", "must be visible ASCII"))?,
        ),
        None => None,
    };
    let outcome = app.events.publish(&actor, body, key).await?;
    let mut out = HeaderMap::new();
    if outcome.replayed {
        out.insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    Ok((StatusCode::ACCEPTED, out, Json(outcome.published)))
}

#[utoipa::path(post, path = "/api/v1/events/batch", tag = "events", request_body = PublishBatch, responses((status = 202, description = "All stored in one transaction", body = PublishedBatch), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 413, description = "Body over the configured limit", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path (over 1000 events or the byte cap: `events`; a reused idempotency key: `events[i].idempotency_key`)", body = ApiError), (status = 503, description = "The database is locked or unreachable; nothing was stored. Retry after `Retry-After` seconds", body = ApiError)), security(("bearer" = [])))]
async fn publish_batch(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<PublishBatch>,
) -> Result<(StatusCode, Json<PublishedBatch>), AppError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.events.publish_batch(&actor, body.events).await?),
    ))
}

#[derive(Deserialize)]
struct ListQuery {
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

pub(super) fn time_param(name: &str, v: Option<String>) -> Result<Option<Timestamp>, AppError> {
    v.map(|s| Timestamp::parse(&s).map_err(|e| AppError::invalid(name, e)))
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(("event_type" = Option<String>, Query), ("since" = Option<String>, Query, description = "RFC 3339, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339, exclusive"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query)), responses((status = 200, body = Page<EventSummary>), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<EventSummary>>, AppError> {
    let since = time_param("since", q.since)?;
    let until = time_param("until", q.until)?;
    let page = app
        .events
        .list(
            &actor,
            q.event_type.as_deref(),
            since,
            until,
            q.cursor.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)), responses((status = 200, body = EventDetail), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EventId>,
) -> Result<Json<EventDetail>, AppError> {
    Ok(Json(app.events.get(&actor, &id).await?))
}
