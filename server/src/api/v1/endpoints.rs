//! `/api/v1/endpoints`: where events go. Reading (and an endpoint's diagnosis) needs any
//! role; changing, test-firing, checking and reading the signing secret need editor.
//! Credentials come back masked.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson, ApiQuery, PageQuery};
use app::backend::AppState;
use app::error::AppError;
use app::types::Page;
use app::types::endpoints::{EndpointInput, EndpointSecret, EndpointView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

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
        .route("/endpoints/{id}/test", post(test_fire))
        .route("/endpoints/{id}/diagnosis", get(diagnosis))
        .route("/endpoints/{id}/check", post(check))
}

#[utoipa::path(post, path = "/api/v1/endpoints", tag = "endpoints", request_body = EndpointInput, responses((status = 201, body = EndpointView)), security(("bearer" = [])))]
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

#[utoipa::path(get, path = "/api/v1/endpoints", tag = "endpoints", params(PageQuery), responses((status = 200, body = Page<EndpointView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<EndpointView>>, AppError> {
    Ok(Json(
        app.endpoints
            .list(&actor, q.cursor.as_deref(), q.limit())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/endpoints/{id}", tag = "endpoints", params(("id" = String, Path)), responses((status = 200, body = EndpointView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
) -> Result<Json<EndpointView>, AppError> {
    Ok(Json(app.endpoints.get(&actor, &id).await?))
}

/// A JSON merge: the fields present replace the current ones (`null` clears optional ones).
#[utoipa::path(patch, path = "/api/v1/endpoints/{id}", tag = "endpoints", params(("id" = String, Path)), request_body(content = Object, description = "Any fields of EndpointInput to replace; null clears optional ones"), responses((status = 200, body = EndpointView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn update(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<EndpointView>, AppError> {
    Ok(Json(app.endpoints.patch(&actor, &id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/endpoints/{id}", tag = "endpoints", params(("id" = String, Path)), responses((status = 204, description = "Deleted; its undelivered deliveries become cancelled"), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
) -> Result<StatusCode, AppError> {
    app.endpoints.delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/endpoints/{id}/secret", tag = "endpoints", params(("id" = String, Path)), responses((status = 200, body = EndpointSecret), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn secret(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
) -> Result<Json<EndpointSecret>, AppError> {
    Ok(Json(app.endpoints.secret(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/endpoints/{id}/secret/rotate", tag = "endpoints", params(("id" = String, Path)), responses((status = 200, description = "New secret; the previous one signs beside it for 24 h", body = EndpointSecret), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn rotate(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
) -> Result<Json<EndpointSecret>, AppError> {
    Ok(Json(app.endpoints.rotate_secret(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/endpoints/{id}/test", tag = "endpoints", params(("id" = String, Path)),
    request_body = app::types::events::TestFire,
    responses((status = 200, description = "Sent once; the answer is in the body", body = app::types::events::TestFireResult),
              (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn test_fire(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
    ApiJson(body): ApiJson<app::types::events::TestFire>,
) -> Result<Json<app::types::events::TestFireResult>, AppError> {
    Ok(Json(app.test_fire(&actor, &id, body).await?))
}

#[utoipa::path(get, path = "/api/v1/endpoints/{id}/diagnosis", tag = "endpoints", params(("id" = String, Path)),
    responses((status = 200, description = "What its newest attempts (at most 50) say, in plain language, with the next step", body = app::types::diagnostics::Diagnosis),
              (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn diagnosis(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
) -> Result<Json<app::types::diagnostics::Diagnosis>, AppError> {
    Ok(Json(app.diagnose_endpoint(&actor, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/endpoints/{id}/check", tag = "endpoints", params(("id" = String, Path)),
    responses((status = 200, description = "One test event sent now (not retried), its answer and what it means", body = app::types::diagnostics::EndpointCheck),
              (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn check(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::EndpointId>,
) -> Result<Json<app::types::diagnostics::EndpointCheck>, AppError> {
    Ok(Json(app.check_endpoint(&actor, &id).await?))
}
