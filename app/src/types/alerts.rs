//! Alert rules on the wire: what an operator asks to be told about, and what each rule
//! shows now. A rule fires once when its condition begins to hold and once when it stops
//! (`hookline.alert.fired`, `hookline.alert.resolved`), delivered like any event.

use crate::time_fmt::Timestamp;
use crate::types::ids::{AlertRuleId, EndpointId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What a rule watches. Every kind but `queue_depth` is per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AlertKind {
    /// Failed attempts as a percent of all attempts in the window (at least 5 attempts).
    FailureRate,
    /// Failures in a row, with no success between.
    ConsecutiveFailures,
    /// Seconds since the oldest delivery still waiting to be delivered was created.
    Lag,
    /// Deliveries that became dead letters in the window.
    DeadLetters,
    /// Failures in a row nearing the circuit breaker's limit (a warning before it disables
    /// the endpoint); the threshold defaults to 80% of that limit.
    CircuitWarning,
    /// Deliveries waiting or retrying, across every endpoint.
    QueueDepth,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::FailureRate,
        AlertKind::ConsecutiveFailures,
        AlertKind::Lag,
        AlertKind::DeadLetters,
        AlertKind::CircuitWarning,
        AlertKind::QueueDepth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::FailureRate => "failure_rate",
            AlertKind::ConsecutiveFailures => "consecutive_failures",
            AlertKind::Lag => "lag",
            AlertKind::DeadLetters => "dead_letters",
            AlertKind::CircuitWarning => "circuit_warning",
            AlertKind::QueueDepth => "queue_depth",
        }
    }

    /// The unit of its threshold and value, for people.
    pub fn unit(self) -> &'static str {
        match self {
            AlertKind::FailureRate => "%",
            AlertKind::Lag => "s",
            _ => "",
        }
    }
}

impl FromStr for AlertKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    AlertKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewAlertRule {
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 100))]
    pub name: String,
    pub kind: AlertKind,
    /// The endpoint it watches; none: every endpoint (must be none for `queue_depth`).
    #[serde(default)]
    pub endpoint_id: Option<EndpointId>,
    /// Fires when the value reaches it: a percent (1–100) for `failure_rate`, seconds for
    /// `lag`, a count otherwise. Optional for `circuit_warning` only.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1_000_000_000))]
    pub threshold: Option<i64>,
    /// The look-back of `failure_rate` and `dead_letters`, 1m to 1d (default `5m`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(example = "5m"))]
    pub window: Option<String>,
}

/// One subject (an endpoint, or `*` for the queue) a rule is firing for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertFiring {
    pub subject: String,
    /// The endpoint's name, when the subject is one.
    pub endpoint_name: Option<String>,
    pub value: i64,
    pub since: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertRuleView {
    pub id: AlertRuleId,
    pub name: String,
    pub kind: AlertKind,
    pub endpoint_id: Option<EndpointId>,
    pub threshold: i64,
    pub window_secs: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Where it is firing now.
    pub firing: Vec<AlertFiring>,
}
