//! A source's secret: revealed to editors (each reveal is audited), rotated (the current
//! secret stays accepted as the previous one while the partner switches), and the
//! rotation ended (only the new one accepted). Hookline makes up the new secret where the
//! scheme lets it; Stripe, Slack and Shopify issue their own, given here.

use super::Sources;
use crate::backend::Actor;
use crate::backend::audit::AuditEntry;
use crate::error::{AppError, AppResult};
use crate::types::Role;
use crate::types::ids::SourceId;
use crate::types::sources::{SourceSecret, SourceView, Verification};
use crate::with_db;
use base64::Engine;

/// A new secret in the scheme's own form: `whsec_` and 24 random bytes in base64 for
/// Standard Webhooks, 32 random bytes in hex otherwise.
fn made_up(v: &Verification) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    match v {
        Verification::StandardWebhooks { .. } => format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes[..24])
        ),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn plain(v: &Verification) -> AppResult<SourceSecret> {
    let mut v = v.clone();
    let mut secrets = v.secrets_mut().into_iter().map(|(_, s)| s.clone());
    let secret = secrets.next().ok_or_else(no_secret)?;
    Ok(SourceSecret {
        secret,
        previous: secrets.next(),
    })
}

impl Sources {
    /// The secret in plain, for an editor; the reveal is audited.
    pub async fn secret(&self, actor: &Actor, id: &SourceId) -> AppResult<SourceSecret> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let source = self.open(&row.id, &row.config)?;
        let shown = plain(&source.verification)?;
        let audit = AuditEntry::new(
            actor,
            "reveal_secret",
            "source",
            id.as_str(),
            serde_json::Value::Null,
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        Ok(shown)
    }

    /// `new` (or a made-up secret) becomes current; the current one stays accepted as
    /// the previous one until [`Self::retire_previous_secret`].
    pub async fn rotate_secret(
        &self,
        actor: &Actor,
        id: &SourceId,
        new: Option<String>,
    ) -> AppResult<SourceSecret> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let mut source = self.open(&row.id, &row.config)?;
        if matches!(
            source.verification,
            crate::types::sources::Verification::None
        ) {
            return Err(no_secret());
        }
        let new = match new.map(|s| s.trim().to_owned()) {
            Some(s) if s.is_empty() || s == crate::types::endpoints::MASK => {
                return Err(AppError::invalid("secret", "must be the new secret"));
            }
            Some(s) => s,
            None if source.verification.hookline_chooses_secret() => made_up(&source.verification),
            // The source's kind decides, not the request's shape: a conflict with its
            // current state, as with `none` above.
            None => {
                return Err(AppError::Conflict(format!(
                    "{} issues its own secrets (or keys): give the new one as `secret`",
                    source.verification.kind()
                )));
            }
        };
        if source.verification.rotate(new).is_none() {
            return Err(no_secret());
        }
        let saved = source.verification.clone();
        self.save(actor, &row.id, source, "rotate_secret").await?;
        plain(&saved)
    }

    /// Ends a rotation: the previous secret is no longer accepted.
    pub async fn retire_previous_secret(
        &self,
        actor: &Actor,
        id: &SourceId,
    ) -> AppResult<SourceView> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let mut source = self.open(&row.id, &row.config)?;
        source.verification.retire_previous();
        self.save(actor, &row.id, source, "retire_previous_secret")
            .await
    }
}

/// Reading or rotating the secret of a source whose verification is `none`.
fn no_secret() -> AppError {
    AppError::Conflict("this source's verification is none: it has no secret".into())
}
