//! Signing secrets: `whsec_` + base64 of 32 random bytes, stored sealed, with a 24 h
//! overlap on rotation during which the previous one signs beside the new one. A `v1a`
//! endpoint's 32 bytes are its ed25519 private key (RFC 8032 seed): shown as `whsk_`, with
//! the `whpk_` public key receivers verify with. Changing an endpoint's scheme replaces
//! its secret with no overlap, so a key a receiver knew as an HMAC secret never signs as
//! a private key.

use super::super::audit::AuditEntry;
use super::super::crypto::Secret;
use super::super::{Actor, now_ms};
use super::Endpoints;
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::Role;
use crate::types::endpoints::{EndpointSecret, SignatureScheme};
use crate::types::ids::EndpointId;
use crate::with_db;
use base64::Engine;
use rand::RngCore;

pub const SECRET_PREFIX: &str = "whsec_";
pub const PRIVATE_KEY_PREFIX: &str = "whsk_";
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
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

/// The raw 32 bytes of a stored secret (`whsec_` + base64).
pub fn secret_bytes(secret: &str) -> Option<[u8; 32]> {
    let b64 = secret.strip_prefix(SECRET_PREFIX)?;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()?
        .try_into()
        .ok()
}

/// A `v1a` endpoint's keys from its stored secret: (`whsk_…`, `whpk_…`).
pub fn ed25519_keys(secret: &str) -> Option<(String, String)> {
    let seed = secret_bytes(secret)?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    Some((
        format!("{PRIVATE_KEY_PREFIX}{}", b64(&seed)),
        format!("{PUBLIC_KEY_PREFIX}{}", b64(public.as_bytes())),
    ))
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
        let scheme = self
            .row_for(actor, Role::Editor, id)
            .await?
            .stored()?
            .signature_scheme;
        let secrets = self.secrets_of(id).await?;
        let mut it = secrets.into_iter();
        let (secret, _) = it
            .next()
            .ok_or_else(|| AppError::internal("endpoint has no secret", id))?;
        let previous = it.next();
        // v1a: the private key as whsk_, and its public key.
        let shown = |s: &Secret| match scheme {
            SignatureScheme::V1 => (s.expose().to_string(), None),
            SignatureScheme::V1a => match ed25519_keys(s.expose()) {
                Some((private, public)) => (private, Some(public)),
                None => (s.expose().to_string(), None),
            },
        };
        let (secret, public_key) = shown(&secret);
        let (previous_secret, previous_public_key) = previous.as_ref().map(|p| shown(&p.0)).unzip();
        Ok(EndpointSecret {
            secret,
            previous_expires_at: previous.as_ref().and_then(|p| p.1).map(Timestamp),
            previous_secret,
            public_key,
            previous_public_key: previous_public_key.flatten(),
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
        self.row_for(actor, Role::Editor, id).await?;
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

    #[test]
    fn a_v1a_secret_is_an_ed25519_seed_with_its_public_key() {
        // RFC 8032, test 1: the seed and its public key.
        let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let secret = format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        let (private, public) = ed25519_keys(&secret).unwrap();
        assert!(private.starts_with(PRIVATE_KEY_PREFIX));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(public.strip_prefix(PUBLIC_KEY_PREFIX).unwrap())
            .unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(ed25519_keys("whsec_AAAA"), None, "not 32 bytes");
    }
}
