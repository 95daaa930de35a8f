//! Who is asking. Every service method takes an `Actor` and checks it itself, so neither
//! door (REST or server function) can forget the check.

use crate::error::AppError;
use crate::types::{Me, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A dashboard user, by session.
    User,
    /// A REST caller, by API key.
    ApiKey,
    /// The operator at the server's own command line.
    Cli,
    /// Hookline itself: the only publisher of `hookline.*` events.
    System,
    /// A partner posting to a source (`/in/{id}`), verified by the source's scheme.
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// The user's or the API key's id.
    pub id: Option<String>,
    /// Shown in logs and the audit log: an e-mail, `api-key:NAME` or `cli`.
    pub label: String,
    pub role: Role,
    /// A `publish` API key: may publish events and nothing else.
    pub publish_only: bool,
    /// The change-counter ticket taken when this request was admitted (see
    /// [`crate::backend::versions`]): caches may answer it with anything read after that moment, so
    /// one request waits for at most one read of the counters.
    pub admitted: Option<u64>,
}

impl Actor {
    pub fn user(me: &Me) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: Some(me.id.to_string()),
            label: me.email.clone(),
            role: me.role,
            publish_only: false,
            admitted: None,
        }
    }

    /// Whoever can run the binary against the database already holds every key.
    pub fn cli() -> Actor {
        Actor {
            kind: ActorKind::Cli,
            id: None,
            label: "cli".into(),
            role: Role::Admin,
            publish_only: false,
            admitted: None,
        }
    }

    /// Hookline itself, publishing its operational events.
    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            label: "hookline".into(),
            ..Actor::cli()
        }
    }

    /// A partner whose request a source verified: may publish, nothing else.
    pub fn source(id: &str, name: &str) -> Actor {
        Actor {
            kind: ActorKind::Source,
            id: Some(id.to_owned()),
            label: format!("source:{name}"),
            role: Role::Viewer,
            publish_only: true,
            admitted: None,
        }
    }

    /// The first-run setup page, guarded by the setup token.
    pub fn first_run() -> Actor {
        Actor {
            label: "first-run setup".into(),
            ..Actor::cli()
        }
    }

    pub fn api_key(id: &str, name: &str, admin: bool) -> Actor {
        Actor {
            kind: ActorKind::ApiKey,
            id: Some(id.to_owned()),
            label: format!("api-key:{name}"),
            role: if admin { Role::Admin } else { Role::Viewer },
            publish_only: !admin,
            admitted: None,
        }
    }

    /// True when this actor is the user `user_id` themselves.
    pub fn is_user(&self, user_id: &str) -> bool {
        self.kind == ActorKind::User && self.id.as_deref() == Some(user_id)
    }

    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        if self.publish_only {
            return Err(AppError::forbidden(
                "this API key has the publish scope: it may only publish events",
            ));
        }
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this needs the {needed} role; you are {}",
                self.role
            )))
        }
    }

    /// May this actor see the values of sensitive payload fields? Admins only (admin API
    /// keys, the CLI and Hookline itself included); everyone else sees `***`.
    pub fn sees_sensitive(&self) -> bool {
        self.role.allows(Role::Admin) && !self.publish_only
    }

    /// Publishing events: editors and admins, and API keys of either scope.
    pub fn require_publish(&self) -> Result<(), AppError> {
        if self.publish_only {
            Ok(())
        } else {
            self.require(Role::Editor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_keys_may_only_publish() {
        let key = Actor::api_key("key_1", "orders", false);
        assert!(key.require_publish().is_ok());
        assert!(key.require(Role::Viewer).is_err(), "not even reading");
        let admin_key = Actor::api_key("key_2", "ops", true);
        assert!(admin_key.require(Role::Admin).is_ok());
        assert!(admin_key.require_publish().is_ok());
        let viewer = Actor::user(&Me {
            id: crate::types::ids::UserId::from_db("u".into()),
            email: "v@x.y".into(),
            role: Role::Viewer,
        });
        assert!(viewer.require_publish().is_err());
        assert!(viewer.require(Role::Viewer).is_ok());
    }
}
