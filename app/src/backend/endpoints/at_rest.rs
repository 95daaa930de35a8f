//! Endpoint credentials at rest: sealing a settings document before it is stored and
//! opening it for delivery; at start, sealing what older versions stored in plaintext; and
//! re-sealing everything under a new master key (`hookline secrets rotate-key`).
//!
//! A one-row table `secret_key_check` holds a value sealed under the key that sealed the
//! database, so a start with another key stops at once with both key ids, instead of
//! failing later on the first delivery.

use super::super::crypto::{Keyring, MasterKey, is_sealed};
use super::Endpoints;
use super::secrets::{SecretRow, secret_context};
use super::stored::{StoredConfig, unreadable};
use crate::error::{AppError, AppResult};
use crate::types::endpoints::EndpointInput;
use crate::with_db;

const KEY_CHECK_CONTEXT: &str = "secret_key_check";
const KEY_CHECK_TEXT: &str = "hookline";

/// What a credential is sealed for: its endpoint and its path in the settings.
fn credential_context(endpoint_id: &str, path: &str) -> String {
    format!("endpoint/{endpoint_id}/{path}")
}

#[derive(Debug, thiserror::Error)]
pub enum AtRestError {
    #[error(
        "the database's secrets are sealed with master key {stored}, but the configured master key is {configured}: start with the key the database was encrypted with (HOOKLINE_MASTER_KEY or --master-key-file)"
    )]
    WrongKey { stored: String, configured: String },
    #[error("cannot decrypt {what}: {why}")]
    Unreadable { what: String, why: String },
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// How many values a pass sealed (plaintext found, or everything on a rotation).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub credentials: u64,
    pub signing_secrets: u64,
}

/// A sealed value opened with `check`, then either left alone or (on a rotation, or when
/// it was plaintext) sealed again with `seal`. `None`: unchanged.
fn reseal(
    check: &Keyring,
    seal: &Keyring,
    rotate: bool,
    context: &str,
    stored: &str,
    what: impl Fn() -> String,
) -> Result<Option<String>, AtRestError> {
    if !is_sealed(stored) {
        return Ok(Some(seal.seal(context, stored)));
    }
    let plain = check
        .open(context, stored)
        .map_err(|e| AtRestError::Unreadable {
            what: what(),
            why: e.to_string(),
        })?;
    Ok(rotate.then(|| seal.seal(context, plain.expose())))
}

impl Endpoints {
    /// The settings document as stored: every credential sealed for this endpoint.
    pub(super) fn seal_config(&self, id: &str, settings: &EndpointInput) -> AppResult<String> {
        let stored = StoredConfig::seal(settings, |path, value| {
            self.keys.seal(&credential_context(id, path), value)
        });
        Ok(stored.to_text())
    }

    /// The stored settings with credentials opened: for delivery and edits, server-side only.
    /// A credential that does not open is an error naming the endpoint and field.
    pub(super) fn open_config(&self, id: &str, config: &str) -> AppResult<EndpointInput> {
        let stored = StoredConfig::parse(config).map_err(|e| unreadable(id, e))?;
        stored.open(|path, value| {
            let plain = self
                .keys
                .open(&credential_context(id, path), value)
                .map_err(|e| {
                    AppError::internal(
                        "a stored endpoint credential cannot be decrypted",
                        format!("endpoint {id}, {path}: {e}"),
                    )
                })?;
            Ok(plain.expose().to_string())
        })
    }

    /// At start: seals every credential and signing secret still stored in plaintext, and
    /// checks that the rest opens with the configured key. Idempotent, one transaction.
    pub async fn seal_plaintext_at_rest(&self) -> Result<Resealed, AtRestError> {
        self.rewrite_at_rest(&self.keys, false).await
    }

    /// Re-seals every credential and signing secret under `new`, in one transaction; the
    /// current key opens them meanwhile. Servers still running with the old key fail
    /// loudly on their next reload until they restart with the new one.
    pub async fn rotate_master_key(&self, new: MasterKey) -> Result<Resealed, AtRestError> {
        self.rewrite_at_rest(&Keyring::new(new), true).await
    }

    async fn rewrite_at_rest(&self, seal: &Keyring, rotate: bool) -> Result<Resealed, AtRestError> {
        let check = &*self.keys;
        let mut count = Resealed::default();
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let stored_check: Option<(String, String)> =
                sqlx::query_as("SELECT key_id, sealed FROM secret_key_check WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((key_id, sealed)) = &stored_check
                && check.open(KEY_CHECK_CONTEXT, sealed).is_err()
            {
                return Err(AtRestError::WrongKey {
                    stored: key_id.clone(),
                    configured: check.current_id().to_string(),
                });
            }
            let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, config FROM endpoints")
                .fetch_all(&mut *tx)
                .await?;
            for (id, config) in rows {
                let mut stored =
                    StoredConfig::parse(&config).map_err(|e| AtRestError::Unreadable {
                        what: format!("the settings of endpoint {id}"),
                        why: e.to_string(),
                    })?;
                let changed = stored.reseal_each(|path, value| {
                    let context = credential_context(&id, path);
                    let what = || format!("{path} of endpoint {id}");
                    reseal(check, seal, rotate, &context, value, what)
                })?;
                count.credentials += changed;
                if changed > 0 {
                    let sealed = stored.to_text();
                    // Guarded by the old text: another node sealing at the same time wins.
                    sqlx::query("UPDATE endpoints SET config = $1 WHERE id = $2 AND config = $3")
                        .bind(sealed)
                        .bind(&id)
                        .bind(&config)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let secrets: Vec<SecretRow> = sqlx::query_as(
                "SELECT endpoint_id, secret, expires_at, created_at FROM endpoint_secrets",
            )
            .fetch_all(&mut *tx)
            .await?;
            for (endpoint_id, secret, _, created_at) in secrets {
                let context = secret_context(&endpoint_id, created_at);
                let what = || {
                    format!("the signing secret of endpoint {endpoint_id} created at {created_at}")
                };
                if let Some(new) = reseal(check, seal, rotate, &context, &secret, what)? {
                    sqlx::query(
                        "UPDATE endpoint_secrets SET secret = $1 WHERE endpoint_id = $2 AND created_at = $3 AND secret = $4",
                    )
                    .bind(new)
                    .bind(&endpoint_id)
                    .bind(created_at)
                    .bind(&secret)
                    .execute(&mut *tx)
                    .await?;
                    count.signing_secrets += 1;
                }
            }
            if rotate || stored_check.is_none() {
                // On a first start, a node that got here first has already recorded its key.
                let on_conflict = if rotate {
                    "DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at"
                } else {
                    "DO NOTHING"
                };
                sqlx::query(&format!(
                    "INSERT INTO secret_key_check (id, key_id, sealed, updated_at) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) {on_conflict}"
                ))
                .bind(seal.current_id())
                .bind(seal.seal(KEY_CHECK_CONTEXT, KEY_CHECK_TEXT))
                .bind(super::super::now_ms())
                .execute(&mut *tx)
                .await?;
            }
            if count != Resealed::default() {
                sqlx::query(super::super::versions::BUMP_CATALOG)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, AtRestError>(())
        })?;
        Ok(count)
    }
}
