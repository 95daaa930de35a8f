//! `/api/v1/sources`: where partners' webhooks come in. Reading needs any role; changing
//! needs editor. Secrets come back masked. Each source's inbound log is
//! `/api/v1/sources/{id}/requests`, newest first.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::types::Page;
use app::types::ids::SourceId;
use app::types::sources::{InboundRequestView, SourceInput, SourceView};
use axum::extract::{Query, State};
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
        .route("/sources", get(list).post(create))
        .route("/sources/{id}", get(read).patch(update).delete(remove))
        .route("/sources/{id}/requests", get(requests))
}

#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/sources", tag = "sources", request_body = SourceInput, responses((status = 201, body = SourceView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<SourceInput>,
) -> Result<(StatusCode, Json<SourceView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(app.sources.create(&actor, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/sources", tag = "sources", params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query)), responses((status = 200, body = Page<SourceView>), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<SourceView>>, AppError> {
    Ok(Json(
        app.sources
            .list(&actor, q.cursor.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/sources/{id}", tag = "sources", params(("id" = String, Path)), responses((status = 200, body = SourceView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
) -> Result<Json<SourceView>, AppError> {
    Ok(Json(app.sources.get(&actor, &id).await?))
}

/// The fields present replace the current ones; a secret sent back as `***` keeps its
/// stored value.
#[utoipa::path(patch, path = "/api/v1/sources/{id}", tag = "sources", params(("id" = String, Path)), request_body(content = Object, description = "Any fields of SourceInput to replace"), responses((status = 200, body = SourceView), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn update(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<SourceView>, AppError> {
    Ok(Json(app.sources.patch(&actor, &id, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/sources/{id}", tag = "sources", params(("id" = String, Path)), responses((status = 204, description = "Deleted: its URL answers 404 from now on"), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
) -> Result<StatusCode, AppError> {
    app.sources.delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/sources/{id}/requests", tag = "sources", params(("id" = String, Path), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query)), responses((status = 200, body = Page<InboundRequestView>), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn requests(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<InboundRequestView>>, AppError> {
    Ok(Json(
        app.sources
            .requests(&actor, &id, q.cursor.as_deref(), q.limit.unwrap_or(100))
            .await?,
    ))
}
