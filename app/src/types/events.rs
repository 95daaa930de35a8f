//! Events on the wire. Field names are part of the public REST contract.

use super::ids::{DeliveryId, EndpointId, EventId, ReplayId};
use crate::time_fmt::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /api/v1/events` (and each item of a batch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublishEvent {
    pub event_type: String,
    /// Must match the event type's JSON Schema.
    pub data: Value,
    /// Letters, digits, `_`, `.` and `-`, up to 64.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$"))]
    pub tenant: Option<String>,
    /// Sent as the envelope's `current_context` (an object).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub context: Option<Value>,
    /// Per caller (API key or user): the same key with the same request within 24 h
    /// returns the same event without a second fan-out; with a different request it is
    /// refused (422 `idempotency_key_reused`). The `Idempotency-Key` header does the same
    /// for a single event.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 255))]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublishBatch {
    /// 1 to 1,000 events, stored all or none.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 1000))]
    pub events: Vec<PublishEvent>,
}

/// `202 Accepted`: the event and one delivery per matching endpoint are stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Published {
    pub id: EventId,
    pub deliveries: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublishedBatch {
    pub events: Vec<Published>,
    pub deliveries: u64,
}

/// An event in lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventSummary {
    pub id: EventId,
    pub event_type: String,
    pub tenant: Option<String>,
    pub event_time: Timestamp,
    pub idempotency_key: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    /// Waiting for its first attempt (or sent again by a retry or replay).
    Pending,
    /// A node is sending it now.
    InFlight,
    Succeeded,
    /// The last attempt failed; it will be tried again at `next_attempt_at`.
    Failed,
    /// Dead-lettered: every attempt failed, or it could not be sent.
    Dead,
    /// Its endpoint was deleted before it was delivered.
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 6] = [
        Self::Pending,
        Self::InFlight,
        Self::Succeeded,
        Self::Failed,
        Self::Dead,
        Self::Cancelled,
    ];

    /// As stored and sent: `in_flight`, `dead`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in_flight",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// How the dashboard names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in flight",
            Self::Succeeded => "succeeded",
            Self::Failed => "retrying",
            Self::Dead => "dead letter",
            Self::Cancelled => "cancelled",
        }
    }

    /// Not finished: it will still be sent.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::InFlight | Self::Failed)
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery: one event to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub event_type: String,
    pub endpoint_id: EndpointId,
    pub endpoint_name: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub last_duration_ms: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `GET /api/v1/events/{id}`: the event as sent (the envelope) and where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventDetail {
    #[serde(flatten)]
    pub summary: EventSummary,
    /// `{id, event_time, event_type, current_context, data}`.
    pub envelope: Value,
    pub deliveries: Vec<DeliveryView>,
}

/// One HTTP attempt of a delivery, as sent and as answered (secrets masked).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    pub id: String,
    pub attempt: i64,
    /// The node that made it.
    pub node: String,
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    /// Cut at 64 KiB. For everyone but admins, its event type's sensitive fields are masked.
    pub request_body: String,
    /// How `request_body` is shown to this caller.
    #[serde(default)]
    pub request_body_redaction: Redaction,
    pub response_status: Option<i64>,
    pub response_headers: Option<Vec<(String, String)>>,
    /// Cut at 64 KiB.
    pub response_body: Option<String>,
    /// `dns`, `connect`, `tls`, `tls_certificate_expired`, `tls_name_mismatch`, `tls_unknown_ca`,
    /// `timeout`, `http_status`, `redirect`, `ssrf_blocked`, `https_required`, `request`,
    /// `response_rule` (the endpoint's response rules judged the answer a failure).
    pub error_class: Option<String>,
    pub error: Option<String>,
    /// The endpoint's response rule that decided this attempt (`success: 304`, `no_retry:
    /// 422`, `body: ok is false, not true`); none when the defaults did.
    #[serde(default)]
    pub decided_by: Option<String>,
}

/// How an attempt's request body is shown to someone who may not see sensitive fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Redaction {
    /// As sent: it carried no sensitive value, the endpoint had them removed or masked, or
    /// the caller is an admin.
    #[default]
    None,
    /// As sent, with the sensitive values replaced by `***`.
    Masked,
    /// Not shown (empty): recorded before some of its event type's fields were marked
    /// sensitive, so no masked copy covers them. Admins see it.
    Withheld,
}

/// `GET /api/v1/deliveries/{id}`: the delivery with every attempt.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    /// Every attempt, oldest first (`attempts` is their count).
    pub attempt_log: Vec<AttemptView>,
}

/// Which of an endpoint's deliveries a bulk replay sends again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ReplayStatus {
    /// Dead-lettered or waiting for a retry.
    Failed,
    Dead,
    /// Cancelled when their endpoint was deleted.
    Cancelled,
}

impl ReplayStatus {
    /// As stored and sent: `failed`, `dead`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ReplayStatus> {
        [Self::Failed, Self::Dead, Self::Cancelled]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// `POST /api/v1/endpoints/{id}/replay`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub status: ReplayStatus,
    /// Only deliveries created at or after this time.
    #[serde(default)]
    pub since: Option<Timestamp>,
}

/// A bulk replay and how far it got.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayView {
    pub id: ReplayId,
    pub endpoint_id: EndpointId,
    /// Deliveries re-queued.
    pub total: i64,
    pub pending: i64,
    pub succeeded: i64,
    /// Failed again (waiting for a retry, or dead-lettered).
    pub failed: i64,
    pub done: bool,
    pub created_at: Timestamp,
}

/// `POST /api/v1/endpoints/{id}/test`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFire {
    /// Defaults to the endpoint's only exact event type.
    #[serde(default)]
    pub event_type: Option<String>,
    /// Defaults to the event type's example.
    #[serde(default)]
    pub data: Option<Value>,
}

/// What the test request got back. Test-fires are sent once, never retried.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestFireResult {
    pub event_id: EventId,
    pub delivery_id: DeliveryId,
    /// `succeeded` or `dead`.
    pub status: DeliveryStatus,
    pub response_status: Option<i64>,
    pub duration_ms: i64,
    pub response_body: Option<String>,
    pub error_class: Option<String>,
    pub error: Option<String>,
}

/// One time slice of a chart: attempts made, how many succeeded, and their latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsBucket {
    pub start: Timestamp,
    pub attempts: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub avg_ms: Option<f64>,
    /// Upper bounds of the latency bands holding the 50th and 95th percentile.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

/// An endpoint's health: its circuit and its last outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointHealth {
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i64,
    pub failing_since: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub last_failure_at: Option<Timestamp>,
}

/// Delivery metrics over a window (overall, or for one endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsView {
    pub window: String,
    pub bucket_ms: i64,
    pub buckets: Vec<StatsBucket>,
    pub total: StatsBucket,
    /// Deliveries retried in the window (a failed attempt that will be tried again).
    pub retries: i64,
    /// Right now: waiting (new or for a retry), in flight, and dead letters.
    pub queue_depth: i64,
    pub in_flight: i64,
    pub dead_letters: i64,
    pub health: Option<EndpointHealth>,
}

/// One evaluated condition of a filter preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionView {
    /// Where it is in the filter (`filter.all[1]`).
    pub at: String,
    pub field: String,
    pub op: String,
    pub value: Value,
    /// What the payload holds at `field`.
    pub actual: Vec<Value>,
    pub matched: bool,
}

/// Whether a filter lets a sample through, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterVerdict {
    pub matches: bool,
    pub reason: String,
    pub conditions: Vec<ConditionView>,
}

/// What an attempt got back, as the log and the pages say it: `HTTP 503`, or the error of a
/// request that got no answer; `None` when there is neither (not sent yet).
pub fn answer(status: Option<i64>, error: Option<&str>) -> Option<String> {
    match (status, error) {
        (Some(s), _) => Some(format!("HTTP {s}")),
        (None, Some(e)) => Some(e.to_owned()),
        (None, None) => None,
    }
}

impl AttemptView {
    /// Delivered: an answer the engine logged no error class for (a 2xx, or what the
    /// endpoint's response rules count as success).
    pub fn delivered(&self) -> bool {
        self.response_status.is_some() && self.error_class.is_none()
    }
}
