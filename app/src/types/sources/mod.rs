//! Sources: where partners' webhooks come in (`POST /in/{id}`). A source says how its
//! requests are verified, which event type they become and how duplicates are told apart.
//! Secrets come in here and are masked (`***`) in every answer; sent back masked in a
//! PATCH, a secret keeps its stored value.

use crate::types::ids::{EventId, InboundRequestId, SourceId};
use serde::{Deserialize, Serialize};

mod verification;
pub use verification::{HmacAlgorithm, JwtAlgorithm, SignatureEncoding, Verification};

/// Taking the event type from each request: the value of a header, a query parameter or a
/// dotted path into the JSON body (exactly one), looked up in `map` (value to event type;
/// an empty map takes the value as the event type's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventTypeFrom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub map: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub unknown: UnknownValue,
}

/// Templates (the `{{ path }}` engine of endpoint templates) over the request, seen as
/// `{"body": …, "headers": {"x-name": "…"}, "query": {"name": "…"}}`: `data` becomes the
/// event's `data`, `context` (optional) its `current_context`. A placeholder whose field
/// is missing makes the request invalid (422), naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Transform {
    pub data: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
}

/// The answer to an accepted request: a 2xx status and a JSON body, a template that may
/// place `{{ event_id }}` and `{{ duplicate }}`. A duplicate gets the same body, with 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceResponse {
    #[serde(default = "accepted")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

fn accepted() -> u16 {
    202
}

/// What a value that maps to no event type gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum UnknownValue {
    /// 422, recorded as invalid, not published.
    #[default]
    Refuse,
    /// The source's `event_type`.
    Default,
}

/// Where a request's duplicate-detection id comes from: a header, or a path into the
/// JSON body (`id`, `data.object.id`), at most one. Neither: the scheme's own
/// (`webhook-id`, Stripe's event `id`, `X-GitHub-Delivery`, `X-Shopify-Webhook-Id`,
/// Slack's `event_id`). A request whose id was seen within `window_secs` (default one
/// day, 60 s to 30 days) is a duplicate, whatever its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Dedup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_secs: Option<u64>,
}

/// The duplicate window unless a source sets its own: one day.
pub const DEFAULT_DEDUP_WINDOW_SECS: u64 = 24 * 3600;
/// The longest duplicate window a source may set: 30 days.
pub const MAX_DEDUP_WINDOW_SECS: u64 = 30 * 24 * 3600;
/// The most requests per second a source may be limited to.
pub const MAX_SOURCE_RATE_PER_SECOND: u32 = 100_000;

/// A source's settings: the body of `POST /api/v1/sources`, and (merged onto the current
/// settings) of `PATCH /api/v1/sources/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub verification: Verification,
    /// The event type every accepted request becomes; with `event_type_from`, the one a
    /// request becomes when its value maps to nothing (if `unknown` is `default`).
    pub event_type: String,
    /// Takes the event type from the request instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_from: Option<EventTypeFrom>,
    /// Only requests from these addresses (CIDRs such as `192.0.2.0/24`); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<Dedup>,
    /// The largest body this source takes, in bytes (up to 10 MiB); default:
    /// `--max-body-bytes`. A larger one is refused with 413 before it is read further.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u64>,
    /// At most this many requests per second are taken (bursts up to one second's worth),
    /// per `hookline` process; more get 429 with `Retry-After`, logged without their body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_second: Option<u32>,
    /// What an accepted request is answered with (default: 202 and
    /// `{"event_id", "duplicate"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<SourceResponse>,
    /// Shapes the request into the event (the body as it is, otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    /// The events it publishes carry this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

fn yes() -> bool {
    true
}

/// The most a source may be configured to take.
pub const MAX_SOURCE_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// The most a signed timestamp may be off (`tolerance_secs`): a week.
pub const MAX_TOLERANCE_SECS: u64 = 7 * 86_400;

/// The most clock skew a JWT's times are given (`leeway_secs`): a day.
pub const MAX_LEEWAY_SECS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceView {
    pub id: SourceId,
    /// Where the partner posts: a path on this server, or an absolute URL when
    /// `--public-url` is set.
    pub url: String,
    #[serde(flatten)]
    pub settings: SourceInput,
    /// Set when `verification` is `none`: anyone who knows the URL may post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub created_at: crate::time_fmt::Timestamp,
    pub updated_at: crate::time_fmt::Timestamp,
}

/// What became of an inbound request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Verdict {
    /// Verified and published.
    Accepted,
    /// Verified, and the same id was seen within the window: not published again.
    Duplicate,
    /// Not verified (signature, timestamp, credentials, address): 401 or 403.
    Refused,
    /// Verified, but not a valid event (body, event type, schema): 4xx.
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Refused => "refused",
            Self::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        [
            Self::Accepted,
            Self::Duplicate,
            Self::Refused,
            Self::Invalid,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A source's secret in plain (`GET /api/v1/sources/{id}/secret`, editors only, audited),
/// and the previous one while a rotation is rolled out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceSecret {
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// `POST /api/v1/sources/{id}/secret/rotate`: the new secret, or none for Hookline to
/// make one (where the provider does not issue its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RotateSourceSecret {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `POST /api/v1/sources/preview`: what a request would become under `settings` (saved
/// or not), without publishing or logging it. Verification is not run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PreviewInbound {
    pub settings: SourceInput,
    /// Header name to value (`content-type` picks JSON, XML or form).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub query: String,
    pub body: String,
}

/// The event a previewed request would become, or why it would be refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboundPreview {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    /// How many endpoints it would be delivered to (when it is valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<usize>,
    /// Every reason it would be invalid (422), each with its place.
    pub errors: Vec<String>,
}

/// How a logged request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Via {
    /// Posted to the source's URL.
    #[default]
    Http,
    /// The dashboard's "Send a signed sample": signed as the provider would, with the
    /// source's own secret.
    Sample,
    /// A replay of an earlier request (`replay_of`): mapping and validation run again on
    /// the stored request; verification is not (it passed when the request came in).
    Replay,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Sample => "sample",
            Self::Replay => "replay",
        }
    }

    pub fn parse(s: &str) -> Via {
        match s {
            "sample" => Self::Sample,
            "replay" => Self::Replay,
            _ => Self::Http,
        }
    }
}

/// One request in a source's inbound log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboundRequestView {
    pub id: InboundRequestId,
    pub source_id: SourceId,
    pub received_at: crate::time_fmt::Timestamp,
    pub remote_addr: String,
    /// The query string as received (without `?`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    /// Header name to value, secrets masked.
    pub headers: serde_json::Value,
    /// The body as received (UTF-8; other bytes are shown replaced).
    pub body: String,
    pub verdict: Verdict,
    /// Why it was refused or invalid ("signature mismatch", "timestamp 7 min old", …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The status Hookline answered with.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    /// It passed verification (only such a request may be replayed).
    pub verified: bool,
    #[serde(default)]
    pub via: Via,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<InboundRequestId>,
}
