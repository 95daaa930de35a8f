//! `/api/v1/api-keys`: create (the key is in the answer, once), list, revoke. Admin only.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson, ApiQuery, PageQuery};
use app::backend::AppState;
use app::error::AppError;
use app::types::{ApiKeyView, CreatedApiKey, NewApiKey, Page};
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

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = NewApiKey, responses((status = 201, description = "Created; `key` is shown only in this answer", body = CreatedApiKey)), security(("bearer" = [])))]
async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), AppError> {
    let created = app.api_keys.create(&actor, &body.name, body.scope).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys", params(PageQuery), responses((status = 200, body = Page<ApiKeyView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<ApiKeyView>>, AppError> {
    Ok(Json(
        app.api_keys
            .page(&actor, q.cursor.as_deref(), q.limit())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path)), responses((status = 200, description = "Revoked (revoking twice is harmless)", body = ApiKeyView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn revoke(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::ApiKeyId>,
) -> Result<Json<ApiKeyView>, AppError> {
    Ok(Json(app.api_keys.revoke(&actor, &id).await?))
}
