//! `/api/v1/audit`: who changed what, newest first, paged by cursor. Admin only.

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
