//! `/api/v1/filters/test` and `/api/v1/templates/preview`: try a filter or a template on a
//! payload before saving it on an endpoint. Any role.

use super::extract::{ApiActor, ApiJson};
use super::openapi::ApiError;
use app::backend::{AppState, filter, template};
use app::error::AppError;
use app::types::Role;
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

/// What to evaluate against: an envelope (`payload`), or the example of `event_type`
/// wrapped in a sample envelope.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    #[serde(default)]
    /// An event envelope `{id, event_time, event_type, current_context, data}`.
    payload: Option<Value>,
    #[serde(default)]
    /// Use this event type's example, wrapped in a sample envelope.
    event_type: Option<String>,
}

async fn sample_envelope(
    app: &AppState,
    actor: &app::backend::Actor,
    sample: Sample,
) -> Result<Value, AppError> {
    match (sample.payload, sample.event_type) {
        (Some(p), _) => Ok(p),
        (None, Some(name)) => {
            let t = app.event_types.get(actor, &name).await?;
            let data = t.example.ok_or_else(|| {
                AppError::invalid(
                    "event_type",
                    format!("{name} has no example; send a payload"),
                )
            })?;
            Ok(app::backend::events::envelope(
                "evt_sample",
                app::backend::now_ms(),
                &name,
                &json!({}),
                &data,
            ))
        }
        (None, None) => Err(AppError::invalid(
            "payload",
            "send a payload (an event envelope) or an event_type whose example to use",
        )),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterTest {
    filter: Value,
    #[serde(flatten)]
    sample: Sample,
}

#[utoipa::path(post, path = "/api/v1/filters/test", tag = "tools", request_body = FilterTest, responses((status = 200, body = filter::Verdict), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn test_filter(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<FilterTest>,
) -> Result<Json<filter::Verdict>, AppError> {
    actor.require(Role::Viewer)?;
    let f = filter::parse(&body.filter, "filter").map_err(AppError::invalid_many)?;
    let envelope = sample_envelope(&app, &actor, body.sample).await?;
    Ok(Json(f.explain(&envelope)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePreview {
    template: Value,
    #[serde(flatten)]
    sample: Sample,
}

#[utoipa::path(post, path = "/api/v1/templates/preview", tag = "tools", request_body = TemplatePreview, responses((status = 200, description = "`{\"body\": …}`: the rendered body", body = Object), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError), (status = 422, description = "Invalid input; `errors` lists each problem with its path", body = ApiError)), security(("bearer" = [])))]
async fn preview_template(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<TemplatePreview>,
) -> Result<Json<Value>, AppError> {
    actor.require(Role::Viewer)?;
    template::check(&body.template, "template").map_err(AppError::invalid_many)?;
    let envelope = sample_envelope(&app, &actor, body.sample).await?;
    let rendered =
        template::render(&body.template, &envelope, "template").map_err(AppError::invalid_many)?;
    Ok(Json(json!({ "body": rendered })))
}
