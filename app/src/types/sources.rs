//! Sources: where partners' webhooks come in (`POST /in/{id}`). A source says how its
//! requests are verified, which event type they become and how duplicates are told apart.
//! Secrets come in here and are masked (`***`) in every answer; sent back masked in a
//! PATCH, a secret keeps its stored value.

use super::ids::{EventId, InboundRequestId, SourceId};
use serde::{Deserialize, Serialize};

/// How a source checks that a request really comes from its partner. Every scheme that
/// signs a timestamp refuses one older (or newer) than `tolerance_secs` (default 300).
/// Each secret may have a `previous_*` companion, accepted too while a rotation is rolled
/// out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Verification {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`, several).
    StandardWebhooks {
        /// `whsec_…`
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// `Stripe-Signature: t=…,v1=…` (several `v1`), over `{t}.{body}`.
    Stripe {
        /// `whsec_…`
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// `X-Hub-Signature-256: sha256=<hex>` over the body.
    Github {
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
    },
    /// `X-Shopify-Hmac-Sha256: <base64>` over the body.
    Shopify {
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
    },
    /// `X-Slack-Signature: v0=<hex>` over `v0:{X-Slack-Request-Timestamp}:{body}`; the
    /// `url_verification` challenge is answered by Hookline itself.
    Slack {
        signing_secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// Any HMAC: the header it comes in, SHA-256 or SHA-512, hex or base64, an optional
    /// prefix (`sha256=`), and what is signed: `{body}`, or a template such as
    /// `{timestamp}.{body}` with the timestamp from `timestamp_header`.
    Hmac {
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        header: String,
        #[serde(default)]
        algorithm: HmacAlgorithm,
        #[serde(default)]
        encoding: SignatureEncoding,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        prefix: String,
        #[serde(default = "body_only")]
        signed: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp_header: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// `Authorization: Bearer <JWT>`: HS256 with a shared secret, or RS256/ES256 with the
    /// partner's public key (PEM). `exp` is required; `nbf`, `aud` and `iss` are checked
    /// when given, with `leeway_secs` (60) of clock skew.
    Jwt {
        #[serde(default)]
        algorithm: JwtAlgorithm,
        /// The HS256 secret, or the RS256/ES256 public key in PEM.
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        issuer: Option<String>,
        #[serde(default = "one_minute")]
        leeway_secs: u64,
    },
    /// `Authorization: Basic …`.
    Basic {
        username: String,
        password: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_password: Option<String>,
    },
    /// A key in a header (`header`) or, failing that, a query parameter (`query`).
    ApiKey {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_key: Option<String>,
    },
    /// Nothing is checked: anyone who knows the URL may post. Only when chosen explicitly;
    /// shown as a warning.
    None,
}

fn five_minutes() -> u64 {
    300
}

fn one_minute() -> u64 {
    60
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JwtAlgorithm {
    #[default]
    HS256,
    RS256,
    ES256,
}

fn body_only() -> String {
    "{body}".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum HmacAlgorithm {
    #[default]
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SignatureEncoding {
    #[default]
    Hex,
    Base64,
}

impl Verification {
    /// The scheme's name as sent (`github`, `hmac`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::StandardWebhooks { .. } => "standard_webhooks",
            Self::Stripe { .. } => "stripe",
            Self::Github { .. } => "github",
            Self::Shopify { .. } => "shopify",
            Self::Slack { .. } => "slack",
            Self::Hmac { .. } => "hmac",
            Self::Jwt { .. } => "jwt",
            Self::Basic { .. } => "basic",
            Self::ApiKey { .. } => "api_key",
            Self::None => "none",
        }
    }

    /// Every secret with its path (`verification.secret`, …): what is sealed at rest and
    /// masked in answers.
    pub fn secrets_mut(&mut self) -> Vec<(&'static str, &mut String)> {
        let mut out: Vec<(&'static str, &mut String)> = Vec::new();
        let (main, previous) = match self {
            Self::StandardWebhooks {
                secret,
                previous_secret,
                ..
            }
            | Self::Stripe {
                secret,
                previous_secret,
                ..
            }
            | Self::Github {
                secret,
                previous_secret,
            }
            | Self::Shopify {
                secret,
                previous_secret,
            }
            | Self::Hmac {
                secret,
                previous_secret,
                ..
            } => (("secret", secret), ("previous_secret", previous_secret)),
            Self::Slack {
                signing_secret,
                previous_secret,
                ..
            } => (
                ("signing_secret", signing_secret),
                ("previous_secret", previous_secret),
            ),
            Self::Basic {
                password,
                previous_password,
                ..
            } => (
                ("password", password),
                ("previous_password", previous_password),
            ),
            Self::ApiKey {
                key, previous_key, ..
            }
            | Self::Jwt {
                key, previous_key, ..
            } => (("key", key), ("previous_key", previous_key)),
            Self::None => return out,
        };
        out.push(main);
        if let Some(p) = previous.1.as_mut() {
            out.push((previous.0, p));
        }
        out
    }

    /// The current secret becomes the previous one (still accepted) and `new` the
    /// current; `None` for `none`, which has no secret.
    pub fn rotate(&mut self, new: String) -> Option<()> {
        let (current, previous) = match self {
            Self::StandardWebhooks {
                secret,
                previous_secret,
                ..
            }
            | Self::Stripe {
                secret,
                previous_secret,
                ..
            }
            | Self::Github {
                secret,
                previous_secret,
            }
            | Self::Shopify {
                secret,
                previous_secret,
            }
            | Self::Hmac {
                secret,
                previous_secret,
                ..
            }
            | Self::Slack {
                signing_secret: secret,
                previous_secret,
                ..
            }
            | Self::Basic {
                password: secret,
                previous_password: previous_secret,
                ..
            }
            | Self::ApiKey {
                key: secret,
                previous_key: previous_secret,
                ..
            }
            | Self::Jwt {
                key: secret,
                previous_key: previous_secret,
                ..
            } => (secret, previous_secret),
            Self::None => return None,
        };
        *previous = Some(std::mem::replace(current, new));
        Some(())
    }

    /// Ends a rotation: only the current secret is accepted from now on.
    pub fn retire_previous(&mut self) {
        match self {
            Self::StandardWebhooks {
                previous_secret, ..
            }
            | Self::Stripe {
                previous_secret, ..
            }
            | Self::Github {
                previous_secret, ..
            }
            | Self::Shopify {
                previous_secret, ..
            }
            | Self::Hmac {
                previous_secret, ..
            }
            | Self::Slack {
                previous_secret, ..
            } => *previous_secret = None,
            Self::Basic {
                previous_password, ..
            } => *previous_password = None,
            Self::ApiKey { previous_key, .. } | Self::Jwt { previous_key, .. } => {
                *previous_key = None
            }
            Self::None => {}
        }
    }

    /// Whether Hookline may make up a new secret (the provider issues Stripe's, Slack's
    /// and Shopify's, and a JWT's public key is the partner's).
    pub fn hookline_chooses_secret(&self) -> bool {
        match self {
            Self::Stripe { .. } | Self::Slack { .. } | Self::Shopify { .. } | Self::None => false,
            Self::Jwt { algorithm, .. } => *algorithm == JwtAlgorithm::HS256,
            _ => true,
        }
    }

    /// The headers (lower case) this scheme reads its signature or credential from: masked
    /// in the inbound log whatever their names.
    pub fn credential_headers(&self) -> Vec<String> {
        let fixed: &[&str] = match self {
            Self::StandardWebhooks { .. } => &["webhook-signature"],
            Self::Stripe { .. } => &["stripe-signature"],
            Self::Github { .. } => &["x-hub-signature-256", "x-hub-signature"],
            Self::Shopify { .. } => &["x-shopify-hmac-sha256"],
            Self::Slack { .. } => &["x-slack-signature"],
            Self::Jwt { .. } | Self::Basic { .. } => &["authorization"],
            Self::Hmac { header, .. } => return vec![header.to_ascii_lowercase()],
            Self::ApiKey { header, .. } => {
                return header.iter().map(|h| h.to_ascii_lowercase()).collect();
            }
            Self::None => &[],
        };
        fixed.iter().map(|h| h.to_string()).collect()
    }

    /// The same scheme with every secret shown as `***`.
    pub fn masked(&self) -> Verification {
        let mut copy = self.clone();
        for (_, v) in copy.secrets_mut() {
            *v = super::endpoints::MASK.to_string();
        }
        copy
    }
}

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
