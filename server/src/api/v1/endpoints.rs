//! `/api/v1/endpoints`: where events go. Reading needs any role; changing (and reading the
//! signing secret) needs editor. Credentials come back masked.

use super::extract::{ApiActor, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::types::Page;
use app::types::endpoints::{EndpointInput, EndpointSecret, EndpointView};
use axum::extract::{Path, Query, State};
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
        .route("/endpoints", get(list).post(create))
        .route("/endpoints/{id}", get(read).patch(update).delete(remove))
        .route("/endpoints/{id}/secret", get(secret))
        .route("/endpoints/{id}/secret/rotate", post(rotate))
}

#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<EndpointInput>,
) -> Result<(StatusCode, Json<EndpointView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(app.endpoints.create(&actor, body).await?),
    ))
}

async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<EndpointView>>, AppError> {
    Ok(Json(
        app.endpoints
            .list(&actor, q.cursor.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}

async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<EndpointView>, AppError> {
    Ok(Json(app.endpoints.get(&actor, &id).await?))
}

/// A JSON merge: the fields present replace the current ones (`null` clears optional ones).
async fn update(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<EndpointView>, AppError> {
    Ok(Json(app.endpoints.patch(&actor, &id, patch).await?))
}

async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    app.endpoints.delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secret(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<EndpointSecret>, AppError> {
    Ok(Json(app.endpoints.secret(&actor, &id).await?))
}

async fn rotate(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<EndpointSecret>, AppError> {
    Ok(Json(app.endpoints.rotate_secret(&actor, &id).await?))
}
