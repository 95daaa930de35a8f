//! Hookline's own events, `hookline.*`, all published from here: with the system actor
//! (the only one allowed the namespace) and through the normal pipeline, so they are
//! validated, routed by filters and delivered like any event. Their event types are
//! created by the migrations.

use super::Events;
use crate::backend::Actor;
use crate::error::AppResult;
use crate::time_fmt::Timestamp;
use crate::types::events::PublishEvent;
use serde_json::json;

/// An operational event, as the part of Hookline that saw it happen describes it.
#[derive(Debug, Clone)]
pub enum Operational {
    /// The engine disabled an endpoint: its breaker tripped, or the receiver answered
    /// `410 Gone`.
    EndpointDisabled {
        endpoint_id: String,
        reason: String,
        consecutive_failures: i64,
        /// Unix ms of the first failure in the run, when there was a run.
        failing_since: Option<i64>,
    },
    /// An alert rule began (`fired`) or stopped firing; `data` is the event's body, as
    /// `alerts::evaluate` wrote it.
    Alert {
        fired: bool,
        data: serde_json::Value,
    },
}

impl Operational {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::EndpointDisabled { .. } => "hookline.endpoint.disabled",
            Self::Alert { fired: true, .. } => "hookline.alert.fired",
            Self::Alert { fired: false, .. } => "hookline.alert.resolved",
        }
    }
}

impl Events {
    /// Publishes an operational event. A failure is logged, not returned: what it reports
    /// has already happened and is recorded where it belongs (the endpoint's state).
    pub async fn announce(&self, event: Operational) {
        let event_type = event.event_type();
        if let Err(e) = self.announce_once(event, None).await {
            tracing::error!(error = %e, event_type, "publishing an operational event failed");
        }
    }

    /// Publishes an operational event under Hookline's idempotency `key` (when given), so
    /// that publishing the same announcement again, from this node or another, answers with
    /// the event already made.
    pub async fn announce_once(&self, event: Operational, key: Option<String>) -> AppResult<()> {
        let event_type = event.event_type();
        let data = match event {
            Operational::Alert { data, .. } => data,
            Operational::EndpointDisabled {
                endpoint_id,
                reason,
                consecutive_failures,
                failing_since,
            } => {
                let (name, url) = match self.endpoints.stored(&endpoint_id).await {
                    Ok(e) => (e.settings.name, e.settings.url),
                    Err(_) => (String::new(), String::new()),
                };
                json!({
                    "endpoint_id": endpoint_id,
                    "name": name,
                    "url": url,
                    "reason": reason,
                    "consecutive_failures": consecutive_failures,
                    "failing_since": failing_since.map(|s| Timestamp(s).rfc3339()),
                })
            }
        };
        let input = PublishEvent {
            event_type: event_type.into(),
            data,
            tenant: None,
            context: None,
            idempotency_key: key,
        };
        self.publish(&Actor::system(), input, None)
            .await
            .map(|_| ())
    }
}
