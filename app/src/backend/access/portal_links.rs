//! Portal links: an admin gives one tenant a way into the tenant portal. A link is a
//! token signed with a key derived from the master key (HMAC-SHA256), carrying its id, its
//! tenant, its capabilities and its expiry; the token is never stored. The row keeps what
//! it grants, so links can be listed and revoked, and a token is honoured only while its
//! row says the same, unrevoked and unexpired.
//!
//! Rotating the master key derives a new signing key: every link made before stops
//! working, as every credential sealed under the old key is re-sealed.

use crate::backend::audit::AuditEntry;
use crate::backend::crypto::Keyring;
use crate::backend::domain::check_tenant;
use crate::backend::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::ids::PortalLinkId;
use crate::types::portal::{CreatedPortalLink, NewPortalLink, PortalCapability, PortalLinkView};
use crate::types::{Page, Role};
use crate::with_db;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const TOKEN_PREFIX: &str = "hlp_";
pub const MIN_LIFETIME: Duration = Duration::from_secs(3600);
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// Longer tokens are refused before any decoding or hashing.
const MAX_TOKEN_BYTES: usize = 1024;

/// What a valid link grants, as the portal's requests will carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalGrant {
    pub link: PortalLinkId,
    pub tenant: String,
    pub capabilities: Vec<PortalCapability>,
    pub expires_at: Timestamp,
}

impl PortalGrant {
    pub fn allows(&self, capability: PortalCapability) -> bool {
        self.capabilities.contains(&capability)
    }
}

/// Why a token opens nothing; the portal shows this to whoever holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortalRefusal {
    #[error("this is not a valid portal link")]
    Invalid,
    #[error("this portal link expired at {0}")]
    Expired(String),
    #[error("this portal link was revoked at {0}")]
    Revoked(String),
}

/// The signed part of a token.
#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "l")]
    link: String,
    #[serde(rename = "t")]
    tenant: String,
    #[serde(rename = "c")]
    capabilities: Vec<PortalCapability>,
    #[serde(rename = "e")]
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: String,
    tenant: String,
    capabilities: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl LinkRow {
    fn into_view(self) -> AppResult<PortalLinkView> {
        let capabilities: Vec<PortalCapability> = serde_json::from_str(&self.capabilities)
            .map_err(|e| AppError::internal("stored portal capabilities are invalid", e))?;
        Ok(PortalLinkView {
            id: PortalLinkId::from_db(self.id),
            read_only: capabilities == [PortalCapability::View],
            capabilities,
            tenant: self.tenant,
            created_by: self.created_by,
            created_at: Timestamp(self.created_at),
            expires_at: Timestamp(self.expires_at),
            revoked_at: self.revoked_at.map(Timestamp),
        })
    }
}

const COLUMNS: &str = "id, tenant, capabilities, created_by, created_at, expires_at, revoked_at";

/// `view` plus what was asked for, each once, in the enum's order.
fn granted(asked: &[PortalCapability]) -> Vec<PortalCapability> {
    let mut all: Vec<_> = asked.to_vec();
    all.push(PortalCapability::View);
    all.sort();
    all.dedup();
    all
}

pub struct PortalLinks {
    db: Db,
    key: [u8; 32],
    /// The origin browsers use (`--public-url`), which links point at.
    pub public_url: String,
}

impl PortalLinks {
    pub fn new(db: Db, keys: &Keyring) -> Self {
        Self {
            db,
            key: keys.derive("portal links v1"),
            public_url: "http://127.0.0.1:3000".to_owned(),
        }
    }

    fn mac(&self, payload: &str) -> Hmac<sha2::Sha256> {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    fn token(&self, view: &PortalLinkView) -> String {
        let claims = Claims {
            link: view.id.to_string(),
            tenant: view.tenant.clone(),
            capabilities: view.capabilities.clone(),
            expires_at: view.expires_at.0,
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{TOKEN_PREFIX}{payload}.{signature}")
    }

    /// Checks what an admin asked for, before anything is stored: every problem at once.
    fn check(input: &NewPortalLink) -> AppResult<(Vec<PortalCapability>, Duration)> {
        let mut errors = Vec::new();
        if let Err(m) = check_tenant(&input.tenant) {
            errors.push(crate::types::FieldError::new("tenant", m));
        }
        if input.capabilities.len() > PortalCapability::ALL.len() {
            errors.push(crate::types::FieldError::new(
                "capabilities",
                format!(
                    "must list at most {} capabilities",
                    PortalCapability::ALL.len()
                ),
            ));
        }
        let lifetime = match crate::duration::parse(&input.expires_in) {
            Ok(d) if (MIN_LIFETIME..=MAX_LIFETIME).contains(&d) => Some(d),
            Ok(_) => {
                errors.push(crate::types::FieldError::new(
                    "expires_in",
                    "must be between 1h and 30d",
                ));
                None
            }
            Err(m) => {
                errors.push(crate::types::FieldError::new("expires_in", m));
                None
            }
        };
        match lifetime {
            Some(d) if errors.is_empty() => Ok((granted(&input.capabilities), d)),
            _ => Err(AppError::invalid_many(errors)),
        }
    }

    /// Creates a link; its URL is in this answer only.
    pub async fn create(
        &self,
        actor: &Actor,
        input: &NewPortalLink,
    ) -> AppResult<CreatedPortalLink> {
        actor.require(Role::Admin)?;
        let (capabilities, lifetime) = Self::check(input)?;
        let now = now_ms();
        let view = PortalLinkView {
            id: PortalLinkId::generate(),
            tenant: input.tenant.clone(),
            read_only: capabilities == [PortalCapability::View],
            capabilities,
            created_by: actor.label.clone(),
            created_at: Timestamp(now),
            expires_at: Timestamp(now + lifetime.as_millis() as i64),
            revoked_at: None,
        };
        let names: Vec<&str> = view.capabilities.iter().map(|c| c.as_str()).collect();
        let stored = serde_json::to_string(&view.capabilities).unwrap_or_default();
        let audit = AuditEntry::new(
            actor,
            "create",
            "portal_link",
            view.id.as_str(),
            serde_json::json!({
                "tenant": view.tenant,
                "capabilities": names,
                "expires_at": view.expires_at.rfc3339(),
            }),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO portal_links (id, tenant, capabilities, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&view.id)
            .bind(&view.tenant)
            .bind(&stored)
            .bind(&view.created_by)
            .bind(view.created_at.0)
            .bind(view.expires_at.0)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        let url = format!(
            "{}/portal?link={}",
            self.public_url.trim_end_matches('/'),
            self.token(&view)
        );
        Ok(CreatedPortalLink {
            portal_link: view,
            url,
        })
    }

    /// One page of links, newest first, optionally of one tenant.
    pub async fn page(
        &self,
        actor: &Actor,
        tenant: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<PortalLinkView>> {
        actor.require(Role::Admin)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM portal_links WHERE ($1 IS NULL OR tenant = $1) \
             AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<LinkRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(tenant)
            .bind(cursor)
            .bind(limit + 1)
            .fetch_all(pool)
            .await)?;
        let items = rows
            .into_iter()
            .map(LinkRow::into_view)
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |l: &PortalLinkView| {
            l.id.to_string()
        }))
    }

    /// Revokes a link at once; revoking twice is harmless (and audited once).
    pub async fn revoke(&self, actor: &Actor, id: &PortalLinkId) -> AppResult<PortalLinkView> {
        actor.require(Role::Admin)?;
        let now = now_ms();
        let audit = AuditEntry::new(
            actor,
            "revoke",
            "portal_link",
            id.as_str(),
            serde_json::json!({ "revoked_at": Timestamp(now).rfc3339() }),
        );
        let sql = format!("SELECT {COLUMNS} FROM portal_links WHERE id = $1");
        let row: Option<LinkRow> = with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE portal_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                audit.insert_in(&mut tx).await?;
            }
            let row = sqlx::query_as(&sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, AppError>(row)
        })?;
        row.ok_or_else(|| AppError::NotFound(format!("portal link {id}")))?
            .into_view()
    }

    /// What `token` grants now, or why it grants nothing. The signature is checked (in
    /// constant time) before anything in the token is read, and the row must still say what
    /// the token says.
    pub async fn verify(&self, token: &str) -> Result<PortalGrant, PortalRefusal> {
        self.verify_at(token, now_ms()).await
    }

    /// [`Self::verify`] as of `now` (ms since the epoch).
    pub async fn verify_at(&self, token: &str, now: i64) -> Result<PortalGrant, PortalRefusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(PortalRefusal::Invalid);
        }
        let (payload, signature) = token
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|t| t.split_once('.'))
            .ok_or(PortalRefusal::Invalid)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| PortalRefusal::Invalid)?;
        self.mac(payload)
            .verify_slice(&signature)
            .map_err(|_| PortalRefusal::Invalid)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(PortalRefusal::Invalid)?;
        let sql = format!("SELECT {COLUMNS} FROM portal_links WHERE id = $1");
        let row: Option<LinkRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(&claims.link)
            .fetch_optional(pool)
            .await)
        .map_err(|e: sqlx::Error| {
            tracing::warn!(error = %e, "reading a portal link failed");
            PortalRefusal::Invalid
        })?;
        let link = row
            .ok_or(PortalRefusal::Invalid)?
            .into_view()
            .map_err(|_| PortalRefusal::Invalid)?;
        if link.tenant != claims.tenant
            || link.capabilities != claims.capabilities
            || link.expires_at.0 != claims.expires_at
        {
            return Err(PortalRefusal::Invalid);
        }
        if let Some(at) = link.revoked_at {
            return Err(PortalRefusal::Revoked(at.rfc3339()));
        }
        if link.expires_at.0 <= now {
            return Err(PortalRefusal::Expired(link.expires_at.rfc3339()));
        }
        Ok(PortalGrant {
            link: link.id,
            tenant: link.tenant,
            capabilities: link.capabilities,
            expires_at: link.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_is_always_granted_each_capability_once_in_order() {
        use PortalCapability::*;
        assert_eq!(granted(&[]), vec![View]);
        assert_eq!(
            granted(&[TestFire, View, Replay, TestFire]),
            vec![View, Replay, TestFire]
        );
    }

    #[test]
    fn a_request_is_checked_whole_before_anything_is_stored() {
        let bad = NewPortalLink {
            tenant: "acme corp".into(),
            capabilities: vec![PortalCapability::View; 6],
            expires_in: "31d".into(),
        };
        let Err(AppError::Validation { errors, .. }) = PortalLinks::check(&bad) else {
            panic!("accepted");
        };
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["tenant", "capabilities", "expires_in"]);
        for (expires_in, ok) in [("59m", false), ("1h", true), ("30d", true), ("2x", false)] {
            let input = NewPortalLink {
                tenant: "acme".into(),
                capabilities: vec![],
                expires_in: expires_in.into(),
            };
            assert_eq!(PortalLinks::check(&input).is_ok(), ok, "{expires_in}");
        }
    }
}
