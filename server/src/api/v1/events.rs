//! `/api/v1/events`: publishing (one, or a batch of up to 1000 in one transaction) and
//! reading events with where each one went.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson, ApiQuery};
use app::backend::AppState;
use app::error::AppError;
use app::time_fmt::Timestamp;
use app::types::events::{
    EventDetail, EventSummary, PublishBatch, PublishEvent, Published, PublishedBatch,
};
use app::types::{Page, PageLimit};
use axum::extract::State;
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

#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = PublishEvent, params(("Idempotency-Key" = Option<String>, Header, description = "Per API key: the same key with the same request within 24 h answers with the same event (`Idempotent-Replayed: true`), no second fan-out; with a different request, 422 `idempotency_key_reused`")), responses((status = 202, description = "Stored with one delivery per matching endpoint", body = Published), (status = 413, description = "Body over the configured limit", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path. `code` is `idempotency_key_reused` when the Idempotency-Key was used in the last 24 h for a different request", body = ApiError), (status = 503, description = "The database is locked or unreachable; nothing was stored. Retry after `Retry-After` seconds", body = ApiError)), security(("bearer" = [])))]
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

#[utoipa::path(post, path = "/api/v1/events/batch", tag = "events", request_body = PublishBatch, responses((status = 202, description = "All stored in one transaction", body = PublishedBatch), (status = 413, description = "Body over the configured limit", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path (over 1000 events or the byte cap: `events`; a reused idempotency key: `events[i].idempotency_key`)", body = ApiError), (status = 503, description = "The database is locked or unreachable; nothing was stored. Retry after `Retry-After` seconds", body = ApiError)), security(("bearer" = [])))]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only events of this type.
    event_type: Option<String>,
    /// Only events created at or after this time.
    since: Option<Timestamp>,
    /// Only events created before this time.
    until: Option<Timestamp>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Events per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<PageLimit>,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(ListQuery), responses((status = 200, body = Page<EventSummary>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<EventSummary>>, AppError> {
    let page = app
        .events
        .list(
            &actor,
            q.event_type.as_deref(),
            q.since,
            q.until,
            q.cursor.as_deref(),
            PageLimit::or(q.limit, 100),
        )
        .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = String, Path)), responses((status = 200, body = EventDetail), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EventId>,
) -> Result<Json<EventDetail>, AppError> {
    Ok(Json(app.events.get(&actor, &id).await?))
}
