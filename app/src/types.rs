//! Wire types shared by the server and the browser. A few carry secrets on purpose: an
//! endpoint's credentials on their way in (`EndpointInput`; answers mask them), its signing
//! secret (`EndpointSecret`, for admins) and a new API key (`CreatedApiKey`, shown once).
//! Password hashes and session data are server-only types that never derive `Serialize`.

pub mod alerts;
pub mod diagnostics;
pub mod endpoints;
pub mod events;
pub mod filter;
pub mod ids;
pub mod portal;
pub mod presets;
pub mod sources;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a signed-in person may do. Ordered: an admin can do everything an editor can,
/// an editor everything a viewer can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// True when this role is at least `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "unknown role '{other}': expected admin, editor or viewer"
            )),
        }
    }
}

/// The signed-in user, as the dashboard sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: ids::UserId,
    pub email: String,
    pub role: Role,
}

/// What the dashboard needs to decide where to send a visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub me: Option<Me>,
    /// No user exists yet: the first-run page must be shown.
    pub needs_setup: bool,
}

/// One row of the Users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: ids::UserId,
    pub email: String,
    pub role: Role,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// Where a validation error applies (a field name or JSON path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Shown on the overview page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemInfo {
    pub version: String,
    pub database: String,
    pub users: i64,
}

/// How many items one page of a list holds, as a caller asks for it: 1 to
/// [`PageLimit::MAX`]; anything else is refused at the edge rather than quietly clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PageLimit(u32);

impl PageLimit {
    pub const MAX: u32 = 500;

    /// The asked limit, or the list's own default.
    pub fn or(asked: Option<PageLimit>, default: u32) -> u32 {
        asked.map_or(default, |l| l.0)
    }
}

impl TryFrom<u32> for PageLimit {
    type Error = String;

    fn try_from(n: u32) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&n) {
            Ok(PageLimit(n))
        } else {
            Err(format!("must be from 1 to {}, not {n}", Self::MAX))
        }
    }
}

impl From<PageLimit> for u32 {
    fn from(l: PageLimit) -> u32 {
        l.0
    }
}

/// One page of a list, in the order that list documents (events and deliveries newest
/// first); pass `next_cursor` back as `cursor` for the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From rows fetched with `LIMIT limit + 1`: keeps `limit`, and when there was one
    /// more, the cursor of the last one kept.
    pub fn cut(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Page<T> {
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more { items.last().map(cursor) } else { None };
        Page { items, next_cursor }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub id: String,
    pub at: crate::time_fmt::Timestamp,
    /// An e-mail, `api-key:NAME` or `cli`.
    pub actor: String,
    /// `create`, `update`, `delete`, `revoke`, `rotate`.
    pub action: String,
    /// `user`, `api_key`, `event_type`, `endpoint`.
    pub resource: String,
    pub resource_id: String,
    /// For updates `{field: {from, to}}`; for creates and deletes the record. Secrets masked.
    pub changes: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ApiKeyScope {
    /// Everything an admin can do through the REST API.
    Admin,
    /// Publishing events only.
    Publish,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::Admin => "admin",
            ApiKeyScope::Publish => "publish",
        }
    }
}

impl FromStr for ApiKeyScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "admin" => Ok(ApiKeyScope::Admin),
            "publish" => Ok(ApiKeyScope::Publish),
            other => Err(format!(
                "unknown scope '{other}': expected admin or publish"
            )),
        }
    }
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: ids::ApiKeyId,
    pub name: String,
    pub scope: ApiKeyScope,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub created_by: String,
    pub created_at: crate::time_fmt::Timestamp,
    pub last_used_at: Option<crate::time_fmt::Timestamp>,
    pub revoked_at: Option<crate::time_fmt::Timestamp>,
}

/// Returned once, at creation: the only time the key is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKeyView,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewApiKey {
    /// 1 to 100 characters, not only spaces.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
    pub scope: ApiKeyScope,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventTypeView {
    /// Dotted lowercase, e.g. `order.created`.
    pub name: String,
    pub description: String,
    /// JSON Schema that every event's `data` must match; `null` accepts any JSON.
    pub schema: Option<serde_json::Value>,
    /// A sample `data`, valid against the schema (used by test-fire).
    pub example: Option<serde_json::Value>,
    /// Paths such as `data.card.number` whose values only admins see (`***` for everyone
    /// else, in events and attempt logs); endpoints choose to receive them, masked or not
    /// at all (`sensitive_data`).
    #[serde(default)]
    pub sensitive_fields: Vec<String>,
    pub archived: bool,
    pub created_at: crate::time_fmt::Timestamp,
    pub updated_at: crate::time_fmt::Timestamp,
}

/// Create (`POST /event-types`, with `name`) or replace (`PUT /event-types/{name}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventTypeInput {
    /// Lower-case dot-separated segments (`order.created`), at most 128 characters; names
    /// under `hookline.` are the platform's own.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 128,
            pattern = r"^(?!hookline(\.|$))[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$"
        )
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub description: Option<String>,
    /// A JSON Schema (an object or a boolean); `null` accepts any `data`.
    #[serde(default)]
    pub schema: Option<serde_json::Value>,
    #[serde(default)]
    pub example: Option<serde_json::Value>,
    /// At most 32 paths rooted at `data` or `current_context`; `[*]` for every element.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 32))]
    pub sensitive_fields: Option<Vec<String>>,
    #[serde(default)]
    pub archived: Option<bool>,
}
