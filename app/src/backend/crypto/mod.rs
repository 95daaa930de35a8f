//! Credentials at rest: every signing secret and endpoint credential is stored sealed with
//! XChaCha20-Poly1305 under the master key, as `enc:v1:<key id>:<base64 nonce‖ciphertext>`.
//! The associated data names the row and field the value belongs to, so a ciphertext
//! copied into another row or field does not open. Opened values live in [`Secret`], which
//! neither serialises nor prints.

pub mod master_key;

pub use master_key::{MasterKey, MasterKeyError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 24;

/// A plaintext credential in memory. No `Serialize`, and `Debug` shows `***`, so it cannot
/// reach an answer or a log by accident; [`Secret::expose`] is the one way in.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("it is not sealed (no enc:v1: prefix)")]
    NotSealed,
    #[error("it is not in the enc:v1:<key id>:<base64> form")]
    Malformed,
    #[error(
        "it was sealed with master key {0}, which is not the configured one ({1}); start with the key the database was encrypted with"
    )]
    UnknownKey(String, String),
    #[error(
        "it does not authenticate under master key {0}: the value was altered or moved from another row"
    )]
    Tampered(String),
}

/// Is `stored` a sealed value (as opposed to plaintext from before encryption at rest)?
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The master keys this process can use: the current one seals, and each opens what it
/// sealed. During `secrets rotate-key` the old key opens and the new one seals.
pub struct Keyring {
    current: MasterKey,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(current: {})", self.current.id())
    }
}

impl Keyring {
    pub fn new(current: MasterKey) -> Self {
        Keyring { current }
    }

    /// The id of the key that seals (a fingerprint, not the key).
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// A 32-byte key for one `purpose` (e.g. signing portal links), derived from the master
    /// key with HMAC-SHA256: a new master key makes a new one.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.current.bytes())
            .expect("HMAC takes any key length");
        mac.update(b"hookline derived key\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Seals `plaintext` for the field named by `context` (e.g. `endpoint/ep_1/auth.token`).
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(self.current.bytes().into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any length this process can hold");
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.current.id(), STANDARD.encode(raw))
    }

    /// Opens a value sealed for `context`. Every failure is an error: never an empty secret.
    pub fn open(&self, context: &str, stored: &str) -> Result<Secret, OpenError> {
        let rest = stored.strip_prefix(PREFIX).ok_or(OpenError::NotSealed)?;
        let (key_id, b64) = rest.split_once(':').ok_or(OpenError::Malformed)?;
        if key_id != self.current.id() {
            return Err(OpenError::UnknownKey(
                key_id.to_string(),
                self.current.id().to_string(),
            ));
        }
        let raw = STANDARD.decode(b64).map_err(|_| OpenError::Malformed)?;
        if raw.len() < NONCE_LEN {
            return Err(OpenError::Malformed);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(self.current.bytes().into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Tampered(key_id.to_string()))?;
        String::from_utf8(plain)
            .map(Secret)
            .map_err(|_| OpenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new(MasterKey::generate())
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_own_context_and_under_its_key() {
        let ring = ring();
        let sealed = ring.seal("endpoint/ep_1/auth.token", "s3cret");
        assert!(is_sealed(&sealed) && !sealed.contains("s3cret"), "{sealed}");
        assert!(sealed.starts_with(&format!("enc:v1:{}:", ring.current_id())));
        assert_ne!(
            sealed,
            ring.seal("endpoint/ep_1/auth.token", "s3cret"),
            "fresh nonce"
        );
        assert_eq!(
            ring.open("endpoint/ep_1/auth.token", &sealed)
                .unwrap()
                .expose(),
            "s3cret"
        );
        assert!(matches!(
            ring.open("endpoint/ep_2/auth.token", &sealed),
            Err(OpenError::Tampered(_))
        ));
        let other = Keyring::new(MasterKey::generate());
        assert!(matches!(
            other.open("endpoint/ep_1/auth.token", &sealed),
            Err(OpenError::UnknownKey(..))
        ));
        let mut flipped = sealed.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        assert!(ring.open("endpoint/ep_1/auth.token", &flipped).is_err());
        assert_eq!(ring.open("x", "plain"), Err(OpenError::NotSealed));
        assert_eq!(
            ring.open("x", &format!("enc:v1:{}:!!", ring.current_id())),
            Err(OpenError::Malformed)
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("s3cret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let key = MasterKey::generate();
        let shown = format!("{key:?} {:?}", Keyring::new(key.clone()));
        assert!(
            !shown.contains(&key.encoded()) && shown.contains(key.id()),
            "{shown}"
        );
    }
}
