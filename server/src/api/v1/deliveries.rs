//! `/api/v1/deliveries`: the delivery log with every attempt, manual retries, and bulk
//! replays of an endpoint's failures with progress to poll.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson};
use app::backend::AppState;
use app::backend::deliveries::DeliveryQuery;
use app::error::AppError;
use app::types::Page;
use app::types::events::{DeliveryDetail, DeliveryView, ReplayRequest, ReplayView};
use axum::extract::{Query, State};
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

#[derive(Deserialize)]
struct ListQuery {
    endpoint: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
    event_id: Option<String>,
    since: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/deliveries", tag = "deliveries",
    params(("endpoint" = Option<String>, Query), ("status" = Option<String>, Query, description = "pending, in_flight, succeeded, failed, dead, cancelled"),
           ("event_type" = Option<String>, Query), ("event_id" = Option<String>, Query), ("since" = Option<String>, Query, description = "RFC 3339: only deliveries created at or after"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Page<DeliveryView>), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<DeliveryView>>, AppError> {
    let page = app
        .deliveries
        .list(
            &actor,
            DeliveryQuery {
                endpoint_id: q.endpoint.as_deref(),
                status: q.status.as_deref(),
                event_type: q.event_type.as_deref(),
                event_id: q.event_id.as_deref(),
                since_ms: super::events::time_param("since", q.since)?.map(|t| t.0),
                cursor: q.cursor.as_deref(),
                limit: q.limit.unwrap_or(100),
            },
        )
        .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/deliveries/{id}", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::DeliveryId>,
) -> Result<Json<DeliveryDetail>, AppError> {
    Ok(Json(app.deliveries.get(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/deliveries/{id}/retry", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 202, description = "Queued to be sent now", body = DeliveryView), (status = 401, body = ApiError), (status = 403, body = ApiError),
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
    responses((status = 202, description = "Re-queued; poll GET /api/v1/replays/{id}", body = ReplayView), (status = 401, body = ApiError),
              (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
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
                .replay(&actor, &id, &body.status, body.since)
                .await?,
        ),
    ))
}

#[utoipa::path(get, path = "/api/v1/replays/{id}", tag = "deliveries", params(("id" = String, Path)),
    responses((status = 200, body = ReplayView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn replay_progress(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::ReplayId>,
) -> Result<Json<ReplayView>, AppError> {
    Ok(Json(app.deliveries.replay_progress(&actor, &id).await?))
}
