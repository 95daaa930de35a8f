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
    /// A tenant in the portal, by the portal link it opened.
    PortalLink,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// The user's or the API key's id.
    pub id: Option<String>,
    /// Shown in logs and the audit log: an e-mail, `api-key:NAME`, `cli` or
    /// `portal-link:ID (TENANT)`.
    pub label: String,
    pub role: Role,
    /// A `publish` API key: may publish events and nothing else.
    pub publish_only: bool,
    /// The change-counter ticket taken when this request was admitted (see
    /// [`crate::backend::versions`]): caches may answer it with anything read after that moment, so
    /// one request waits for at most one read of the counters.
    pub admitted: Option<u64>,
    /// The one tenant this actor may act on: set for a portal link, which reaches that
    /// tenant's endpoints and deliveries through [`Actor::require_on`] and
    /// [`Actor::require_listing`], and is refused by [`Actor::require`] everywhere else.
    pub tenant: Option<String>,
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
            tenant: None,
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
            tenant: None,
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
            tenant: None,
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
            tenant: None,
        }
    }

    /// A tenant in the portal: its link is the actor in the audit log. It may change its
    /// tenant's records (the portal checks the link's capabilities first) and nothing else.
    pub fn portal(grant: &super::portal_links::PortalGrant) -> Actor {
        Actor {
            kind: ActorKind::PortalLink,
            id: Some(grant.link.to_string()),
            label: format!("portal-link:{} ({})", grant.link, grant.tenant),
            role: Role::Editor,
            publish_only: false,
            admitted: None,
            tenant: Some(grant.tenant.clone()),
        }
    }

    /// True when this actor is the user `user_id` themselves.
    pub fn is_user(&self, user_id: &str) -> bool {
        self.kind == ActorKind::User && self.id.as_deref() == Some(user_id)
    }

    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        if self.tenant.is_some() {
            return Err(AppError::forbidden(
                "a portal link reaches its own tenant's endpoints and deliveries only",
            ));
        }
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

    /// For one record of `tenant` (`what` names it, e.g. `endpoint ep_…`): `needed`, and
    /// for a portal link the record must be its tenant's; another tenant's, or an
    /// every-tenant one, is not found, so the portal learns nothing of it.
    pub fn require_on(
        &self,
        needed: Role,
        tenant: Option<&str>,
        what: impl FnOnce() -> String,
    ) -> Result<(), AppError> {
        let Some(scope) = &self.tenant else {
            return self.require(needed);
        };
        if tenant != Some(scope.as_str()) {
            return Err(AppError::NotFound(what()));
        }
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!("this needs the {needed} role")))
        }
    }

    /// Before a record is read: `needed` for an actor without a tenant, so a caller without
    /// the role learns nothing (not even whether the record exists); a portal link is
    /// checked against the record, once read, by [`Actor::require_on`].
    pub fn require_ahead(&self, needed: Role) -> Result<(), AppError> {
        match self.tenant {
            None => self.require(needed),
            Some(_) => Ok(()),
        }
    }

    /// For a listing: `needed`, and the tenant the listing must keep to (a portal link's),
    /// which the caller applies in its query.
    pub fn require_listing(&self, needed: Role) -> Result<Option<&str>, AppError> {
        match &self.tenant {
            Some(scope) if self.role.allows(needed) => Ok(Some(scope.as_str())),
            Some(_) => Err(AppError::forbidden(format!("this needs the {needed} role"))),
            None => self.require(needed).map(|()| None),
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

    #[test]
    fn a_portal_link_reaches_its_tenants_records_only() {
        use crate::backend::access::portal_links::PortalGrant;
        let portal = Actor::portal(&PortalGrant {
            link: crate::types::ids::PortalLinkId::from_db("pl_1".into()),
            tenant: "acme".into(),
            capabilities: vec![],
            expires_at: crate::time_fmt::Timestamp(0),
        });
        let what = || "endpoint ep_1".to_owned();
        assert!(portal.require_on(Role::Editor, Some("acme"), what).is_ok());
        for other in [Some("globex"), Some("acme "), None] {
            assert!(matches!(
                portal.require_on(Role::Viewer, other, what),
                Err(AppError::NotFound(_))
            ));
        }
        assert!(portal.require_on(Role::Admin, Some("acme"), what).is_err());
        assert!(
            portal.require(Role::Viewer).is_err(),
            "nothing beyond its tenant"
        );
        assert!(portal.require_publish().is_err());
        assert_eq!(portal.require_listing(Role::Viewer).unwrap(), Some("acme"));
        assert_eq!(Actor::cli().require_listing(Role::Admin).unwrap(), None);
        assert!(Actor::cli().require_on(Role::Admin, None, what).is_ok());
    }
}
