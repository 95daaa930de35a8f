//! `/api/v1/api-keys`: create (the key is in the answer, once), list, revoke. Admin only.

use super::extract::{ApiActor, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::types::{ApiKeyView, CreatedApiKey, NewApiKey};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};

pub fn router<S>() -> Router<S>
where
    AppState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", delete(revoke))
}

async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), AppError> {
    let created = app.api_keys.create(&actor, &body.name, body.scope).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ApiKeyView>>, AppError> {
    Ok(Json(app.api_keys.list(&actor).await?))
}

async fn revoke(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyView>, AppError> {
    Ok(Json(app.api_keys.revoke(&actor, &id).await?))
}
