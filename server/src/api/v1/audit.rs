//! `/api/v1/audit`: who changed what, newest first, paged by cursor. Admin only.

use super::extract::{ApiActor, ApiQuery};
use app::backend::AppState;
use app::error::AppError;
use app::types::{AuditEntryView, Page, PageLimit};
use axum::extract::State;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only changes to this kind of thing: `user`, `api_key`, `event_type`, `endpoint`,
    /// `source` or `inbound_request`.
    resource: Option<String>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Entries per page (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<PageLimit>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Page<AuditEntryView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntryView>>, AppError> {
    let page = app
        .audit
        .list(
            &actor,
            q.resource.as_deref(),
            q.cursor.as_deref(),
            PageLimit::or(q.limit, 50),
        )
        .await?;
    Ok(Json(page))
}
