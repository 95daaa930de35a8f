//! API keys for the REST API. The key is shown once; only its SHA-256 is stored (a key is
//! 256 random bits, so a fast hash is enough: there is nothing to brute-force).

use crate::backend::audit::AuditEntry;
use crate::backend::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::ids::ApiKeyId;
use crate::types::{ApiKeyScope, ApiKeyView, CreatedApiKey, Role};
use crate::with_db;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

pub const KEY_PREFIX: &str = "hlk_";
/// `last_used_at` is written at most this often per key, so busy keys do not turn every
/// request into a write.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    name: String,
    scope: String,
    prefix: String,
    created_by: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl ApiKeyRow {
    fn into_view(self) -> AppResult<ApiKeyView> {
        Ok(ApiKeyView {
            scope: self
                .scope
                .parse()
                .map_err(|e| AppError::internal("stored scope is invalid", e))?,
            id: ApiKeyId::from_db(self.id),
            name: self.name,
            prefix: self.prefix,
            created_by: self.created_by,
            created_at: Timestamp(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp),
            revoked_at: self.revoked_at.map(Timestamp),
        })
    }
}

const COLUMNS: &str = "id, name, scope, prefix, created_by, created_at, last_used_at, revoked_at";

pub struct ApiKeys {
    db: Db,
    last_used_written: Mutex<HashMap<String, i64>>,
    versions: std::sync::Arc<crate::backend::versions::Versions>,
    /// Valid keys by token hash, with the `keys_version` they were read at. A revocation
    /// bumps the version, so no node trusts a revoked key after it was committed.
    known: Mutex<HashMap<String, (i64, Actor)>>,
}

impl ApiKeys {
    pub fn new(db: Db) -> Self {
        let versions = std::sync::Arc::new(crate::backend::versions::Versions::new(db.clone()));
        Self::with_versions(db, versions)
    }

    pub fn with_versions(
        db: Db,
        versions: std::sync::Arc<crate::backend::versions::Versions>,
    ) -> Self {
        Self {
            db,
            last_used_written: Mutex::new(HashMap::new()),
            versions,
            known: Mutex::new(HashMap::new()),
        }
    }

    pub async fn create(
        &self,
        actor: &Actor,
        name: &str,
        scope: ApiKeyScope,
    ) -> AppResult<CreatedApiKey> {
        actor.require(Role::Admin)?;
        // At most 100 as sent (the document's maxLength), not empty once trimmed.
        let too_long = name.chars().count() > 100;
        let name = name.trim();
        if name.is_empty() || too_long {
            return Err(AppError::invalid("name", "must be 1 to 100 characters"));
        }
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let token = format!(
            "{KEY_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
        );
        let view = ApiKeyView {
            id: ApiKeyId::generate(),
            name: name.to_owned(),
            scope,
            prefix: token[..12].to_owned(),
            created_by: actor.label.clone(),
            created_at: Timestamp(now_ms()),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = AuditEntry::new(
            actor,
            "create",
            "api_key",
            view.id.as_str(),
            serde_json::json!({ "name": view.name, "scope": scope.as_str(), "prefix": view.prefix }),
        );
        let hash = digest(&token);
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO api_keys (id, name, scope, token_hash, prefix, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&view.id)
            .bind(&view.name)
            .bind(scope.as_str())
            .bind(&hash)
            .bind(&view.prefix)
            .bind(&view.created_by)
            .bind(view.created_at.0)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        Ok(CreatedApiKey {
            api_key: view,
            key: token,
        })
    }

    pub async fn list(&self, actor: &Actor) -> AppResult<Vec<ApiKeyView>> {
        actor.require(Role::Admin)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY revoked_at IS NOT NULL, created_at DESC"
        );
        let rows: Vec<ApiKeyRow> =
            with_db!(&self.db, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(ApiKeyRow::into_view).collect()
    }

    /// One page of the keys, newest first (`GET /api/v1/api-keys`); `cursor` is the
    /// `next_cursor` of the page before.
    pub async fn page(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<crate::types::Page<ApiKeyView>> {
        actor.require(Role::Admin)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<ApiKeyRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(cursor)
            .bind(limit + 1)
            .fetch_all(pool)
            .await)?;
        let items = rows
            .into_iter()
            .map(ApiKeyRow::into_view)
            .collect::<AppResult<Vec<_>>>()?;
        Ok(crate::types::Page::cut(
            items,
            limit as usize,
            |k: &ApiKeyView| k.id.to_string(),
        ))
    }

    /// Revokes a key at once; revoking twice is harmless.
    pub async fn revoke(&self, actor: &Actor, id: &ApiKeyId) -> AppResult<ApiKeyView> {
        let id = id.as_str();
        actor.require(Role::Admin)?;
        let now = now_ms();
        let audit = AuditEntry::new(
            actor,
            "revoke",
            "api_key",
            id,
            serde_json::json!({ "revoked_at": Timestamp(now).rfc3339() }),
        );
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
        let row: Option<ApiKeyRow> = with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                audit.insert_in(&mut tx).await?;
                sqlx::query(crate::backend::versions::BUMP_KEYS)
                    .execute(&mut *tx)
                    .await?;
            }
            let row = sqlx::query_as(&sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, AppError>(row)
        })?;
        row.ok_or_else(|| AppError::NotFound(format!("API key {id}")))?
            .into_view()
    }

    /// The actor behind a bearer token, or 401 for an unknown or revoked key.
    pub async fn authenticate(&self, token: &str) -> AppResult<Actor> {
        if !token.starts_with(KEY_PREFIX) {
            return Err(AppError::Unauthorized);
        }
        let hash = digest(token);
        let ticket = self.versions.ticket();
        let keys_version = self.versions.since(ticket).await?.keys;
        let known = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
            .filter(|(v, _)| *v == keys_version)
            .map(|(_, actor)| actor.clone());
        if let Some(actor) = known {
            if let Some(id) = &actor.id {
                self.touch(id).await;
            }
            return Ok(Actor {
                admitted: Some(ticket),
                ..actor
            });
        }
        let row: Option<(String, String, String, Option<i64>)> =
            with_db!(&self.db, |pool| sqlx::query_as(
                "SELECT id, name, scope, revoked_at FROM api_keys WHERE token_hash = $1"
            )
            .bind(&hash)
            .fetch_optional(pool)
            .await)?;
        let Some((id, name, scope, None)) = row else {
            return Err(AppError::Unauthorized);
        };
        let scope: ApiKeyScope = scope
            .parse()
            .map_err(|e| AppError::internal("stored scope is invalid", e))?;
        self.touch(&id).await;
        let actor = Actor::api_key(&id, &name, scope == ApiKeyScope::Admin);
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash, (keys_version, actor.clone()));
        Ok(Actor {
            admitted: Some(ticket),
            ..actor
        })
    }

    async fn touch(&self, id: &str) {
        let now = now_ms();
        {
            let mut written = self
                .last_used_written
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match written.get(id) {
                Some(at) if now - at < LAST_USED_GRANULARITY_MS => return,
                _ => {
                    written.insert(id.to_owned(), now);
                }
            }
        }
        // In the background: a locked database must not hold the request that only wanted
        // to be authenticated (it gets its own 503 from its own write, if it writes).
        let (db, id) = (self.db.clone(), id.to_owned());
        tokio::spawn(async move {
            let result = with_db!(&db, |pool| sqlx::query(
                "UPDATE api_keys SET last_used_at = $1 WHERE id = $2"
            )
            .bind(now)
            .bind(&id)
            .execute(pool)
            .await
            .map(|_| ()));
            if let Err(e) = result {
                tracing::warn!(error = %e, "recording an API key's last use failed");
            }
        });
    }
}
