//! `/api/v1/event-types`: the event catalogue. Reading needs any role; changing needs editor.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::types::{EventTypeInput, EventTypeView};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router<S>() -> Router<S>
where
    AppState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/event-types", get(list).post(create))
        .route("/event-types/{name}", get(read).put(replace).delete(remove))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    include_archived: bool,
}

#[utoipa::path(post, path = "/api/v1/event-types", tag = "event-types", request_body = EventTypeInput, responses((status = 201, body = EventTypeView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 409, description = "Conflicts with the current state", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<EventTypeInput>,
) -> Result<(StatusCode, Json<EventTypeView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(app.event_types.create(&actor, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/event-types", tag = "event-types", params(("include_archived" = Option<bool>, Query)), responses((status = 200, body = Vec<EventTypeView>), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<EventTypeView>>, AppError> {
    Ok(Json(
        app.event_types.list(&actor, q.include_archived).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/event-types/{name}", tag = "event-types", params(("name" = String, Path)), responses((status = 200, body = EventTypeView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
) -> Result<Json<EventTypeView>, AppError> {
    Ok(Json(app.event_types.get(&actor, &name).await?))
}

#[utoipa::path(put, path = "/api/v1/event-types/{name}", tag = "event-types", params(("name" = String, Path)), request_body = EventTypeInput, responses((status = 200, body = EventTypeView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn replace(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<EventTypeInput>,
) -> Result<Json<EventTypeView>, AppError> {
    Ok(Json(app.event_types.update(&actor, &name, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/event-types/{name}", tag = "event-types", params(("name" = String, Path)), responses((status = 204, description = "Deleted"), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    app.event_types.delete(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
