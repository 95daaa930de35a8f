//! Which master key this process uses: `HOOKLINE_MASTER_KEY`, else `--master-key-file`,
//! else (SQLite only) `hookline.key` beside the database file, created on first run. On
//! Postgres there is no default: every node must be given the same key.

use crate::config::MasterKeyArgs;
use anyhow::{Context, bail};
use app::backend::crypto::{Keyring, MasterKey};
use std::path::{Path, PathBuf};

/// The key file used on SQLite when none is given: beside the database file.
pub fn default_key_file(db_url: &str) -> Option<PathBuf> {
    let path = db_url.strip_prefix("sqlite://")?;
    let file = Path::new(path.split('?').next().unwrap_or(path));
    Some(
        file.parent()
            .map(|dir| dir.join("hookline.key"))
            .unwrap_or_else(|| PathBuf::from("hookline.key")),
    )
}

/// The configured master key. `create`: a missing key file gets a new key (serving);
/// without it a missing file is an error (rotating needs the key the data is sealed with).
pub fn master_key(args: &MasterKeyArgs, db_url: &str, create: bool) -> anyhow::Result<MasterKey> {
    let path = match (&args.master_key, &args.master_key_file) {
        (Some(_), Some(_)) => bail!(
            "both HOOKLINE_MASTER_KEY and --master-key-file (HOOKLINE_MASTER_KEY_FILE) are set: give one"
        ),
        (Some(text), None) => return Ok(MasterKey::parse(&text.0, "HOOKLINE_MASTER_KEY")?),
        (None, Some(path)) => path.clone(),
        (None, None) => default_key_file(db_url).with_context(|| {
            "on Postgres the master key must be given, the same on every node: set \
             HOOKLINE_MASTER_KEY (32 bytes as base64 or hex, e.g. from `openssl rand -base64 32`) \
             or --master-key-file PATH"
        })?,
    };
    if !create {
        return Ok(MasterKey::read_file(&path)?);
    }
    let (key, created) = MasterKey::read_or_create_file(&path)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            key_id = key.id(),
            "created a new master key file; back it up: without it the stored signing secrets and endpoint credentials cannot be read"
        );
    }
    Ok(key)
}

pub fn keyring(args: &MasterKeyArgs, db_url: &str) -> anyhow::Result<std::sync::Arc<Keyring>> {
    Ok(std::sync::Arc::new(Keyring::new(master_key(
        args, db_url, true,
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_file_sits_beside_the_sqlite_file_and_postgres_has_none() {
        assert_eq!(
            default_key_file("sqlite://data/hookline.db?mode=rwc"),
            Some(PathBuf::from("data/hookline.key"))
        );
        assert_eq!(
            default_key_file("sqlite://x.db"),
            Some(PathBuf::from("hookline.key"))
        );
        assert_eq!(default_key_file("postgres://u@h/db"), None);
        let args = MasterKeyArgs {
            master_key_file: None,
            master_key: None,
        };
        let err = master_key(&args, "postgres://u@h/db", true).unwrap_err();
        assert!(err.to_string().contains("HOOKLINE_MASTER_KEY"), "{err}");
        let bad = MasterKeyArgs {
            master_key_file: None,
            master_key: Some(crate::config::MasterKeyText("too short".into())),
        };
        let err = master_key(&bad, "postgres://u@h/db", true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("HOOKLINE_MASTER_KEY is not a master key"),
            "{err}"
        );
    }
}
