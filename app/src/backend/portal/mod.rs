//! The tenant portal's service: what a portal link may do, checked here against its
//! capabilities, then done by the same services the dashboard and REST use, as the link's
//! own actor ([`Actor::portal`]). That actor carries the tenant, so those services refuse
//! (as not found) any record of another tenant, or of every tenant, even if a check here
//! were missed; the audit log names the link as the actor.

use crate::backend::access::portal_links::PortalGrant;
use crate::backend::deliveries::DeliveryQuery;
use crate::backend::{Actor, AppState};
use crate::error::{AppError, AppResult};
use crate::types::Page;
use crate::types::diagnostics::{Diagnosis, EndpointCheck};
use crate::types::endpoints::{EndpointInput, EndpointSecret, EndpointView};
use crate::types::events::{
    DeliveryDetail, DeliveryStatus, DeliveryView, ReplayStatus, ReplayView, TestFire,
    TestFireResult,
};
use crate::types::ids::{DeliveryId, EndpointId};
use crate::types::portal::{PortalCapability, PortalEndpoint, PortalEndpointInput, PortalSummary};

/// One portal request: the grant its cookie's link resolved to, and that link's actor.
pub struct PortalSession<'a> {
    state: &'a AppState,
    grant: PortalGrant,
    actor: Actor,
}

/// At most this many endpoints are listed for one tenant.
const MAX_ENDPOINTS_SHOWN: u32 = crate::types::PageLimit::MAX;

impl AppState {
    pub fn portal(&self, grant: PortalGrant) -> PortalSession<'_> {
        PortalSession {
            state: self,
            actor: Actor::portal(&grant),
            grant,
        }
    }
}

impl PortalSession<'_> {
    fn need(&self, capability: PortalCapability) -> AppResult<()> {
        if self.grant.allows(capability) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this portal link does not grant {}",
                capability.as_str()
            )))
        }
    }

    /// The tenant, what the link grants and the tenant's endpoints.
    pub async fn summary(&self) -> AppResult<PortalSummary> {
        let endpoints = self
            .state
            .endpoints
            .list(&self.actor, None, MAX_ENDPOINTS_SHOWN)
            .await?;
        Ok(PortalSummary {
            read_only: self.grant.capabilities == [PortalCapability::View],
            tenant: self.grant.tenant.clone(),
            capabilities: self.grant.capabilities.clone(),
            expires_at: self.grant.expires_at,
            endpoints: endpoints.items.into_iter().map(shown).collect(),
            event_types: self
                .state
                .event_types
                .all()
                .await?
                .into_iter()
                .map(|t| t.name)
                .filter(|name| !name.starts_with("hookline.")) // Hookline's own: the operator's
                .collect(),
        })
    }

    /// The portal's endpoint form, as full settings in the link's tenant (everything it
    /// does not name keeps the platform's defaults).
    fn settings(&self, input: PortalEndpointInput) -> AppResult<EndpointInput> {
        let value = serde_json::json!({
            "name": input.name,
            "url": input.url,
            "description": input.description,
            "enabled": input.enabled,
            "event_types": input.event_types,
            "tenant": self.grant.tenant,
        });
        serde_path_to_error::deserialize(value)
            .map_err(|e| AppError::invalid(e.path().to_string(), e.into_inner().to_string()))
    }

    pub async fn create_endpoint(&self, input: PortalEndpointInput) -> AppResult<PortalEndpoint> {
        self.need(PortalCapability::ManageEndpoints)?;
        let settings = self.settings(input)?;
        let made = self.state.endpoints.create(&self.actor, settings).await?;
        Ok(shown(made))
    }

    /// Changes what the portal's form holds; every other setting stays as it is.
    pub async fn update_endpoint(
        &self,
        id: &EndpointId,
        input: PortalEndpointInput,
    ) -> AppResult<PortalEndpoint> {
        self.need(PortalCapability::ManageEndpoints)?;
        let patch = serde_json::json!({
            "name": input.name,
            "url": input.url,
            "description": input.description,
            "enabled": input.enabled,
            "event_types": input.event_types,
        });
        let changed = self.state.endpoints.patch(&self.actor, id, patch).await?;
        Ok(shown(changed))
    }

    pub async fn delete_endpoint(&self, id: &EndpointId) -> AppResult<()> {
        self.need(PortalCapability::ManageEndpoints)?;
        self.state.endpoints.delete(&self.actor, id).await
    }

    /// The tenant's deliveries, newest first, optionally of one endpoint or status.
    pub async fn deliveries(
        &self,
        endpoint: Option<&EndpointId>,
        status: Option<DeliveryStatus>,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<DeliveryView>> {
        self.need(PortalCapability::View)?;
        let q = DeliveryQuery {
            endpoint_id: endpoint.map(|e| e.as_str()),
            status: status.map(|s| s.as_str()),
            event_type: None,
            event_id: None,
            since_ms: None,
            cursor,
            limit,
        };
        self.state.deliveries.list(&self.actor, q).await
    }

    /// One delivery with its attempt log (sensitive fields and credentials masked).
    pub async fn delivery(&self, id: &DeliveryId) -> AppResult<DeliveryDetail> {
        self.need(PortalCapability::View)?;
        self.state.deliveries.get(&self.actor, id).await
    }

    pub async fn test_fire(&self, id: &EndpointId, input: TestFire) -> AppResult<TestFireResult> {
        self.need(PortalCapability::TestFire)?;
        self.state.test_fire(&self.actor, id, input).await
    }

    /// The endpoint's signing secret(s), to verify deliveries with.
    pub async fn secret(&self, id: &EndpointId) -> AppResult<EndpointSecret> {
        self.need(PortalCapability::Secrets)?;
        self.state.endpoints.secret(&self.actor, id).await
    }

    /// A new signing secret; the old one keeps signing beside it for 24 hours.
    pub async fn rotate_secret(&self, id: &EndpointId) -> AppResult<EndpointSecret> {
        self.need(PortalCapability::Secrets)?;
        self.state.endpoints.rotate_secret(&self.actor, id).await
    }

    /// The endpoint's diagnosis from its attempt log.
    pub async fn diagnose(&self, id: &EndpointId) -> AppResult<Diagnosis> {
        self.need(PortalCapability::View)?;
        self.state.diagnose_endpoint(&self.actor, id).await
    }

    /// "Check my endpoint": one test request now, explained. A test-fire, so it needs
    /// `test_fire`.
    pub async fn check(&self, id: &EndpointId) -> AppResult<EndpointCheck> {
        self.need(PortalCapability::TestFire)?;
        self.state.check_endpoint(&self.actor, id).await
    }

    pub async fn retry(&self, id: &DeliveryId) -> AppResult<DeliveryView> {
        self.need(PortalCapability::Replay)?;
        self.state.deliveries.retry(&self.actor, id).await
    }

    /// Sends an endpoint's dead letters again.
    pub async fn replay_dead(&self, id: &EndpointId) -> AppResult<ReplayView> {
        self.need(PortalCapability::Replay)?;
        self.state
            .deliveries
            .replay(&self.actor, id, ReplayStatus::Dead, None)
            .await
    }
}

fn shown(e: EndpointView) -> PortalEndpoint {
    PortalEndpoint {
        id: e.id,
        name: e.settings.name,
        url: e.settings.url,
        description: e.settings.description,
        enabled: e.settings.enabled,
        event_types: e.settings.event_types,
        disabled_reason: e.disabled_reason,
    }
}
