//! `/api/v1/sources`: where partners' webhooks come in. Reading needs any role; changing
//! needs editor. Secrets come back masked. Each source's inbound log is
//! `/api/v1/sources/{id}/requests`, newest first; a verified request may be replayed. A
//! signed sample tries the source end to end; the preview shows what a request would
//! become under settings being edited.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson, ApiQuery, PageQuery};
use app::backend::AppState;
use app::error::AppError;
use app::types::Page;
use app::types::ids::{InboundRequestId, SourceId};
use app::types::sources::{
    InboundPreview, InboundRequestView, PreviewInbound, RotateSourceSecret, SourceInput,
    SourceSecret, SourceView,
};
use axum::extract::{Path, State};
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
        .route("/sources", get(list).post(create))
        .route("/sources/{id}", get(read).patch(update).delete(remove))
        .route("/sources/preview", post(preview))
        .route("/sources/{id}/requests", get(requests))
        .route("/sources/{id}/requests/{request}", get(request))
        .route("/sources/{id}/requests/{request}/replay", post(replay))
        .route("/sources/{id}/sample", post(sample))
        .route("/sources/{id}/secret", get(secret))
        .route("/sources/{id}/secret/rotate", post(rotate))
        .route("/sources/{id}/secret/retire", post(retire))
}

/// `{id}` and `{request}`, each a 404 when it is not an id of its kind.
fn ids(raw: (String, String)) -> Result<(SourceId, InboundRequestId), AppError> {
    Ok((raw.0.parse()?, raw.1.parse()?))
}

#[utoipa::path(post, path = "/api/v1/sources", tag = "sources", request_body = SourceInput, responses((status = 201, body = SourceView)), security(("bearer" = [])))]
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

#[utoipa::path(get, path = "/api/v1/sources", tag = "sources", params(PageQuery), responses((status = 200, body = Page<SourceView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<SourceView>>, AppError> {
    Ok(Json(
        app.sources
            .list(&actor, q.cursor.as_deref(), q.limit())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/sources/{id}", tag = "sources", params(("id" = String, Path)), responses((status = 200, body = SourceView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn read(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
) -> Result<Json<SourceView>, AppError> {
    Ok(Json(app.sources.get(&actor, &id).await?))
}

/// The fields present replace the current ones; a secret sent back as `***` keeps its
/// stored value.
#[utoipa::path(patch, path = "/api/v1/sources/{id}", tag = "sources", params(("id" = String, Path)), request_body(content = Object, description = "Any fields of SourceInput to replace"), responses((status = 200, body = SourceView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn update(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<SourceView>, AppError> {
    Ok(Json(app.sources.patch(&actor, &id, body).await?))
}

#[utoipa::path(delete, path = "/api/v1/sources/{id}", tag = "sources", params(("id" = String, Path)), responses((status = 204, description = "Deleted: its URL answers 404 from now on"), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
) -> Result<StatusCode, AppError> {
    app.sources.delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/sources/{id}/requests", tag = "sources", params(("id" = String, Path), PageQuery), responses((status = 200, body = Page<InboundRequestView>), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn requests(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<InboundRequestView>>, AppError> {
    Ok(Json(
        app.sources
            .requests(&actor, &id, q.cursor.as_deref(), q.limit())
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/sources/{id}/requests/{request}", tag = "sources", params(("id" = String, Path), ("request" = String, Path)), responses((status = 200, body = InboundRequestView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn request(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(raw): Path<(String, String)>,
) -> Result<Json<InboundRequestView>, AppError> {
    let (id, request) = ids(raw)?;
    Ok(Json(app.sources.request(&actor, &id, &request).await?))
}

/// Runs mapping, the schema and the duplicate check again on a request as stored, under
/// the source's current settings; answers the replay's own log entry. Only a request that
/// passed verification may be replayed (409 otherwise).
#[utoipa::path(post, path = "/api/v1/sources/{id}/requests/{request}/replay", tag = "sources", params(("id" = String, Path), ("request" = String, Path)), responses((status = 200, body = InboundRequestView), (status = 404, description = "Not found", body = ApiError), (status = 409, description = "The request did not pass verification", body = ApiError)), security(("bearer" = [])))]
async fn replay(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(raw): Path<(String, String)>,
) -> Result<Json<InboundRequestView>, AppError> {
    let (id, request) = ids(raw)?;
    Ok(Json(
        app.sources
            .replay(&actor, &app.events, &id, &request)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SampleRequest {
    /// Change one byte of the body after signing, to see the refusal.
    #[serde(default)]
    tampered: bool,
}

/// Signs the event type's example as the provider would, with the source's secret, and
/// handles it as a posted request: answers its log entry (verdict, reason, event).
#[utoipa::path(post, path = "/api/v1/sources/{id}/sample", tag = "sources", params(("id" = String, Path)), request_body = SampleRequest, responses((status = 200, body = InboundRequestView), (status = 404, description = "Not found", body = ApiError), (status = 422, description = "The scheme cannot be signed here (a JWT public key)", body = ApiError)), security(("bearer" = [])))]
async fn sample(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
    ApiJson(body): ApiJson<SampleRequest>,
) -> Result<Json<InboundRequestView>, AppError> {
    Ok(Json(
        app.sources
            .send_sample(&actor, &app.events, &id, body.tampered)
            .await?,
    ))
}

/// What a request would become under `settings`: nothing is published or logged.
#[utoipa::path(post, path = "/api/v1/sources/preview", tag = "sources", request_body = PreviewInbound, responses((status = 200, body = InboundPreview)), security(("bearer" = [])))]
async fn preview(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<PreviewInbound>,
) -> Result<Json<InboundPreview>, AppError> {
    Ok(Json(app.sources.preview(&actor, &app.events, body).await?))
}

/// The secret in plain (editors; audited), and the previous one during a rotation.
#[utoipa::path(get, path = "/api/v1/sources/{id}/secret", tag = "sources", params(("id" = String, Path)), responses((status = 200, body = SourceSecret), (status = 404, description = "Not found", body = ApiError), (status = 409, description = "The source has no secret", body = ApiError)), security(("bearer" = [])))]
async fn secret(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
) -> Result<Json<SourceSecret>, AppError> {
    Ok(Json(app.sources.secret(&actor, &id).await?))
}

/// The given secret (or, where the provider does not issue its own, a new one Hookline
/// makes) becomes current; the current one stays accepted until the rotation is retired.
#[utoipa::path(post, path = "/api/v1/sources/{id}/secret/rotate", tag = "sources", params(("id" = String, Path)), request_body = RotateSourceSecret, responses((status = 200, body = SourceSecret), (status = 404, description = "Not found", body = ApiError), (status = 409, description = "The source has no secret (`none`), or its provider issues its own secrets and none was given", body = ApiError)), security(("bearer" = [])))]
async fn rotate(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
    ApiJson(body): ApiJson<RotateSourceSecret>,
) -> Result<Json<SourceSecret>, AppError> {
    Ok(Json(
        app.sources.rotate_secret(&actor, &id, body.secret).await?,
    ))
}

/// Ends a rotation: only the current secret is accepted from now on.
#[utoipa::path(post, path = "/api/v1/sources/{id}/secret/retire", tag = "sources", params(("id" = String, Path)), responses((status = 200, body = SourceView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn retire(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<SourceId>,
) -> Result<Json<SourceView>, AppError> {
    Ok(Json(app.sources.retire_previous_secret(&actor, &id).await?))
}
