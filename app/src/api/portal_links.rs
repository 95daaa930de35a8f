//! Server functions for the dashboard's portal links (admins): list, create (the URL is
//! answered once), revoke. The same service as `/api/v1/portal-links`.

use crate::error::AppError;
use crate::types::Page;
use crate::types::portal::{CreatedPortalLink, NewPortalLink, PortalLinkView};
use leptos::prelude::*;
use server_fn::codec::Json;

#[server(prefix = "/api/fn", endpoint = "list_portal_links")]
pub async fn list_portal_links() -> Result<Page<PortalLinkView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.portal_links.page(&actor, None, None, 100).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_portal_link", input = Json)]
pub async fn create_portal_link(input: NewPortalLink) -> Result<CreatedPortalLink, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.portal_links.create(&actor, &input).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "revoke_portal_link")]
pub async fn revoke_portal_link(id: String) -> Result<PortalLinkView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let id = crate::types::ids::PortalLinkId::parse(&id)?;
            state.portal_links.revoke(&actor, &id).await
        }
        .await,
    )
}
