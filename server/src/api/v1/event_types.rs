//! `/api/v1/event-types`: the event catalogue. Reading needs any role; changing needs editor.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiJson, ApiName, ApiQuery};
use app::backend::AppState;
use app::error::AppError;
use app::types::{EventTypeInput, EventTypeView, Page, PageLimit};
use axum::extract::State;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Also the archived types (default false).
    #[serde(default)]
    #[param(value_type = Option<bool>)]
    include_archived: bool,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Event types per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<PageLimit>,
}

#[utoipa::path(post, path = "/api/v1/event-types", tag = "event-types", request_body = EventTypeInput, responses((status = 201, body = EventTypeView), (status = 409, description = "Conflicts with the current state", body = ApiError)), security(("bearer" = [])))]
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

#[utoipa::path(get, path = "/api/v1/event-types", tag = "event-types", params(ListQuery), responses((status = 200, body = Page<EventTypeView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<EventTypeView>>, AppError> {
    let limit = PageLimit::or(q.limit, 100);
    let page = app
        .event_types
        .page(&actor, q.include_archived, q.cursor.as_deref(), limit);
    Ok(Json(page.await?))
}

#[utoipa::path(get, path = "/api/v1/event-types/{name}", tag = "event-types", params(("name" = String, Path)), responses((status = 200, body = EventTypeView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiName(name): ApiName,
) -> Result<Json<EventTypeView>, AppError> {
    Ok(Json(app.event_types.get(&actor, &name).await?))
}

#[utoipa::path(put, path = "/api/v1/event-types/{name}", tag = "event-types", params(("name" = String, Path)), request_body = EventTypeInput, responses((status = 200, body = EventTypeView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn replace(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiName(name): ApiName,
    ApiJson(body): ApiJson<EventTypeInput>,
) -> Result<Json<EventTypeView>, AppError> {
    Ok(Json(app.event_types.update(&actor, &name, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/event-types/{name}", tag = "event-types", params(("name" = String, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiName(name): ApiName,
) -> Result<StatusCode, AppError> {
    app.event_types.delete(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
