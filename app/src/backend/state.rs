//! The one application state, built once at start and shared by the REST handlers and the
//! server functions (through leptos context).

use super::Db;
use super::access::api_keys::ApiKeys;
use super::access::auth::Auth;
use super::access::throttle::ThrottlePolicy;
use super::access::users::Users;
use super::audit::AuditLog;
use super::catalog::event_types::EventTypes;
use super::deliveries::Deliveries;
use super::endpoints::Endpoints;
use super::events::Events;
use std::sync::Arc;

/// The delivery engine as the service layer sees it: the engine lives in the server crate,
/// which registers itself here at start, so the REST API and the dashboard's server
/// functions reach the same test-fire.
pub trait EngineHandle: Send + Sync {
    fn test_fire<'a>(
        &'a self,
        actor: &'a super::Actor,
        endpoint_id: &'a str,
        input: crate::types::events::TestFire,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = crate::error::AppResult<crate::types::events::TestFireResult>,
                > + Send
                + 'a,
        >,
    >;
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub users: Users,
    pub auth: Arc<Auth>,
    pub api_keys: Arc<ApiKeys>,
    pub event_types: EventTypes,
    pub endpoints: Endpoints,
    pub events: Events,
    pub deliveries: Deliveries,
    pub audit: AuditLog,
    pub stats: super::deliveries::stats::Stats,
    /// Set once the engine is built (see [`EngineHandle`]).
    pub engine: Arc<std::sync::OnceLock<Arc<dyn EngineHandle>>>,
    /// What one request may cost (from the configuration).
    pub limits: super::limits::Limits,
}

impl AppState {
    /// `keys`: the master key that seals endpoint credentials and signing secrets.
    pub fn new(db: Db, throttle: ThrottlePolicy, keys: Arc<super::crypto::Keyring>) -> Self {
        let users = Users::new(db.clone());
        // One set of change counters for every cache, read once per round of requests.
        let versions = Arc::new(super::versions::Versions::new(db.clone()));
        let events = Events::new(
            db.clone(),
            Endpoints::new(db.clone(), keys.clone()),
            EventTypes::new(db.clone()),
            versions.clone(),
        );
        Self {
            // Replays and retries wake the same outbox the engine waits on.
            deliveries: Deliveries::new(db.clone(), events.outbox.clone()),
            auth: Arc::new(Auth::new(users.clone(), throttle)),
            users,
            api_keys: Arc::new(ApiKeys::with_versions(db.clone(), versions)),
            event_types: EventTypes::new(db.clone()),
            endpoints: Endpoints::new(db.clone(), keys),
            events,
            audit: AuditLog::new(db.clone()),
            stats: super::deliveries::stats::Stats::new(db.clone()),
            engine: Arc::new(std::sync::OnceLock::new()),
            limits: super::limits::Limits::default(),
            db,
        }
    }

    /// The configured cost limits, for every service that enforces one.
    pub fn with_limits(mut self, limits: super::limits::Limits) -> Self {
        self.limits = limits;
        self.events.limits = limits;
        self.endpoints.limits = limits;
        self
    }
}
