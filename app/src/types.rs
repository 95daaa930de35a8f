//! Wire types shared by the server and the browser. Nothing secret lives here: password
//! hashes and session data are separate server-only types that never derive `Serialize`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a signed-in person may do. Ordered: an admin can do everything an editor can,
/// an editor everything a viewer can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
    pub id: String,
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
    pub id: String,
    pub email: String,
    pub role: Role,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// Where a validation error applies (a field name or JSON path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
