//! Server functions for the tenant portal. Each one resolves the portal cookie's link to a
//! grant on the server and reads or changes only the grant's tenant's records.

use crate::error::AppError;
use crate::types::portal::PortalSummary;
use leptos::prelude::*;

/// The tenant, what the link grants and the tenant's endpoints.
#[server(prefix = "/api/fn", endpoint = "portal_overview")]
pub async fn portal_overview() -> Result<PortalSummary, AppError> {
    super::guard::finish(
        async move {
            use crate::types::portal::{PortalCapability, PortalEndpoint};
            let (state, grant) = super::guard::portal_grant().await?;
            let endpoints = state.endpoints.of_tenant(&grant).await?;
            Ok(PortalSummary {
                read_only: grant.capabilities == [PortalCapability::View],
                tenant: grant.tenant,
                capabilities: grant.capabilities,
                expires_at: grant.expires_at,
                endpoints: endpoints
                    .into_iter()
                    .map(|e| PortalEndpoint {
                        id: e.id,
                        name: e.settings.name,
                        url: e.settings.url,
                        enabled: e.settings.enabled,
                        event_types: e.settings.event_types,
                    })
                    .collect(),
            })
        }
        .await,
    )
}
