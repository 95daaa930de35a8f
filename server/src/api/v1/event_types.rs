//! `/api/v1/event-types`: the event catalogue. Reading needs any role; changing needs editor.

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

async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<EventTypeView>>, AppError> {
    Ok(Json(
        app.event_types.list(&actor, q.include_archived).await?,
    ))
}

async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
) -> Result<Json<EventTypeView>, AppError> {
    Ok(Json(app.event_types.get(&actor, &name).await?))
}

async fn replace(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<EventTypeInput>,
) -> Result<Json<EventTypeView>, AppError> {
    Ok(Json(app.event_types.update(&actor, &name, body).await?))
}

async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
) -> Result<StatusCode, AppError> {
    app.event_types.delete(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
