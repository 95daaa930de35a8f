//! `/api/v1/deliveries`: the delivery log with every attempt, manual retries, and bulk
//! replays of an endpoint's failures with progress to poll.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson, ApiQuery};
use app::backend::AppState;
use app::backend::deliveries::DeliveryQuery;
use app::error::AppError;
use app::time_fmt::Timestamp;
use app::types::events::DeliveryStatus;
use app::types::events::{DeliveryDetail, DeliveryView, ReplayRequest, ReplayView};
use app::types::{Page, PageLimit};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router<S>() -> Router<S>
where
    AppState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/deliveries", get(list))
        .route("/deliveries/{id}", get(read))
        .route("/deliveries/{id}/retry", post(retry))
        .route("/endpoints/{id}/replay", post(replay))
        .route("/replays/{id}", get(replay_progress))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only this endpoint's deliveries (its id).
    endpoint: Option<String>,
    /// Only deliveries in this state.
    status: Option<DeliveryStatus>,
    /// Only deliveries of this event type.
    event_type: Option<String>,
    /// Only this event's deliveries (its id).
    event_id: Option<String>,
    /// Only deliveries created at or after this time.
    since: Option<Timestamp>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Deliveries per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<PageLimit>,
}

#[utoipa::path(get, path = "/api/v1/deliveries", tag = "deliveries", params(ListQuery),
    responses((status = 200, body = Page<DeliveryView>)),
    security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<DeliveryView>>, AppError> {
    let page = app
        .deliveries
        .list(
            &actor,
            DeliveryQuery {
                endpoint_id: q.endpoint.as_deref(),
                status: q.status.map(DeliveryStatus::as_str),
                event_type: q.event_type.as_deref(),
                event_id: q.event_id.as_deref(),
                since_ms: q.since.map(|t| t.0),
                cursor: q.cursor.as_deref(),
                limit: PageLimit::or(q.limit, 100),
            },
        )
        .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::DeliveryId>,
) -> Result<Json<DeliveryDetail>, AppError> {
    Ok(Json(app.deliveries.get(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 202, description = "Queued to be sent now", body = DeliveryView),
              (status = 404, body = ApiError), (status = 409, description = "In flight right now", body = ApiError)),
    security(("bearer" = [])))]
async fn retry(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::DeliveryId>,
) -> Result<(StatusCode, Json<DeliveryView>), AppError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(app.deliveries.retry(&actor, &id).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/endpoints/{id}/replay", tag = "deliveries", params(("id" = String, Path)), request_body = ReplayRequest,
    responses((status = 202, description = "Re-queued; poll GET /api/v1/replays/{id}", body = ReplayView),
              (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn replay(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<(StatusCode, Json<ReplayView>), AppError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(
            app.deliveries
                .replay(&actor, &id, body.status, body.since)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/replays/{id}", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 200, body = ReplayView), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn replay_progress(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::ReplayId>,
) -> Result<Json<ReplayView>, AppError> {
    Ok(Json(app.deliveries.replay_progress(&actor, &id).await?))
}
