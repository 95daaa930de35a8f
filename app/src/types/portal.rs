//! The tenant portal's links on the wire: what an admin asks for, what a link grants, and
//! the answer to a creation (the only time its URL is shown).

use crate::time_fmt::Timestamp;
use crate::types::ids::PortalLinkId;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What a portal link lets its tenant do. `view` (its endpoints, deliveries and attempts)
/// is always granted; a link with nothing else is read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum PortalCapability {
    /// See the tenant's endpoints, deliveries and attempts.
    View,
    /// Create, change and delete the tenant's endpoints.
    ManageEndpoints,
    /// See and rotate the tenant's endpoints' signing secrets.
    Secrets,
    /// Retry deliveries and replay dead letters.
    Replay,
    /// Send a test event to an endpoint.
    TestFire,
}

impl PortalCapability {
    pub const ALL: [PortalCapability; 5] = [
        PortalCapability::View,
        PortalCapability::ManageEndpoints,
        PortalCapability::Secrets,
        PortalCapability::Replay,
        PortalCapability::TestFire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PortalCapability::View => "view",
            PortalCapability::ManageEndpoints => "manage_endpoints",
            PortalCapability::Secrets => "secrets",
            PortalCapability::Replay => "replay",
            PortalCapability::TestFire => "test_fire",
        }
    }
}

impl FromStr for PortalCapability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PortalCapability::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown capability '{}': expected one of {}",
                    s.trim(),
                    PortalCapability::ALL.map(|c| c.as_str()).join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewPortalLink {
    /// The tenant the portal opens for: only its endpoints and deliveries are in it.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$"))]
    pub tenant: String,
    /// What the link lets the tenant do besides `view` (always granted). Empty, or only
    /// `view`: a read-only link.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 5))]
    pub capabilities: Vec<PortalCapability>,
    /// How long the link works, from 1h to 30d (e.g. `7d`, `12h`).
    #[cfg_attr(feature = "ssr", schema(example = "7d"))]
    pub expires_in: String,
}

/// A portal link as listed: never its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortalLinkView {
    pub id: PortalLinkId,
    pub tenant: String,
    /// What it grants, `view` always among them, in a fixed order.
    pub capabilities: Vec<PortalCapability>,
    /// Nothing but `view`.
    pub read_only: bool,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Returned once, at creation: the only time the link's URL is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedPortalLink {
    #[serde(flatten)]
    pub portal_link: PortalLinkView,
    /// Opens the portal for the tenant in a browser with no other credentials, until it
    /// expires or is revoked.
    pub url: String,
}

/// The cookie a portal link becomes once opened: the link's token, HttpOnly. It admits the
/// portal's own server functions only, never the dashboard.
pub const PORTAL_COOKIE: &str = "hookline_portal";

/// What the portal shows its tenant first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalSummary {
    pub tenant: String,
    pub capabilities: Vec<PortalCapability>,
    pub read_only: bool,
    pub expires_at: Timestamp,
    /// The tenant's endpoints (credentials masked), by id.
    pub endpoints: Vec<PortalEndpoint>,
    /// The event types an endpoint may subscribe to, by name.
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalEndpoint {
    pub id: crate::types::ids::EndpointId,
    pub name: String,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    /// Its subscriptions (`*`: every event type).
    pub event_types: Vec<String>,
    /// Why Hookline turned it off, when it did.
    pub disabled_reason: Option<String>,
}

/// What a tenant may set on its endpoints in the portal. Everything else (signing,
/// templates, limits, auth) keeps what the operator set, or the platform's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalEndpointInput {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Event types or patterns (`orders.*`); `*` is every one.
    pub event_types: Vec<String>,
}

fn yes() -> bool {
    true
}
