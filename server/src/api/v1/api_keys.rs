//! `/api/v1/api-keys`: create (the key is in the answer, once), list, revoke. Admin only.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::types::{ApiKeyView, CreatedApiKey, NewApiKey};
use axum::extract::State;
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

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewApiKey, responses((status = 201, description = "Created; `key` is shown only in this answer", body = CreatedApiKey), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), AppError> {
    let created = app.api_keys.create(&actor, &body.name, body.scope).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", responses((status = 200, body = Vec<ApiKeyView>), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<ApiKeyView>>, AppError> {
    Ok(Json(app.api_keys.list(&actor).await?))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path)), responses((status = 200, description = "Revoked (revoking twice is harmless)", body = ApiKeyView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn revoke(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::ApiKeyId>,
) -> Result<Json<ApiKeyView>, AppError> {
    Ok(Json(app.api_keys.revoke(&actor, &id).await?))
}
