//! Endpoints on the wire. Field names are part of the public REST contract.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// How Hookline authenticates to the receiver, besides signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum EndpointAuth {
    #[default]
    None,
    /// A fixed header, e.g. `X-Api-Key: …`.
    ApiKey { header: String, value: String },
    /// `Authorization: Bearer <token>`.
    Bearer { token: String },
    /// `Authorization: Basic …`.
    Basic { username: String, password: String },
    /// OAuth2 client credentials: a token is fetched from `token_url` and cached until it expires.
    Oauth2 {
        token_url: String,
        client_id: String,
        client_secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
    /// `Authorization: Bearer <JWT>`: a short-lived token signed for every request, with
    /// `iat`, `exp` (`iat` + `ttl_seconds`) and a fresh `jti`, plus the configured claims.
    Jwt {
        algorithm: JwtAlgorithm,
        /// HS256: the shared secret (32 bytes or more). RS256 and ES256 (P-256): the
        /// private key in PEM, PKCS#8 (`BEGIN PRIVATE KEY`; RSA also PKCS#1).
        key: String,
        /// Claims put in every token (`iss`, `aud`, `sub`, anything else); `iat`, `exp`,
        /// `nbf` and `jti` are Hookline's.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        #[cfg_attr(feature = "ssr", schema(value_type = JwtClaims))]
        claims: BTreeMap<String, Value>,
        /// How long each token is valid, 10 to 3600 seconds.
        #[serde(default = "default_jwt_ttl")]
        #[cfg_attr(feature = "ssr", schema(minimum = 10, maximum = 3600))]
        ttl_seconds: u32,
        /// The `kid` header, for receivers that pick the key by id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
    },
}

/// A JWT's configured claims, a JSON object: documented as a schema of its own, so that
/// client generators name it once.
#[cfg(feature = "ssr")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JwtClaims(BTreeMap<String, Value>);

/// How an endpoint's JWTs are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 and a shared secret.
    #[default]
    #[serde(rename = "HS256")]
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
}

impl JwtAlgorithm {
    pub const ALL: [JwtAlgorithm; 3] = [Self::Hs256, Self::Rs256, Self::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

pub const DEFAULT_JWT_TTL_SECONDS: u32 = 60;

fn default_jwt_ttl() -> u32 {
    DEFAULT_JWT_TTL_SECONDS
}

/// What a credential looks like in every answer, log and audit entry. Sent back in a
/// PATCH or the editor, it means "keep the stored value".
pub const MASK: &str = "***";

/// Does a header of this name carry a credential whatever the endpoint says? Covers the
/// standard ones and any name containing key, token, secret, signature, password or auth.
pub fn header_name_looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["key", "token", "secret", "signature", "password", "auth"]
        .iter()
        .any(|word| lower.contains(word))
}

/// A header value as it may be shown in a log: masked when its name looks secret.
pub fn shown_header_value(name: &str, value: &str) -> String {
    if header_name_looks_secret(name) {
        MASK.to_string()
    } else {
        value.to_string()
    }
}

impl EndpointAuth {
    /// The credential of this kind of auth with its path (`auth.password`), if it has one.
    pub fn credential_mut(&mut self) -> Option<(&'static str, &mut String)> {
        match self {
            EndpointAuth::None => None,
            EndpointAuth::ApiKey { value, .. } => Some(("auth.value", value)),
            EndpointAuth::Bearer { token } => Some(("auth.token", token)),
            EndpointAuth::Basic { password, .. } => Some(("auth.password", password)),
            EndpointAuth::Oauth2 { client_secret, .. } => {
                Some(("auth.client_secret", client_secret))
            }
            EndpointAuth::Jwt { key, .. } => Some(("auth.key", key)),
        }
    }

    /// The same settings with the credential replaced by `***`, for answers and logs.
    pub fn masked(&self) -> EndpointAuth {
        let mut copy = self.clone();
        if let Some((_, value)) = copy.credential_mut() {
            *value = MASK.to_string();
        }
        copy
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum BodyFormat {
    #[default]
    Json,
    Xml,
}

/// What an endpoint receives of the fields its event types mark sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SensitiveData {
    /// The real values (the default: most receivers need them).
    #[default]
    Send,
    /// Each value replaced by `***`.
    Mask,
    /// Each key left out (an array element becomes `null`).
    Remove,
}

impl SensitiveData {
    pub const ALL: [SensitiveData; 3] = [Self::Send, Self::Mask, Self::Remove];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Mask => "mask",
            Self::Remove => "remove",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Batch mode: up to `max_events` events, or whatever arrived within `max_wait`, in one
/// request whose body is a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BatchSettings {
    pub max_events: u32,
    /// A duration such as `500ms` or `2s`.
    pub max_wait: String,
}

/// An endpoint's settings: the body of `POST /api/v1/endpoints`, and (merged onto the
/// current settings) of `PATCH /api/v1/endpoints/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointInput {
    /// 1 to 100 characters, not only spaces.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub description: String,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Exact names (`order.created`), wildcards (`order.*`) or `*` for every type.
    #[serde(default = "all_event_types")]
    #[cfg_attr(feature = "ssr", schema(min_items = 1))]
    pub event_types: Vec<String>,
    /// A filter expression (see the filter documentation); `null` lets everything through.
    #[serde(default)]
    pub filter: Option<Value>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Names of `headers` whose values are credentials: masked like `auth` in every answer
    /// and log, and encrypted at rest. Headers whose names look secret (see
    /// [`header_name_looks_secret`]) are treated so without being listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_headers: Vec<String>,
    #[serde(default)]
    pub auth: EndpointAuth,
    /// Request timeout, e.g. `30s` (the default).
    #[serde(default = "default_timeout")]
    pub timeout: String,
    /// Delays before each retry, e.g. `["5s", "5m", "2h"]`; `null` uses the platform default.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 25))]
    pub retry_schedule: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1_000_000))]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 1000))]
    pub max_concurrency: Option<u32>,
    /// FIFO: the next event waits until the previous one succeeded or was dead-lettered.
    #[serde(default)]
    pub ordered: bool,
    #[serde(default)]
    pub batch: Option<BatchSettings>,
    #[serde(default)]
    pub format: BodyFormat,
    /// A body template with `{{ path }}` placeholders; `null` sends the envelope.
    #[serde(default)]
    pub template: Option<Value>,
    /// The event types' sensitive fields: `send` them, `mask` them or `remove` them,
    /// before the template is applied.
    #[serde(default)]
    pub sensitive_data: SensitiveData,
    /// Only this tenant's events; `null` receives every tenant's events.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[A-Za-z0-9_.-]{1,64}$"))]
    pub tenant: Option<String>,
    /// Deliver over HTTPS only: an `http://` URL (or OAuth2 token URL) is refused when
    /// saved and never sent to. `hookline serve --https-only` sets it for every endpoint.
    #[serde(default)]
    pub https_only: bool,
    /// TLS toward the receiver: a client certificate (mutual TLS) and the CAs to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<EndpointTls>,
    /// How requests are signed: `v1` (HMAC-SHA256 with the `whsec_` secret, the default) or
    /// `v1a` (ed25519: receivers verify with the `whpk_` public key and cannot sign).
    /// Changing it replaces the signing secret at once, with no overlap.
    #[serde(default)]
    pub signature_scheme: SignatureScheme,
    /// What counts as delivered beyond "any 2xx", which failures are not worth retrying,
    /// and a rule on the response body; `null`: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_rules: Option<ResponseRules>,
}

/// Custom response handling. The attempt log names the rule that decided (`decided_by`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResponseRules {
    /// Statuses that count as delivered: exact codes (`"304"`) or classes (`"2xx"`).
    /// Empty: any 2xx.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub success: Vec<String>,
    /// Failures sent to the dead letters at once, with no retry (e.g. `"400"`, `"422"`,
    /// `"4xx"`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 20))]
    pub no_retry: Vec<String>,
    /// A success status also needs the body to be JSON with this value at this path, e.g.
    /// `{"path": "ok", "equals": true}`; otherwise the attempt failed and is retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BodyRule {
    /// Dotted keys into the response body's JSON (`ok`, `result.status`).
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,7}$")
    )]
    pub path: String,
    /// The value it must equal.
    pub equals: Value,
}

/// `"304"` or `"2xx"`: does `status` match?
pub fn status_matches(pattern: &str, status: u16) -> bool {
    let p = pattern.trim();
    match p.strip_suffix("xx") {
        Some(class) => class.len() == 1 && class.parse::<u16>().ok() == Some(status / 100),
        None => p.parse::<u16>().ok() == Some(status),
    }
}

/// A well-formed status pattern: `100`–`599` or `1xx`–`5xx`.
pub fn status_pattern_ok(pattern: &str) -> bool {
    let p = pattern.trim();
    match p.strip_suffix("xx") {
        Some(class) => matches!(class, "1" | "2" | "3" | "4" | "5"),
        None => p.len() == 3 && p.parse::<u16>().is_ok_and(|s| (100..600).contains(&s)),
    }
}

/// Standard Webhooks signature schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SignatureScheme {
    /// `v1,<base64 HMAC-SHA256>`, keyed with the `whsec_` secret.
    #[default]
    V1,
    /// `v1a,<base64 ed25519 signature>`, made with the `whsk_` key; verified with `whpk_`.
    V1a,
}

impl SignatureScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V1a => "v1a",
        }
    }
}

/// An endpoint's TLS settings. Certificates and keys are PEM text, each at most 64 KB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointTls {
    /// The client certificate Hookline presents (mutual TLS), with its intermediates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    /// Its private key (PKCS#8, PKCS#1 or SEC1): a credential, masked and sealed at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    /// The CAs that may sign the receiver's certificate, instead of the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
}

impl EndpointInput {
    /// Is the value of header `name` a credential: listed in `secret_headers` (any case) or
    /// with a name that looks secret? The one rule for masking and encrypting headers.
    pub fn header_is_secret(&self, name: &str) -> bool {
        header_name_looks_secret(name)
            || self
                .secret_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
    }

    /// Every credential in these settings, with its path: the auth's secret
    /// (`auth.client_secret`) and each secret header's value (`headers.X-Api-Key`).
    pub fn credentials_mut(&mut self) -> Vec<(String, &mut String)> {
        let secret_names: Vec<String> = self
            .headers
            .keys()
            .filter(|name| self.header_is_secret(name))
            .cloned()
            .collect();
        let mut out: Vec<(String, &mut String)> = Vec::new();
        if let Some((path, value)) = self.auth.credential_mut() {
            out.push((path.to_string(), value));
        }
        if let Some(key) = self.tls.as_mut().and_then(|t| t.client_key.as_mut()) {
            out.push(("tls.client_key".to_string(), key));
        }
        for (name, value) in self.headers.iter_mut() {
            if secret_names.contains(name) {
                out.push((format!("headers.{name}"), value));
            }
        }
        out
    }

    /// Every credential by path, read-only.
    pub fn credentials(&self) -> BTreeMap<String, String> {
        let mut copy = self.clone();
        copy.credentials_mut()
            .into_iter()
            .map(|(path, value)| (path, value.clone()))
            .collect()
    }

    /// The same settings with every credential (auth and secret headers) replaced by `***`:
    /// what answers, audit entries and the dashboard show.
    pub fn masked(&self) -> EndpointInput {
        let mut copy = self.clone();
        for (_, value) in copy.credentials_mut() {
            *value = MASK.to_string();
        }
        copy
    }
}

fn default_true() -> bool {
    true
}

fn all_event_types() -> Vec<String> {
    vec!["*".to_string()]
}

fn default_timeout() -> String {
    "30s".to_string()
}

/// An endpoint as answered: its settings (credentials masked) and state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointView {
    pub id: super::ids::EndpointId,
    #[serde(flatten)]
    pub settings: EndpointInput,
    /// Why Hookline disabled it (`410 Gone`, circuit breaker), if it did.
    pub disabled_reason: Option<String>,
    pub created_at: crate::time_fmt::Timestamp,
    pub updated_at: crate::time_fmt::Timestamp,
}

/// `GET /api/v1/endpoints/{id}/secret`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointSecret {
    /// `whsec_` + base64 of 32 random bytes; the key is the decoded bytes.
    pub secret: String,
    /// During a rotation: the previous secret, still signing beside the new one until
    /// `previous_expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_expires_at: Option<crate::time_fmt::Timestamp>,
    /// `v1a` endpoints: `whpk_` + base64 of the ed25519 public key, what receivers verify
    /// with (then `secret` is the `whsk_` private key, which stays with Hookline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_public_key: Option<String>,
}

/// Does an endpoint subscribed to `patterns` want `event_type`?
pub fn subscribes(patterns: &[String], event_type: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*"
            || p == event_type
            || p.strip_suffix(".*").is_some_and(|prefix| {
                event_type.len() > prefix.len() + 1
                    && event_type.starts_with(prefix)
                    && event_type.as_bytes()[prefix.len()] == b'.'
            })
    })
}
