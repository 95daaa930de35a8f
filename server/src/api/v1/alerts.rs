//! `/api/v1/alert-rules`: list (any role, with where each rule fires now), create and
//! delete (admin); `/api/v1/endpoint-presets`: the body templates for Slack, Teams,
//! Discord and catch hooks.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson};
use app::backend::AppState;
use app::error::AppError;
use app::types::alerts::{AlertRuleView, NewAlertRule};
use app::types::presets::PresetView;
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
        .route("/alert-rules", get(list).post(create))
        .route("/alert-rules/{id}", delete(remove))
        .route("/endpoint-presets", get(presets))
}

#[utoipa::path(post, path = "/api/v1/alert-rules", tag = "alerts", request_body = NewAlertRule, responses((status = 201, body = AlertRuleView)), security(("bearer" = [])))]
async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewAlertRule>,
) -> Result<(StatusCode, Json<AlertRuleView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(app.alerts.create(&actor, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/alert-rules", tag = "alerts", responses((status = 200, description = "Every rule (at most 200), oldest first", body = Vec<AlertRuleView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<AlertRuleView>>, AppError> {
    Ok(Json(app.alerts.list(&actor).await?))
}

#[utoipa::path(delete, path = "/api/v1/alert-rules/{id}", tag = "alerts", params(("id" = String, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn remove(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::AlertRuleId>,
) -> Result<StatusCode, AppError> {
    app.alerts.delete(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/endpoint-presets", tag = "alerts", responses((status = 200, description = "Each preset's body templates", body = Vec<PresetView>)), security(("bearer" = [])))]
async fn presets(ApiActor(actor): ApiActor) -> Result<Json<Vec<PresetView>>, AppError> {
    actor.require(app::types::Role::Viewer)?;
    Ok(Json(PresetView::all()))
}
