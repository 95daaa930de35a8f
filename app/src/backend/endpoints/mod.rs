//! Endpoints: where events go. The service that owns the `endpoints` and
//! `endpoint_secrets` tables: validation (`validate`), credentials across edits
//! (`credentials`), signing secrets (`secrets`), sealing at rest (`at_rest`), the stored
//! form (`stored`), and, from the engine's transaction, health (`health`) and disabling
//! (`disable`); templates (`template`) and trying them (`preview`). PATCH is a
//! merge onto the stored settings; deletion is soft and cancels pending deliveries
//! visibly instead of dropping them.

mod at_rest;
pub mod credentials;
mod disable;
pub mod health;
pub mod jwt;
pub mod preview;
pub mod response_rules;
pub mod secrets;
pub mod stored;
pub mod template;
pub mod tls;
pub mod validate;

pub use at_rest::{AtRestError, Resealed};
pub use credentials::keep_stored_credentials;
pub use disable::disable_in;
pub use secrets::{ROTATION_OVERLAP_MS, SECRET_PREFIX, SigningSecrets, new_secret};
pub use validate::validate;

use super::audit::{AuditEntry, diff};
use super::crypto::{Keyring, Secret};
use super::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
pub use crate::types::endpoints::subscribes;
use crate::types::endpoints::{EndpointInput, EndpointView};
use crate::types::ids::EndpointId;
use crate::types::{Page, Role};
use crate::with_db;
use serde_json::Value;
use std::sync::Arc;
use stored::StoredConfig;

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    config: String,
    disabled_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl EndpointRow {
    /// The settings as stored, credentials sealed.
    fn stored(&self) -> AppResult<StoredConfig> {
        StoredConfig::parse(&self.config).map_err(|e| stored::unreadable(&self.id, e))
    }

    fn into_view(self) -> AppResult<EndpointView> {
        let settings = self.stored()?.masked();
        Ok(EndpointView {
            id: EndpointId::from_db(self.id),
            settings,
            disabled_reason: self.disabled_reason,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

/// An endpoint with its real credentials, for the delivery engine and the router. Its
/// `Debug` masks them; it does not serialise.
#[derive(Clone)]
pub struct StoredEndpoint {
    pub id: String,
    pub settings: EndpointInput,
    /// Signing secrets, newest first, with when each stops (a rotated-out one keeps
    /// signing until then). Kept with the catalog: a rotation bumps its version.
    pub secrets: SigningSecrets,
}

impl std::fmt::Debug for StoredEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEndpoint")
            .field("id", &self.id)
            .field("settings", &self.settings.masked())
            .field("secrets", &self.secrets)
            .finish()
    }
}

impl StoredEndpoint {
    /// The secrets that sign a request sent at `now`.
    pub fn signing_secrets(&self, now: i64) -> Vec<Secret> {
        self.secrets
            .iter()
            .filter(|(_, until)| until.is_none_or(|u| u > now))
            .map(|(s, _)| s.clone())
            .collect()
    }
}

const COLUMNS: &str = "id, config, disabled_reason, created_at, updated_at";

#[derive(Clone, Debug)]
pub struct Endpoints {
    db: Db,
    /// Seals credentials before they are stored and opens them for delivery.
    keys: Arc<Keyring>,
    /// The rendered-body cap a template is checked against on save.
    pub limits: super::limits::Limits,
    /// `--https-only`: every endpoint's URLs must be https.
    pub https_only: bool,
}

/// Settings as audited: credentials masked.
fn audit_view(settings: &EndpointInput) -> Value {
    serde_json::to_value(settings.masked()).unwrap_or_default()
}

impl Endpoints {
    pub fn new(db: Db, keys: Arc<Keyring>) -> Self {
        Self {
            db,
            keys,
            limits: super::limits::Limits::default(),
            https_only: false,
        }
    }

    async fn known_event_types(&self) -> AppResult<std::collections::HashSet<String>> {
        let names: Vec<String> = with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT name FROM event_types"
        )
        .fetch_all(pool)
        .await)?;
        Ok(names.into_iter().collect())
    }

    async fn checked(&self, mut input: EndpointInput) -> AppResult<EndpointInput> {
        input.url = input.url.trim().to_owned();
        let known = self.known_event_types().await?;
        let mut errors = validate(&input, &|n| known.contains(n));
        errors.extend(tls::check_https_only(&input, self.https_only));
        // Stored trimmed; judged as sent (see `validate`).
        input.name = input.name.trim().to_owned();
        if errors.is_empty()
            && let Some(t) = input.template.as_ref().filter(|t| !t.is_null())
        {
            let max = self.limits.max_rendered_bytes;
            errors
                .extend(preview::template_over_limit(&self.db, t, &input.event_types, max).await?);
        }
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(AppError::invalid_many(errors))
        }
    }

    pub async fn create(&self, actor: &Actor, input: EndpointInput) -> AppResult<EndpointView> {
        let tenant = input.tenant.clone();
        actor.require_on(Role::Editor, tenant.as_deref(), || {
            format!("tenant {}", tenant.as_deref().unwrap_or("(every tenant)"))
        })?;
        let settings = self.checked(input).await?;
        let id = super::ids::new_id("ep");
        let now = now_ms();
        let secret = self
            .keys
            .seal(&secrets::secret_context(&id, now), &new_secret());
        let config = self.seal_config(&id, &settings)?;
        let audit = AuditEntry::new(actor, "create", "endpoint", &id, audit_view(&settings));
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO endpoints (id, name, url, enabled, tenant, config, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(&id)
            .bind(&settings.name)
            .bind(&settings.url)
            .bind(settings.enabled)
            .bind(&settings.tenant)
            .bind(&config)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(&secret)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            super::versions::commit_change(tx, &audit).await?;
            Ok::<_, AppError>(())
        })?;
        Ok(EndpointView {
            id: EndpointId::from_db(id),
            settings: settings.masked(),
            disabled_reason: None,
            created_at: Timestamp(now),
            updated_at: Timestamp(now),
        })
    }

    pub async fn list(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<EndpointView>> {
        let tenant = actor.require_listing(Role::Viewer)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM endpoints WHERE deleted_at IS NULL AND ($1 IS NULL OR id > $1) \
             AND ($3 IS NULL OR tenant = $3) ORDER BY id LIMIT $2"
        );
        let rows: Vec<EndpointRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(cursor)
            .bind(limit + 1)
            .bind(tenant)
            .fetch_all(pool)
            .await)?;
        let items = rows
            .into_iter()
            .map(EndpointRow::into_view)
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |e: &EndpointView| {
            e.id.to_string()
        }))
    }

    async fn row(&self, id: &str) -> AppResult<EndpointRow> {
        let sql = format!("SELECT {COLUMNS} FROM endpoints WHERE id = $1 AND deleted_at IS NULL");
        let row: Option<EndpointRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or_else(|| AppError::NotFound(format!("endpoint {id}")))
    }

    /// The live endpoint `id`, if `actor` may act on it with `needed` (a portal link: only
    /// on its tenant's; any other is not found).
    async fn row_for(&self, actor: &Actor, needed: Role, id: &str) -> AppResult<EndpointRow> {
        actor.require_ahead(needed)?;
        let row = self.row(id).await?;
        let tenant = row.stored()?.tenant;
        actor.require_on(needed, tenant.as_deref(), || format!("endpoint {id}"))?;
        Ok(row)
    }

    pub async fn get(&self, actor: &Actor, id: &EndpointId) -> AppResult<EndpointView> {
        self.row_for(actor, Role::Viewer, id.as_str())
            .await?
            .into_view()
    }

    /// One live endpoint (enabled or not) with its credentials: for delivery only.
    pub async fn stored(&self, id: &str) -> AppResult<StoredEndpoint> {
        let row = self.row(id).await?;
        Ok(StoredEndpoint {
            settings: self.open_config(&row.id, &row.config)?,
            secrets: self.secrets_of(id).await?,
            id: row.id,
        })
    }

    /// Every live endpoint with its credentials: for routing and delivery only.
    pub async fn all_enabled(&self) -> AppResult<Vec<StoredEndpoint>> {
        let sql =
            format!("SELECT {COLUMNS} FROM endpoints WHERE deleted_at IS NULL AND enabled = $1");
        let rows: Vec<EndpointRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(true)
            .fetch_all(pool)
            .await)?;
        let mut secrets: std::collections::HashMap<String, SigningSecrets> =
            std::collections::HashMap::new();
        let all: Vec<secrets::SecretRow> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT endpoint_id, secret, expires_at, created_at FROM endpoint_secrets \
             WHERE expires_at IS NULL OR expires_at > $1 ORDER BY created_at DESC"
        )
        .bind(now_ms())
        .fetch_all(pool)
        .await)?;
        for row in &all {
            let opened = self.open_secret(row)?;
            secrets.entry(row.0.clone()).or_default().push(opened);
        }
        rows.into_iter()
            .map(|r| {
                Ok(StoredEndpoint {
                    settings: self.open_config(&r.id, &r.config)?,
                    secrets: secrets.remove(&r.id).unwrap_or_default(),
                    id: r.id,
                })
            })
            .collect()
    }

    /// Merges `patch` (a JSON object of fields to replace; `null` clears an optional one)
    /// onto the current settings and validates the result as a whole. The merge starts
    /// from the masked settings, so a credential not sent, or sent back as `***`, keeps its
    /// stored value, unless the endpoint moves to another origin: then a 422 names each
    /// credential that must be sent again.
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &EndpointId,
        patch: Value,
    ) -> AppResult<EndpointView> {
        let id = id.as_str();
        let row = self.row_for(actor, Role::Editor, id).await?;
        let Value::Object(patch) = patch else {
            return Err(AppError::invalid(
                "",
                "must be a JSON object of the fields to change",
            ));
        };
        let old = self.open_config(&row.id, &row.config)?;
        let mut merged = serde_json::to_value(old.masked())
            .map_err(|e| AppError::internal("encoding endpoint", e))?;
        if let Value::Object(map) = &mut merged {
            for (k, v) in patch {
                map.insert(k, v);
            }
        }
        let mut new: EndpointInput = serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            AppError::invalid(
                if path == "." { String::new() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        let kept = keep_stored_credentials(&mut new, &old);
        let mut refused = credentials::kept_across_origins(&old, &new, &kept);
        refused.extend(credentials::unmarked_but_masked(&old, &new));
        if !refused.is_empty() {
            return Err(AppError::invalid_many(refused));
        }
        if actor.tenant.is_some() && new.tenant != old.tenant {
            return Err(AppError::invalid(
                "tenant",
                "a portal link keeps its endpoints in its own tenant",
            ));
        }
        let new = self.checked(new).await?;
        let now = now_ms();
        let config = self.seal_config(id, &new)?;
        let mut changes = diff(&audit_view(&old), &audit_view(&new));
        // A new scheme gets a new secret at once: no key signs under both.
        let replaced = (old.signature_scheme != new.signature_scheme).then(|| {
            self.keys
                .seal(&secrets::secret_context(id, now), &new_secret())
        });
        if let Value::Object(map) = &mut changes {
            map.extend(credentials::credential_changes(&old, &new));
            if replaced.is_some() {
                map.insert("secret".into(), Value::from("replaced"));
            }
        }
        let audit = AuditEntry::new(actor, "update", "endpoint", id, changes);
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE endpoints SET name = $1, url = $2, enabled = $3, tenant = $4, config = $5, updated_at = $6, \
                 disabled_reason = CASE WHEN $3 THEN NULL ELSE disabled_reason END \
                 WHERE id = $7 AND deleted_at IS NULL",
            )
            .bind(&new.name)
            .bind(&new.url)
            .bind(new.enabled)
            .bind(&new.tenant)
            .bind(&config)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(AppError::NotFound(format!("endpoint {id}")));
            }
            if let Some(sealed) = &replaced {
                sqlx::query("UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(sealed)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            super::versions::commit_change(tx, &audit).await?;
            Ok::<_, AppError>(())
        })?;
        self.row(id).await?.into_view()
    }

    /// Replaces all settings (the dashboard's editor). A credential left empty, or sent
    /// back masked, keeps the stored one under the same rules as PATCH.
    pub async fn replace(
        &self,
        actor: &Actor,
        id: &EndpointId,
        input: EndpointInput,
    ) -> AppResult<EndpointView> {
        let value =
            serde_json::to_value(&input).map_err(|e| AppError::internal("encoding endpoint", e))?;
        self.patch(actor, id, value).await
    }

    /// Deletes the endpoint; its undelivered deliveries become `cancelled`, visibly.
    pub async fn delete(&self, actor: &Actor, id: &EndpointId) -> AppResult<()> {
        let id = id.as_str();
        let old = self
            .row_for(actor, Role::Editor, id)
            .await?
            .stored()?
            .masked();
        let now = now_ms();
        let audit = AuditEntry::new(actor, "delete", "endpoint", id, audit_view(&old));
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE endpoints SET deleted_at = $1, enabled = $2 WHERE id = $3 AND deleted_at IS NULL")
                .bind(now)
                .bind(false)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(AppError::NotFound(format!("endpoint {id}")));
            }
            sqlx::query(
                "UPDATE deliveries SET status = 'cancelled', last_error = 'endpoint deleted', next_attempt_at = NULL, \
                 updated_at = $1, completed_at = $1 WHERE endpoint_id = $2 AND status IN ('pending', 'failed')",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            super::versions::commit_change(tx, &audit).await?;
            Ok::<_, AppError>(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::endpoints::EndpointAuth;

    #[test]
    fn wildcards_match_whole_segments() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(subscribes(&p(&["*"]), "order.created"));
        assert!(subscribes(&p(&["order.*"]), "order.created"));
        assert!(subscribes(&p(&["order.*"]), "order.line.added"));
        assert!(!subscribes(&p(&["order.*"]), "orders.created"));
        assert!(!subscribes(&p(&["order.*"]), "order"));
        assert!(subscribes(
            &p(&["stock.low", "order.created"]),
            "order.created"
        ));
        assert!(!subscribes(&p(&["order.created"]), "order.created.v2"));
    }

    #[test]
    fn credentials_are_masked() {
        let auth = EndpointAuth::Oauth2 {
            token_url: "https://id.example/token".into(),
            client_id: "c".into(),
            client_secret: "s3cret".into(),
            scope: None,
        };
        let shown = serde_json::to_string(&auth.masked()).unwrap();
        assert!(
            !shown.contains("s3cret") && shown.contains("client_id"),
            "{shown}"
        );
    }

    #[test]
    fn secret_headers_are_masked_by_mark_and_by_name() {
        let settings: EndpointInput = serde_json::from_value(serde_json::json!({
            "name": "n", "url": "https://x.example/",
            "headers": {"X-Api-Key": "s3cret", "X-Shard": "s3cret-too", "Cookie": "c=1",
                        "X-Session-Token": "t", "X-Team": "ops"},
            "secret_headers": ["x-shard"]
        }))
        .unwrap();
        let shown = serde_json::to_value(settings.masked()).unwrap();
        for name in ["X-Api-Key", "X-Shard", "Cookie", "X-Session-Token"] {
            assert_eq!(shown["headers"][name], "***", "{name}");
        }
        assert_eq!(shown["headers"]["X-Team"], "ops");
        assert!(!shown.to_string().contains("s3cret"), "{shown}");
    }
}
