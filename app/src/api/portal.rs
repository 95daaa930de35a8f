//! Server functions for the tenant portal. Each one resolves the portal cookie's link to a
//! grant on the server, at every call, and acts through [`crate::backend::portal`], which
//! checks the link's capabilities and keeps to its tenant.

use crate::error::AppError;
use crate::types::Page;
use crate::types::diagnostics::{Diagnosis, EndpointCheck};
use crate::types::endpoints::EndpointSecret;
use crate::types::events::{
    DeliveryDetail, DeliveryStatus, DeliveryView, ReplayView, TestFire, TestFireResult,
};
use crate::types::portal::{PortalEndpoint, PortalEndpointInput, PortalSummary};
use leptos::prelude::*;
use server_fn::codec::Json;

/// The tenant, what the link grants and the tenant's endpoints.
#[server(prefix = "/api/fn", endpoint = "portal_overview")]
pub async fn portal_overview() -> Result<PortalSummary, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            state.portal(grant).summary().await
        }
        .await,
    )
}

/// Creates (`id` = None) or changes one of the tenant's endpoints.
#[server(prefix = "/api/fn", endpoint = "portal_save_endpoint", input = Json)]
pub async fn portal_save_endpoint(
    id: Option<String>,
    input: PortalEndpointInput,
) -> Result<PortalEndpoint, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let portal = state.portal(grant);
            match id {
                None => portal.create_endpoint(input).await,
                Some(id) => {
                    let id = crate::types::ids::EndpointId::parse(&id)?;
                    portal.update_endpoint(&id, input).await
                }
            }
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "portal_delete_endpoint")]
pub async fn portal_delete_endpoint(id: String) -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).delete_endpoint(&id).await
        }
        .await,
    )
}

/// The tenant's deliveries, newest first (one page of at most 100), optionally of one
/// endpoint or status.
#[server(prefix = "/api/fn", endpoint = "portal_deliveries")]
pub async fn portal_deliveries(
    endpoint: Option<String>,
    status: Option<DeliveryStatus>,
    cursor: Option<String>,
) -> Result<Page<DeliveryView>, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let endpoint = endpoint
                .filter(|e| !e.is_empty())
                .map(|e| crate::types::ids::EndpointId::parse(&e))
                .transpose()?;
            state
                .portal(grant)
                .deliveries(endpoint.as_ref(), status, cursor.as_deref(), 100)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "portal_delivery")]
pub async fn portal_delivery(id: String) -> Result<DeliveryDetail, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::DeliveryId::parse(&id)?;
            state.portal(grant).delivery(&id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "portal_test_fire", input = Json)]
pub async fn portal_test_fire(id: String, input: TestFire) -> Result<TestFireResult, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).test_fire(&id, input).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "portal_retry")]
pub async fn portal_retry(id: String) -> Result<DeliveryView, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::DeliveryId::parse(&id)?;
            state.portal(grant).retry(&id).await
        }
        .await,
    )
}

/// Sends all of an endpoint's dead letters again.
#[server(prefix = "/api/fn", endpoint = "portal_replay_dead")]
pub async fn portal_replay_dead(id: String) -> Result<ReplayView, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).replay_dead(&id).await
        }
        .await,
    )
}

/// One of the tenant's endpoints diagnosed from its attempt log.
#[server(prefix = "/api/fn", endpoint = "portal_diagnose")]
pub async fn portal_diagnose(id: String) -> Result<Diagnosis, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).diagnose(&id).await
        }
        .await,
    )
}

/// "Check my endpoint": one test request now, and what its answer means.
#[server(prefix = "/api/fn", endpoint = "portal_check_endpoint")]
pub async fn portal_check_endpoint(id: String) -> Result<EndpointCheck, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).check(&id).await
        }
        .await,
    )
}

/// One of the tenant's endpoints' signing secret(s) (`secrets`).
#[server(prefix = "/api/fn", endpoint = "portal_secret")]
pub async fn portal_secret(id: String) -> Result<EndpointSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).secret(&id).await
        }
        .await,
    )
}

/// A new signing secret for one of the tenant's endpoints (`secrets`); the old one keeps
/// signing for 24 hours.
#[server(prefix = "/api/fn", endpoint = "portal_rotate_secret")]
pub async fn portal_rotate_secret(id: String) -> Result<EndpointSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, grant) = super::guard::portal_grant().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.portal(grant).rotate_secret(&id).await
        }
        .await,
    )
}
