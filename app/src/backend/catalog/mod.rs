//! What publishing needs on every event, kept in memory: event types with their compiled
//! schemas, and the enabled endpoints' routing rules. Every change to either bumps the
//! `catalog_version` row in the same transaction; a publisher compares one integer and
//! reloads only when it moved, so every node (also on a shared Postgres) routes with
//! current settings.

pub mod event_types;
pub mod schema;
pub mod sensitive;

use super::endpoints::StoredEndpoint;
use super::filter;
use super::filter::Filter;
use crate::error::{AppError, AppResult};
use crate::types::EventTypeView;
use schema::Validator;
use sensitive::SensitivePaths;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub struct CatalogType {
    pub view: EventTypeView,
    pub validator: Option<Validator>,
    /// Its sensitive fields, parsed: the engine masks or removes them for endpoints that
    /// ask, and keeps a masked copy of each request body for the attempt log.
    pub sensitive: Arc<SensitivePaths>,
}

pub struct Route {
    pub endpoint_id: String,
    pub event_types: Vec<String>,
    pub tenant: Option<String>,
    pub filter: Option<Filter>,
    /// FIFO delivery: copied onto each delivery.
    pub ordered: bool,
}

pub struct Catalog {
    pub version: i64,
    pub event_types: HashMap<String, CatalogType>,
    pub routes: Vec<Route>,
    /// Enabled endpoints with their credentials, for the delivery engine.
    pub endpoints: HashMap<String, StoredEndpoint>,
}

impl Catalog {
    /// The endpoints that want this event: subscribed to its type, of its tenant (or of
    /// all tenants), and whose filter lets the envelope through.
    pub fn route(
        &self,
        event_type: &str,
        tenant: Option<&str>,
        envelope: &serde_json::Value,
    ) -> Vec<&Route> {
        self.routes
            .iter()
            .filter(|r| super::endpoints::subscribes(&r.event_types, event_type))
            .filter(|r| r.tenant.is_none() || r.tenant.as_deref() == tenant)
            .filter(|r| r.filter.as_ref().is_none_or(|f| f.matches(envelope)))
            .collect()
    }
}

pub struct CatalogCache {
    versions: Arc<super::versions::Versions>,
    current: RwLock<Arc<Catalog>>,
    /// One reload at a time; the last failed one is kept (with its number) so that callers
    /// who waited for it share its error instead of each failing again in turn behind a
    /// locked database.
    reload: tokio::sync::Mutex<Option<(u64, AppError)>>,
    reloads_started: std::sync::atomic::AtomicU64,
}

impl CatalogCache {
    pub fn new(versions: Arc<super::versions::Versions>) -> Self {
        Self {
            versions,
            current: RwLock::new(Arc::new(Catalog {
                version: -1,
                event_types: HashMap::new(),
                routes: Vec::new(),
                endpoints: HashMap::new(),
            })),
            reload: tokio::sync::Mutex::new(None),
            reloads_started: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The catalog as last loaded (no check for changes).
    pub(crate) fn cached(&self) -> Arc<Catalog> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The current catalog, reloaded if anything changed since it was built.
    /// `admitted`: the caller's ticket (see [`super::versions`]), if it has one.
    pub async fn get(
        &self,
        endpoints: &super::endpoints::Endpoints,
        types: &super::catalog::event_types::EventTypes,
        admitted: Option<u64>,
    ) -> AppResult<Arc<Catalog>> {
        let ticket = admitted.unwrap_or_else(|| self.versions.ticket());
        let version = self.versions.since(ticket).await?.catalog;
        let cached = self.cached();
        if cached.version == version {
            return Ok(cached);
        }
        use std::sync::atomic::Ordering::SeqCst;
        let arrived = self.reloads_started.load(SeqCst);
        let mut last_failure = self.reload.lock().await;
        let cached = self.cached();
        if cached.version == version {
            return Ok(cached);
        }
        if let Some((attempt, error)) = &*last_failure
            && *attempt > arrived
        {
            return Err(error.clone());
        }
        let attempt = self.reloads_started.fetch_add(1, SeqCst) + 1;
        let loaded = async {
            Ok::<_, AppError>(Arc::new(build(
                version,
                types.all().await?,
                endpoints.all_enabled().await?,
            )?))
        }
        .await;
        let catalog = loaded.inspect_err(|e| *last_failure = Some((attempt, e.clone())))?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = catalog.clone();
        Ok(catalog)
    }
}

fn build(
    version: i64,
    types: Vec<EventTypeView>,
    endpoints: Vec<StoredEndpoint>,
) -> AppResult<Catalog> {
    let mut event_types = HashMap::new();
    for view in types {
        let validator = match &view.schema {
            Some(s) => Some(schema::compile(s, "schema").map_err(|e| {
                AppError::internal(
                    "a stored schema no longer compiles",
                    format!("{}: {e:?}", view.name),
                )
            })?),
            None => None,
        };
        let sensitive = Arc::new(SensitivePaths::from_stored(&view.sensitive_fields));
        event_types.insert(
            view.name.clone(),
            CatalogType {
                view,
                validator,
                sensitive,
            },
        );
    }
    let mut routes = Vec::new();
    let stored: HashMap<String, StoredEndpoint> = endpoints
        .iter()
        .map(|e| (e.id.clone(), e.clone()))
        .collect();
    for ep in endpoints {
        let filter = match &ep.settings.filter {
            Some(f) if !f.is_null() => Some(filter::parse(f, "filter").map_err(|e| {
                AppError::internal(
                    "a stored filter no longer parses",
                    format!("{}: {e:?}", ep.id),
                )
            })?),
            _ => None,
        };
        routes.push(Route {
            endpoint_id: ep.id,
            event_types: ep.settings.event_types,
            tenant: ep.settings.tenant,
            filter,
            ordered: ep.settings.ordered,
        });
    }
    Ok(Catalog {
        version,
        event_types,
        routes,
        endpoints: stored,
    })
}
