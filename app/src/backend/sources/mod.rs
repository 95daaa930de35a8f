//! Sources: inbound webhooks. The service that owns the `sources` and `inbound_requests`
//! tables: settings (validated, secrets sealed under the master key, masked in answers),
//! and the inbound log. A request posted to a source's URL is verified (`verify`), turned
//! into an event and published through the normal pipeline (`receive`).

pub mod address;
mod jwt;
pub mod log;
mod mapping;
mod preview;
mod rate;
pub mod receive;
mod replay;
mod sample;
mod secret;
mod validate;
pub mod verify;
pub mod xml;

pub use address::client_address;

use super::audit::AuditEntry;
use super::crypto::Keyring;
use super::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::endpoints::MASK;
use crate::types::ids::SourceId;
use crate::types::sources::{SourceInput, Verification};
use crate::types::{Page, Role};
use crate::with_db;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct Sources {
    db: Db,
    keys: Arc<Keyring>,
    /// `--public-url`: source URLs are absolute when it is set.
    pub public_url: Option<String>,
    /// `--trusted-proxy`: whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<crate::backend::cidr::Cidr>,
    /// `--max-body-bytes`: a source's body limit unless it sets its own.
    pub default_body_limit: usize,
    /// Each source's `rate_limit_per_second`, counted in this process.
    rates: Arc<rate::Rates>,
    /// Refused requests are logged in a flood: they queue with the other busy writers.
    write_gate: crate::backend::write_gate::WriteGate,
}

#[derive(sqlx::FromRow)]
struct SourceRow {
    id: String,
    config: String,
    created_at: i64,
    updated_at: i64,
}

/// The settings as stored, secrets still sealed: enough for answers, limits and masking.
fn sealed(id: &str, config: &str) -> AppResult<SourceInput> {
    serde_json::from_str(config).map_err(|e| {
        AppError::internal(
            "stored source settings are unreadable",
            format!("{id}: {e}"),
        )
    })
}

fn context(id: &str, path: &str) -> String {
    format!("source/{id}/verification.{path}")
}

impl Sources {
    pub fn new(
        db: Db,
        keys: Arc<Keyring>,
        write_gate: crate::backend::write_gate::WriteGate,
    ) -> Self {
        Self {
            db,
            keys,
            public_url: None,
            trusted_proxies: Vec::new(),
            default_body_limit: 1024 * 1024,
            rates: Arc::new(rate::Rates::default()),
            write_gate,
        }
    }

    fn url(&self, id: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{}/in/{id}", base.trim_end_matches('/')),
            None => format!("/in/{id}"),
        }
    }

    fn seal(&self, id: &str, s: &SourceInput) -> String {
        let mut sealed = s.clone();
        for (path, value) in sealed.verification.secrets_mut() {
            *value = self.keys.seal(&context(id, path), value);
        }
        serde_json::to_string(&sealed).expect("settings always encode")
    }

    /// The stored settings with secrets opened: for verifying, server-side only.
    fn open(&self, id: &str, config: &str) -> AppResult<SourceInput> {
        let mut s = sealed(id, config)?;
        for (path, value) in s.verification.secrets_mut() {
            let plain = self.keys.open(&context(id, path), value).map_err(|e| {
                AppError::internal(
                    "a stored source secret cannot be decrypted",
                    format!("source {id}, {path}: {e}"),
                )
            })?;
            *value = plain.expose().to_string();
        }
        Ok(s)
    }

    /// An answer: the settings as stored, secrets masked (none is decrypted for it).
    fn view(&self, row: SourceRow) -> AppResult<crate::types::sources::SourceView> {
        let mut shown = sealed(&row.id, &row.config)?;
        shown.verification = shown.verification.masked();
        Ok(crate::types::sources::SourceView {
            url: self.url(&row.id),
            warning: matches!(shown.verification, Verification::None).then(|| {
                "verification is none: anyone who knows the URL can post events".to_string()
            }),
            id: SourceId::from_db(row.id),
            settings: shown,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        })
    }

    async fn checked(&self, mut s: SourceInput) -> AppResult<SourceInput> {
        s.name = s.name.trim().to_owned();
        let types = super::catalog::event_types::EventTypes::new(self.db.clone())
            .all()
            .await?;
        let errors = validate::validate(&s, &|n| types.iter().any(|t| t.name == n));
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(AppError::invalid_many(errors))
        }
    }

    pub async fn create(
        &self,
        actor: &Actor,
        input: SourceInput,
    ) -> AppResult<crate::types::sources::SourceView> {
        actor.require(Role::Editor)?;
        if input.verification.secrets_mut_count() > 0 && input.verification.has_mask() {
            return Err(AppError::invalid(
                "verification",
                "a new source needs its secrets, not ***",
            ));
        }
        let s = self.checked(input).await?;
        let id = SourceId::generate();
        let now = now_ms();
        let config = self.seal(id.as_str(), &s);
        let mut shown = s.clone();
        shown.verification = s.verification.masked();
        let audit = AuditEntry::new(
            actor,
            "create",
            "source",
            id.as_str(),
            serde_json::to_value(&shown).unwrap_or_default(),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO sources (id, name, config, tenant, enabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(id.as_str())
            .bind(&s.name)
            .bind(&config)
            .bind(&s.tenant)
            .bind(s.enabled)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.get(actor, &id).await
    }

    async fn row(&self, id: &str) -> AppResult<SourceRow> {
        let row: Option<SourceRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT id, config, created_at, updated_at FROM sources WHERE id = $1 AND deleted_at IS NULL"
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        })?;
        row.ok_or_else(|| AppError::NotFound(format!("source {id}")))
    }

    pub async fn get(
        &self,
        actor: &Actor,
        id: &SourceId,
    ) -> AppResult<crate::types::sources::SourceView> {
        actor.require(Role::Viewer)?;
        self.view(self.row(id.as_str()).await?)
    }

    pub async fn list(
        &self,
        actor: &Actor,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<crate::types::sources::SourceView>> {
        actor.require(Role::Viewer)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let rows: Vec<SourceRow> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT id, config, created_at, updated_at FROM sources WHERE deleted_at IS NULL \
             AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"
        )
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(pool)
        .await)?;
        let items = rows
            .into_iter()
            .map(|r| self.view(r))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Page::cut(items, limit as usize, |s| s.id.to_string()))
    }

    /// The given top-level fields replace the current ones. A secret sent back as `***`
    /// keeps its stored value (when the scheme is unchanged).
    pub async fn patch(
        &self,
        actor: &Actor,
        id: &SourceId,
        patch: Value,
    ) -> AppResult<crate::types::sources::SourceView> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let current = self.open(&row.id, &row.config)?;
        let mut merged =
            serde_json::to_value(&current).map_err(|e| AppError::internal("encoding source", e))?;
        // Top-level keys replace (like endpoints): `verification` is sent whole.
        if let (Value::Object(map), Value::Object(patch)) = (&mut merged, patch) {
            map.extend(patch);
        }
        let mut next: SourceInput = serde_path_to_error::deserialize(merged).map_err(|e| {
            let path = e.path().to_string();
            AppError::invalid(
                if path == "." { String::new() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        if next.verification.kind() == current.verification.kind() {
            let mut old = current.verification.clone();
            let old: Vec<(&str, String)> = old
                .secrets_mut()
                .into_iter()
                .map(|(p, v)| (p, v.clone()))
                .collect();
            for (path, value) in next.verification.secrets_mut() {
                if value == MASK
                    && let Some((_, stored)) = old.iter().find(|(p, _)| *p == path)
                {
                    *value = stored.clone();
                }
            }
        }
        if next.verification.has_mask() {
            return Err(AppError::invalid(
                "verification",
                "*** keeps a stored secret only for the same scheme; send the new secret",
            ));
        }
        self.save(actor, &row.id, next, "update").await
    }

    /// Checks and stores new settings for source `id`, with an audit entry for `action`.
    async fn save(
        &self,
        actor: &Actor,
        id: &str,
        next: SourceInput,
        action: &'static str,
    ) -> AppResult<crate::types::sources::SourceView> {
        let next = self.checked(next).await?;
        let config = self.seal(id, &next);
        let now = now_ms();
        let mut shown = next.clone();
        shown.verification = next.verification.masked();
        let audit = AuditEntry::new(
            actor,
            action,
            "source",
            id,
            serde_json::to_value(&shown).unwrap_or_default(),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE sources SET name = $1, config = $2, tenant = $3, enabled = $4, updated_at = $5 \
                 WHERE id = $6 AND deleted_at IS NULL",
            )
            .bind(&next.name)
            .bind(&config)
            .bind(&next.tenant)
            .bind(next.enabled)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.view(self.row(id).await?)
    }

    /// Deletes the source: its URL answers 404 from now on; its log stays until retention.
    pub async fn delete(&self, actor: &Actor, id: &SourceId) -> AppResult<()> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let audit = AuditEntry::new(actor, "delete", "source", &row.id, Value::Null);
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE sources SET deleted_at = $1, enabled = $2 WHERE id = $3")
                .bind(now_ms())
                .bind(false)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.rates.forget(&row.id);
        Ok(())
    }
}

impl Verification {
    fn secrets_mut_count(&self) -> usize {
        self.clone().secrets_mut().len()
    }

    fn has_mask(&self) -> bool {
        self.clone().secrets_mut().iter().any(|(_, v)| **v == MASK)
    }
}
