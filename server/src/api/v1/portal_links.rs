//! `/api/v1/portal-links`: create (the URL is in the answer, once), list, revoke. Admin
//! only. The link opens the tenant portal for its tenant with what it grants.

use super::api_error::ApiError;
use super::extract::{ApiActor, ApiId, ApiJson, ApiQuery, PageQuery};
use app::backend::AppState;
use app::error::AppError;
use app::types::Page;
use app::types::portal::{CreatedPortalLink, NewPortalLink, PortalLinkView};
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
        .route("/portal-links", get(list).post(create))
        .route("/portal-links/{id}", delete(revoke))
}

#[utoipa::path(post, path = "/api/v1/portal-links", tag = "portal-links", request_body = NewPortalLink, responses((status = 201, description = "Created; `url` is shown only in this answer", body = CreatedPortalLink)), security(("bearer" = [])))]
async fn create(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewPortalLink>,
) -> Result<(StatusCode, Json<CreatedPortalLink>), AppError> {
    let created = app.portal_links.create(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/portal-links", tag = "portal-links", params(PageQuery), responses((status = 200, body = Page<PortalLinkView>)), security(("bearer" = [])))]
async fn list(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<PortalLinkView>>, AppError> {
    Ok(Json(
        app.portal_links
            .page(&actor, None, q.cursor.as_deref(), q.limit())
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/portal-links/{id}", tag = "portal-links", params(("id" = String, Path)), responses((status = 200, description = "Revoked (revoking twice is harmless)", body = PortalLinkView), (status = 404, description = "Not found", body = ApiError)), security(("bearer" = [])))]
async fn revoke(
    State(app): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiId(id): ApiId<app::types::ids::PortalLinkId>,
) -> Result<Json<PortalLinkView>, AppError> {
    Ok(Json(app.portal_links.revoke(&actor, &id).await?))
}
