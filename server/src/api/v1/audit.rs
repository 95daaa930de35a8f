//! `/api/v1/audit`: who changed what, newest first, paged by cursor. Admin only.

use super::api_error::ApiError;
use super::extract::ApiActor;
use app::backend::AppState;
use app::error::AppError;
use app::types::{AuditEntryView, Page};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router<S>() -> Router<S>
where
    AppState: axum::extract::FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/audit", get(list))
}

#[derive(Deserialize)]
struct AuditQuery {
    resource: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(("resource" = Option<String>, Query, description = "user, api_key, event_type or endpoint"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query)), responses((status = 200, body = Page<AuditEntryView>), (status = 401, description = "Missing or invalid API key", body = ApiError), (status = 403, description = "The key's scope or role does not allow this", body = ApiError)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Page<AuditEntryView>>, AppError> {
    let page = app
        .audit
        .list(
            &actor,
            q.resource.as_deref(),
            q.cursor.as_deref(),
            q.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(page))
}
