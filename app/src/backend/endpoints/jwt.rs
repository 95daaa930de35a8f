//! JWT auth for endpoints: the checks when one is saved (the key parses for its algorithm
//! and signs, the claims leave Hookline's own alone, sizes are bounded) and the token
//! signed for each request.

use crate::types::FieldError;
use crate::types::endpoints::JwtAlgorithm;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Claims set per token, never configured.
pub const RESERVED_CLAIMS: [&str; 4] = ["iat", "exp", "nbf", "jti"];
pub const TTL_SECONDS: std::ops::RangeInclusive<u32> = 10..=3600;
const MAX_KEY_BYTES: usize = 16 * 1024;
const MAX_CLAIMS_BYTES: usize = 4 * 1024;
const MAX_KEY_ID: usize = 200;
const MIN_SECRET_BYTES: usize = 32;

/// The endpoint's JWT settings, as stored.
pub struct JwtSettings<'a> {
    pub algorithm: JwtAlgorithm,
    pub key: &'a str,
    pub claims: &'a BTreeMap<String, Value>,
    pub ttl_seconds: u32,
    pub key_id: Option<&'a str>,
}

fn algorithm(a: JwtAlgorithm) -> Algorithm {
    match a {
        JwtAlgorithm::Hs256 => Algorithm::HS256,
        JwtAlgorithm::Rs256 => Algorithm::RS256,
        JwtAlgorithm::Es256 => Algorithm::ES256,
    }
}

fn encoding_key(a: JwtAlgorithm, key: &str) -> Result<EncodingKey, String> {
    match a {
        JwtAlgorithm::Hs256 if key.len() < MIN_SECRET_BYTES => Err(format!(
            "must be at least {MIN_SECRET_BYTES} bytes for HS256"
        )),
        JwtAlgorithm::Hs256 => Ok(EncodingKey::from_secret(key.as_bytes())),
        JwtAlgorithm::Rs256 => EncodingKey::from_rsa_pem(key.as_bytes())
            .map_err(|e| format!("is not an RSA private key in PEM ({e})")),
        JwtAlgorithm::Es256 => EncodingKey::from_ec_pem(key.as_bytes())
            .map_err(|e| format!("is not a P-256 private key in PKCS#8 PEM ({e})")),
    }
}

impl<'a> JwtSettings<'a> {
    /// The settings of a JWT auth; `None` for any other kind.
    pub fn of(auth: &'a crate::types::endpoints::EndpointAuth) -> Option<Self> {
        match auth {
            crate::types::endpoints::EndpointAuth::Jwt {
                algorithm,
                key,
                claims,
                ttl_seconds,
                key_id,
            } => Some(Self {
                algorithm: *algorithm,
                key,
                claims,
                ttl_seconds: *ttl_seconds,
                key_id: key_id.as_deref(),
            }),
            _ => None,
        }
    }

    /// Every problem with these settings, under `auth.`.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.key.len() > MAX_KEY_BYTES {
            errors.push(FieldError::new(
                "auth.key",
                format!("must be at most {MAX_KEY_BYTES} bytes"),
            ));
        } else if self.key.is_empty() {
            errors.push(FieldError::new("auth.key", "is required"));
        } else {
            match encoding_key(self.algorithm, self.key) {
                Err(m) => errors.push(FieldError::new("auth.key", m)),
                // A key of the wrong curve or kind parses but does not sign.
                Ok(_) => {
                    if let Err(m) = self.token(0, "probe") {
                        errors.push(FieldError::new(
                            "auth.key",
                            format!("does not sign {}: {m}", self.algorithm.as_str()),
                        ));
                    }
                }
            }
        }
        for name in self.claims.keys() {
            if RESERVED_CLAIMS.contains(&name.as_str()) {
                errors.push(FieldError::new(
                    format!("auth.claims.{name}"),
                    "is set by Hookline for every token (iat, exp, nbf and jti cannot be configured)",
                ));
            }
        }
        if serde_json::to_string(self.claims).map_or(0, |s| s.len()) > MAX_CLAIMS_BYTES {
            errors.push(FieldError::new(
                "auth.claims",
                format!("must be at most {MAX_CLAIMS_BYTES} bytes as JSON"),
            ));
        }
        if !TTL_SECONDS.contains(&self.ttl_seconds) {
            errors.push(FieldError::new(
                "auth.ttl_seconds",
                format!(
                    "must be between {} and {}",
                    TTL_SECONDS.start(),
                    TTL_SECONDS.end()
                ),
            ));
        }
        if let Some(kid) = self.key_id
            && (kid.is_empty() || kid.len() > MAX_KEY_ID || kid.chars().any(char::is_control))
        {
            errors.push(FieldError::new(
                "auth.key_id",
                format!("must be 1 to {MAX_KEY_ID} characters without control characters"),
            ));
        }
        errors
    }

    /// A token valid from `now` (Unix seconds) for `ttl_seconds`, with `jti`.
    pub fn token(&self, now: i64, jti: &str) -> Result<String, String> {
        let mut header = Header::new(algorithm(self.algorithm));
        header.kid = self.key_id.map(str::to_owned);
        let mut claims: Map<String, Value> = self
            .claims
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + i64::from(self.ttl_seconds)).into());
        claims.insert("jti".into(), jti.into());
        let key = encoding_key(self.algorithm, self.key)?;
        jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings<'a>(key: &'a str, claims: &'a BTreeMap<String, Value>) -> JwtSettings<'a> {
        JwtSettings {
            algorithm: JwtAlgorithm::Hs256,
            key,
            claims,
            ttl_seconds: 60,
            key_id: Some("k1"),
        }
    }

    #[test]
    fn an_hs256_token_carries_the_claims_and_a_lifetime() {
        let claims = BTreeMap::from([
            ("aud".to_string(), json!("receiver")),
            ("iss".to_string(), json!("hookline")),
        ]);
        let secret = "0123456789abcdef0123456789abcdef";
        let s = settings(secret, &claims);
        assert!(s.check().is_empty(), "{:?}", s.check());
        let token = s.token(1_800_000_000, "j1").unwrap();
        let mut v = jsonwebtoken::Validation::new(Algorithm::HS256);
        v.set_audience(&["receiver"]);
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &v,
        )
        .unwrap();
        assert_eq!(data.header.kid.as_deref(), Some("k1"));
        assert_eq!(data.claims["exp"], 1_800_000_060);
        assert_eq!(data.claims["jti"], "j1");
        assert_eq!(data.claims["iss"], "hookline");
    }

    #[test]
    fn bad_settings_name_their_field() {
        let reserved = BTreeMap::from([("exp".to_string(), json!(1))]);
        let mut s = settings("short", &reserved);
        s.ttl_seconds = 5;
        s.key_id = Some("");
        let paths: Vec<String> = s.check().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "auth.key",
                "auth.claims.exp",
                "auth.ttl_seconds",
                "auth.key_id"
            ]
        );
        let none = BTreeMap::new();
        for (alg, key) in [
            (
                JwtAlgorithm::Rs256,
                "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
            ),
            (JwtAlgorithm::Es256, "not a key"),
        ] {
            let s = JwtSettings {
                algorithm: alg,
                ..settings(key, &none)
            };
            assert_eq!(s.check()[0].path, "auth.key");
        }
    }
}
