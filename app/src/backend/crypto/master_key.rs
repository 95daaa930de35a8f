//! The master key: 32 random bytes, given as base64 or hex in `HOOKLINE_MASTER_KEY` or in
//! a key file. A key file that does not exist yet is created with a new key, readable by
//! its owner only (mode 0600).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub struct MasterKey {
    id: String,
    bytes: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "{source_name} is not a master key: it must be 32 bytes written as base64 (44 characters) or hex (64 characters); {why}. Create one with `openssl rand -base64 32`"
    )]
    Malformed { source_name: String, why: String },
    #[error("cannot read the master key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the master key file {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"hookline master key id\0")
            .chain_update(bytes)
            .finalize();
        let id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        MasterKey { id, bytes }
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// Reads a key written as base64 or hex; `source_name` names where it came from
    /// (`HOOKLINE_MASTER_KEY`, a file) in the error.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, MasterKeyError> {
        let text = text.trim();
        let malformed = |why: String| MasterKeyError::Malformed {
            source_name: source_name.to_string(),
            why,
        };
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| malformed(e.to_string()))?
        } else {
            STANDARD
                .decode(text)
                .map_err(|e| malformed(format!("not base64 ({e})")))?
        };
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| malformed(format!("it holds {} bytes", b.len())))?;
        Ok(Self::from_bytes(bytes))
    }

    /// A fingerprint naming the key in sealed values and messages; it does not reveal it.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key as base64, the form key files hold.
    pub fn encoded(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// The key in the file at `path`.
    pub fn read_file(path: &Path) -> Result<Self, MasterKeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| MasterKeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &format!("the key file {}", path.display()))
    }

    /// The key in the file at `path`, or a new one written there (mode 0600) when the file
    /// does not exist. Returns whether it was created.
    pub fn read_or_create_file(path: &Path) -> Result<(Self, bool), MasterKeyError> {
        if path.exists() {
            return Ok((Self::read_file(path)?, false));
        }
        let key = Self::generate();
        let create = |source| MasterKeyError::Create {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(create)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                writeln!(file, "{}", key.encoded())
                    .and_then(|_| file.sync_all())
                    .map_err(create)?;
                Ok((key, true))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok((Self::read_file(path)?, false))
            }
            Err(e) => Err(create(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_base64_or_hex_and_nothing_else() {
        let key = MasterKey::generate();
        let hex: String = key.bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            MasterKey::parse(&key.encoded(), "x").unwrap().id(),
            key.id()
        );
        assert_eq!(MasterKey::parse(&hex, "x").unwrap().id(), key.id());
        for bad in ["", "short", &STANDARD.encode([1u8; 16]), &hex[..62]] {
            let err = MasterKey::parse(bad, "HOOKLINE_MASTER_KEY").unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("HOOKLINE_MASTER_KEY is not a master key"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_missing_key_file_is_created_owner_only_and_then_reused() {
        let dir =
            std::env::temp_dir().join(format!("hl-key-{}", crate::backend::ids::random_hex(6)));
        let path = dir.join("sub/hookline.key");
        let (first, created) = MasterKey::read_or_create_file(&path).unwrap();
        assert!(created);
        let (again, created) = MasterKey::read_or_create_file(&path).unwrap();
        assert!(!created);
        assert_eq!(first.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "nonsense").unwrap();
        let err = MasterKey::read_or_create_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("hookline.key is not a master key"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
