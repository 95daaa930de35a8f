//! Signing secrets: `whsec_` + base64 of 32 random bytes, stored sealed, with a 24 h
//! overlap on rotation during which the previous one signs beside the new one.

use super::super::audit::AuditEntry;
use super::super::crypto::Secret;
use super::super::{Actor, now_ms};
use super::Endpoints;
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::Role;
use crate::types::endpoints::EndpointSecret;
use crate::types::ids::EndpointId;
use crate::with_db;
use base64::Engine;
use rand::RngCore;

pub const SECRET_PREFIX: &str = "whsec_";
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// What a signing secret is sealed for: its endpoint and creation time (the row's key).
pub(super) fn secret_context(endpoint_id: &str, created_at: i64) -> String {
    format!("endpoint_secret/{endpoint_id}/{created_at}")
}

/// Signing secrets, newest first, each with when it stops (none for the current one).
pub type SigningSecrets = Vec<(Secret, Option<i64>)>;

/// `(endpoint_id, sealed secret, expires_at, created_at)` as stored.
pub(super) type SecretRow = (String, String, Option<i64>, i64);

impl Endpoints {
    /// Opens stored secret rows, loudly: a row that does not open is an error naming it.
    pub(super) fn open_secret(&self, row: &SecretRow) -> AppResult<(Secret, Option<i64>)> {
        let (endpoint_id, sealed, expires_at, created_at) = row;
        self.keys
            .open(&secret_context(endpoint_id, *created_at), sealed)
            .map(|s| (s, *expires_at))
            .map_err(|e| {
                AppError::internal(
                    "a stored signing secret cannot be decrypted",
                    format!("endpoint_secrets row of endpoint {endpoint_id} created at {created_at}: {e}"),
                )
            })
    }

    /// The signing secret(s). Editors and admins only: a secret lets its holder forge events.
    pub async fn secret(&self, actor: &Actor, id: &EndpointId) -> AppResult<EndpointSecret> {
        let id = id.as_str();
        actor.require(Role::Editor)?;
        self.row(id).await?;
        let secrets = self.secrets_of(id).await?;
        let mut it = secrets.into_iter();
        let (secret, _) = it
            .next()
            .ok_or_else(|| AppError::internal("endpoint has no secret", id))?;
        let previous = it.next();
        Ok(EndpointSecret {
            secret: secret.expose().to_string(),
            previous_expires_at: previous.as_ref().and_then(|p| p.1).map(Timestamp),
            previous_secret: previous.map(|p| p.0.expose().to_string()),
        })
    }

    /// Secrets that sign right now, newest first, with their expiry (none for the current).
    pub(super) async fn secrets_of(&self, id: &str) -> AppResult<SigningSecrets> {
        let rows: Vec<SecretRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT endpoint_id, secret, expires_at, created_at FROM endpoint_secrets WHERE endpoint_id = $1 \
             AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC"
        )
        .bind(id)
        .bind(now_ms())
        .fetch_all(pool)
        .await
        })?;
        rows.iter().map(|r| self.open_secret(r)).collect()
    }

    /// A new secret; the old one keeps signing beside it for 24 hours.
    pub async fn rotate_secret(&self, actor: &Actor, id: &EndpointId) -> AppResult<EndpointSecret> {
        let typed = id;
        let id = id.as_str();
        actor.require(Role::Editor)?;
        self.row(id).await?;
        let now = now_ms();
        let sealed = self.keys.seal(&secret_context(id, now), &new_secret());
        let audit = AuditEntry::new(
            actor,
            "rotate",
            "endpoint",
            id,
            serde_json::json!({ "secret": "rotated" }),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            // Only the latest previous secret overlaps; older ones stop now.
            sqlx::query("UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND expires_at IS NOT NULL AND expires_at > $1")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE endpoint_secrets SET expires_at = $1 WHERE endpoint_id = $2 AND expires_at IS NULL")
                .bind(now + ROTATION_OVERLAP_MS)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO endpoint_secrets (endpoint_id, secret, created_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(&sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // The engine signs with the secrets kept in the catalog.
            super::super::versions::commit_change(tx, &audit).await?;
            Ok::<_, AppError>(())
        })?;
        self.secret(actor, typed).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes() {
        let s = new_secret();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(s.strip_prefix(SECRET_PREFIX).unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(s, new_secret());
    }
}
