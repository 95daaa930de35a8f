//! Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, keyed with the decoded bytes of the `whsec_` secret, or for
//! a `v1a` endpoint `v1a,<base64 ed25519 signature>` of the same text, made with the
//! secret's 32 bytes as the private key. During a rotation every current secret signs,
//! space-separated.

use app::types::endpoints::SignatureScheme;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(b64)
        .map_err(|e| format!("signing secret is not base64: {e}"))
}

pub fn sign_one(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// `v1a,<base64 ed25519 signature of "{id}.{timestamp}.{body}">` with `seed` as the key.
pub fn sign_one_v1a(seed: &[u8; 32], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    use ed25519_dalek::Signer;
    let mut message = Vec::with_capacity(msg_id.len() + body.len() + 24);
    message.extend_from_slice(msg_id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    let signature = ed25519_dalek::SigningKey::from_bytes(seed).sign(&message);
    format!("v1a,{}", STANDARD.encode(signature.to_bytes()))
}

/// The `webhook-signature` value for every secret in `secrets` (newest first).
pub fn signature_header(
    secrets: &[app::backend::crypto::Secret],
    scheme: SignatureScheme,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, String> {
    let mut parts = Vec::with_capacity(secrets.len());
    for s in secrets {
        parts.push(match scheme {
            SignatureScheme::V1 => sign_one(&key(s.expose())?, msg_id, timestamp, body),
            SignatureScheme::V1a => {
                let seed = app::backend::endpoints::secrets::secret_bytes(s.expose())
                    .ok_or("signing secret is not whsec_ and 32 bytes of base64")?;
                sign_one_v1a(&seed, msg_id, timestamp, body)
            }
        });
    }
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the Standard Webhooks specification's test vectors.
    #[test]
    fn matches_the_specification_example() {
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign_one(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn rotation_signs_with_every_secret() {
        let h = signature_header(
            &[
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                "whsec_AAAA".into(),
            ],
            SignatureScheme::V1,
            "m",
            1,
            b"{}",
        )
        .unwrap();
        assert_eq!(h.split(' ').count(), 2);
        assert!(h.split(' ').all(|p| p.starts_with("v1,")));
        assert!(signature_header(&["whsec_!!".into()], SignatureScheme::V1, "m", 1, b"").is_err());
        let h = signature_header(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=".into()],
            SignatureScheme::V1a,
            "m",
            1,
            b"{}",
        )
        .unwrap();
        assert!(h.starts_with("v1a,") && h.len() == 4 + 88, "{h}");
        assert!(
            signature_header(&["whsec_AAAA".into()], SignatureScheme::V1a, "m", 1, b"").is_err(),
            "a v1a key is 32 bytes"
        );
    }
}
