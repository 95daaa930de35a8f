//! The one application state, built once at start and shared by the REST handlers and the
//! server functions (through leptos context).

use super::Db;
use super::access::api_keys::ApiKeys;
use super::access::auth::Auth;
use super::access::throttle::ThrottlePolicy;
use super::access::users::Users;
use super::audit::AuditLog;
use super::catalog::event_types::EventTypes;
use super::catalog::{Catalog, CatalogCache};
use super::deliveries::Deliveries;
use super::endpoints::Endpoints;
use super::events::Events;
use crate::error::AppResult;
use crate::types::events::{TestFire, TestFireResult};
use std::sync::Arc;

pub use super::shared::Shared;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub users: Users,
    pub auth: Arc<Auth>,
    pub api_keys: Arc<ApiKeys>,
    pub portal_links: Arc<super::access::portal_links::PortalLinks>,
    pub alerts: super::alerts::AlertRules,
    pub event_types: EventTypes,
    pub endpoints: Endpoints,
    pub events: Events,
    pub deliveries: Deliveries,
    pub sources: super::sources::Sources,
    pub audit: AuditLog,
    pub stats: super::deliveries::stats::Stats,
    /// What one request may cost (from the configuration).
    pub limits: super::limits::Limits,
    pub shared: Shared,
}

impl AppState {
    /// `keys`: the master key that seals endpoint credentials and signing secrets.
    pub fn new(db: Db, throttle: ThrottlePolicy, keys: Arc<super::crypto::Keyring>) -> Self {
        let users = Users::new(db.clone());
        // One set of change counters for every cache, read once per round of requests.
        let versions = Arc::new(super::versions::Versions::new(db.clone()));
        let shared = Shared {
            catalog: Arc::new(CatalogCache::new(versions.clone())),
            outbox: Arc::new(tokio::sync::Notify::new()),
            handoff: Default::default(),
            metrics: Arc::new(super::metrics::Metrics::new(db.backend_name())),
            faults: Arc::default(),
            write_gate: Default::default(),
        };
        let events = Events::new(
            db.clone(),
            Endpoints::new(db.clone(), keys.clone()),
            &shared,
        );
        Self {
            // Replays and retries wake the same outbox the engine waits on.
            deliveries: Deliveries::new(db.clone(), shared.outbox.clone()),
            auth: Arc::new(Auth::new(users.clone(), throttle)),
            users,
            api_keys: Arc::new(ApiKeys::with_versions(db.clone(), versions)),
            portal_links: Arc::new(super::access::portal_links::PortalLinks::new(
                db.clone(),
                &keys,
            )),
            alerts: super::alerts::AlertRules::new(db.clone()),
            event_types: EventTypes::new(db.clone()),
            endpoints: Endpoints::new(db.clone(), keys.clone()),
            sources: super::sources::Sources::new(db.clone(), keys, shared.write_gate.clone()),
            events,
            audit: AuditLog::new(db.clone()),
            stats: super::deliveries::stats::Stats::new(db.clone()),
            limits: super::limits::Limits::default(),
            shared,
            db,
        }
    }

    /// The routing catalog as it stands (reloaded if anything changed on any node).
    pub async fn catalog(&self) -> AppResult<Arc<Catalog>> {
        self.shared
            .catalog
            .get(&self.endpoints, &self.event_types, None)
            .await
    }

    /// The configured cost limits, for every service that enforces one.
    pub fn with_limits(mut self, limits: super::limits::Limits) -> Self {
        self.limits = limits;
        self.events.limits = limits;
        self.endpoints.limits = limits;
        self
    }

    /// Test-fire, for both doors: one event to one endpoint now, sent once by the engine
    /// (outside the endpoint's limits) and answered from the attempt log. The event and
    /// its delivery stay in the log like any other.
    pub async fn test_fire(
        &self,
        actor: &super::Actor,
        endpoint_id: &crate::types::ids::EndpointId,
        input: TestFire,
    ) -> AppResult<TestFireResult> {
        actor.require_ahead(crate::types::Role::Editor)?;
        let endpoint = self.endpoints.stored(endpoint_id.as_str()).await?;
        actor.require_on(
            crate::types::Role::Editor,
            endpoint.settings.tenant.as_deref(),
            || format!("endpoint {endpoint_id}"),
        )?;
        let timeout = crate::duration::parse(&endpoint.settings.timeout)
            .unwrap_or(std::time::Duration::from_secs(30));
        let (event_id, delivery_id) = self.events.create_test(actor, &endpoint, input).await?;
        self.deliveries
            .test_outcome(event_id, delivery_id, timeout + TEST_FIRE_GRACE)
            .await
    }
}

/// How long test-fire waits beyond the endpoint's timeout for an engine to claim, sign and
/// record the attempt before it answers "still pending".
const TEST_FIRE_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
