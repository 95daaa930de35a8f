//! The engine's runtime model of an endpoint: its stored settings turned, once per catalog
//! version, into what sending needs (durations and schedules parsed, limits and batching
//! decided). A stored value that no longer parses is a bug that must show: the endpoint's
//! deliveries fail with the reason in their attempt log and the server log, instead of
//! quietly using a default.

use super::outcome::DEFAULT_SCHEDULE;
use app::backend::catalog::Catalog;
use app::backend::catalog::sensitive::SensitivePaths;
use app::backend::endpoints::StoredEndpoint;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Target {
    pub endpoint: StoredEndpoint,
    pub timeout: Duration,
    pub schedule: Vec<Duration>,
    pub rate_per_minute: Option<u32>,
    pub concurrency: Option<u32>,
    pub batch: Option<BatchPlan>,
    /// Every event type's sensitive paths (those that have any), shared by all targets of
    /// one catalog version.
    pub sensitive: Arc<SensitiveByType>,
}

pub type SensitiveByType = HashMap<String, Arc<SensitivePaths>>;

#[derive(Debug, Clone, Copy)]
pub struct BatchPlan {
    pub max_events: usize,
    pub max_wait: Duration,
}

impl Target {
    pub fn build(endpoint: &StoredEndpoint) -> Result<Target, String> {
        let s = &endpoint.settings;
        let duration = |field: &str, v: &str| {
            app::duration::parse(v).map_err(|e| format!("stored setting {field} ({v:?}): {e}"))
        };
        let timeout = duration("timeout", &s.timeout)?;
        let schedule = match &s.retry_schedule {
            None => DEFAULT_SCHEDULE.to_vec(),
            Some(entries) => entries
                .iter()
                .enumerate()
                .map(|(i, d)| duration(&format!("retry_schedule[{i}]"), d))
                .collect::<Result<_, _>>()?,
        };
        let positive = |field: &str, v: Option<u32>| match v {
            Some(0) => Err(format!("stored setting {field} is 0")),
            other => Ok(other),
        };
        let batch = match &s.batch {
            None => None,
            Some(b) => Some(BatchPlan {
                max_events: positive("batch.max_events", Some(b.max_events))?.unwrap_or(1) as usize,
                max_wait: duration("batch.max_wait", &b.max_wait)?,
            }),
        };
        Ok(Target {
            endpoint: endpoint.clone(),
            timeout,
            schedule,
            rate_per_minute: positive("rate_limit_per_minute", s.rate_limit_per_minute)?,
            concurrency: positive("max_concurrency", s.max_concurrency)?,
            batch,
            sensitive: Arc::default(),
        })
    }

    pub fn with_sensitive(self, sensitive: Arc<SensitiveByType>) -> Target {
        Target { sensitive, ..self }
    }

    /// Claimed one at a time against its budget (see [`super::store::claims`]).
    pub fn limited(&self) -> bool {
        self.rate_per_minute.is_some() || self.concurrency.is_some()
    }

    /// Deliveries per request.
    pub fn per_request(&self) -> usize {
        self.batch.map_or(1, |b| b.max_events)
    }

    pub fn id(&self) -> &str {
        &self.endpoint.id
    }
}

/// Each enabled endpoint's target, or why its stored settings cannot be used.
pub type TargetMap = HashMap<String, Result<Arc<Target>, String>>;

/// Targets for the current catalog, rebuilt when its version moves.
#[derive(Default)]
pub struct Targets {
    built: Mutex<Option<(i64, Arc<TargetMap>)>>,
}

impl Targets {
    pub fn of(&self, catalog: &Catalog) -> Arc<TargetMap> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((version, map)) = built.as_ref()
            && *version == catalog.version
        {
            return map.clone();
        }
        let sensitive: Arc<SensitiveByType> = Arc::new(
            catalog
                .event_types
                .iter()
                .filter(|(_, t)| !t.sensitive.is_empty())
                .map(|(name, t)| (name.clone(), t.sensitive.clone()))
                .collect(),
        );
        let map: TargetMap = catalog
            .endpoints
            .iter()
            .map(|(id, e)| {
                let target = Target::build(e)
                    .map(|t| Arc::new(t.with_sensitive(sensitive.clone())));
                if let Err(why) = &target {
                    tracing::error!(endpoint = %id, %why, "an endpoint's stored settings do not parse; its deliveries fail until it is saved again");
                }
                (id.clone(), target)
            })
            .collect();
        let map = Arc::new(map);
        *built = Some((catalog.version, map.clone()));
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(extra: serde_json::Value) -> StoredEndpoint {
        let mut v = serde_json::json!({"name": "n", "url": "https://x.example/"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        StoredEndpoint {
            id: "ep_1".into(),
            settings: serde_json::from_value(v).unwrap(),
            secrets: Vec::new(),
        }
    }

    #[test]
    fn settings_parse_once_and_bad_ones_say_which() {
        let t = Target::build(&endpoint(serde_json::json!({
            "timeout": "2s", "retry_schedule": ["1s", "1m"], "rate_limit_per_minute": 60,
            "batch": {"max_events": 10, "max_wait": "500ms"}
        })))
        .unwrap();
        assert_eq!(t.timeout, Duration::from_secs(2));
        assert_eq!(
            t.schedule,
            [Duration::from_secs(1), Duration::from_secs(60)]
        );
        assert!(t.limited());
        assert_eq!(t.per_request(), 10);
        let bad = Target::build(&endpoint(serde_json::json!({"timeout": "soon"})));
        assert!(bad.err().unwrap().contains("timeout"));
        let bad = Target::build(&endpoint(
            serde_json::json!({"retry_schedule": ["1s", "x"]}),
        ));
        assert!(bad.err().unwrap().contains("retry_schedule[1]"));
        let unlimited = Target::build(&endpoint(serde_json::json!({}))).unwrap();
        assert!(!unlimited.limited());
        assert_eq!(unlimited.schedule, DEFAULT_SCHEDULE.to_vec());
    }
}
