//! `/api/v1/filters/test` and `/api/v1/templates/preview`: try a filter or a template on a
//! payload before saving it on an endpoint. Any role.

use super::extract::{ApiActor, ApiJson};
use app::backend::endpoints::preview as tools;
use app::backend::{AppState, filter};
use app::error::AppError;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router<S>() -> Router<S>
where
    AppState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/filters/test", post(test_filter))
        .route("/templates/preview", post(preview_template))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A filter and what to evaluate it against: an envelope (`payload`), or the example of
/// `event_type` wrapped in a sample envelope. (Fields spelled out rather than flattened:
/// a flattened struct becomes an `allOf` of two closed objects, which no value satisfies.)
pub struct FilterTest {
    filter: Value,
    /// An event envelope `{id, event_time, event_type, current_context, data}`.
    #[serde(default)]
    payload: Option<Value>,
    /// Use this event type's example, wrapped in a sample envelope.
    #[serde(default)]
    event_type: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/filters/test", tag = "tools", request_body = FilterTest, responses((status = 200, body = filter::Verdict)), security(("bearer" = [])))]
async fn test_filter(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<FilterTest>,
) -> Result<Json<filter::Verdict>, AppError> {
    Ok(Json(
        tools::test_filter(
            &app.event_types,
            &actor,
            &body.filter,
            body.payload,
            body.event_type.as_deref(),
        )
        .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A template and what to render it with (as for [`FilterTest`]).
pub struct TemplatePreview {
    template: Value,
    /// An event envelope `{id, event_time, event_type, current_context, data}`.
    #[serde(default)]
    payload: Option<Value>,
    /// Use this event type's example, wrapped in a sample envelope.
    #[serde(default)]
    event_type: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/templates/preview", tag = "tools", request_body = TemplatePreview, responses((status = 200, description = "`{\"body\": …}`: the rendered body", body = Object)), security(("bearer" = [])))]
async fn preview_template(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<TemplatePreview>,
) -> Result<Json<Value>, AppError> {
    let rendered = tools::preview_template(
        &app.event_types,
        &actor,
        &body.template,
        body.payload,
        body.event_type.as_deref(),
        app.limits.max_rendered_bytes,
    )
    .await?;
    Ok(Json(json!({ "body": rendered })))
}
