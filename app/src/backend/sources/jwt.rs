//! JWT bearer tokens (`verification.type = "jwt"`), checked with the `jsonwebtoken` crate.

use crate::types::sources::JwtAlgorithm;

/// A JWT bearer check, with the `jsonwebtoken` crate: the algorithm is fixed by the source
/// (a token naming another is refused), `exp` is required, `nbf`, `aud` and `iss` are
/// checked, and the clock may be `leeway` seconds off.
pub(super) struct JwtCheck<'a> {
    pub algorithm: JwtAlgorithm,
    pub audience: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub leeway: u64,
}

impl JwtCheck<'_> {
    /// `Err` says why the token is refused.
    pub fn verify(&self, token: &str, keys: Vec<&str>) -> Result<(), String> {
        use jsonwebtoken::errors::ErrorKind;
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
        let alg = match self.algorithm {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
        };
        let mut v = Validation::new(alg);
        v.leeway = self.leeway;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp"]);
        match self.audience {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        if let Some(i) = self.issuer {
            v.set_issuer(&[i]);
        }
        let mut last = None;
        for k in keys {
            let key = match self.algorithm {
                JwtAlgorithm::HS256 => Ok(DecodingKey::from_secret(k.as_bytes())),
                JwtAlgorithm::RS256 => DecodingKey::from_rsa_pem(k.as_bytes()),
                JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(k.as_bytes()),
            };
            let Ok(key) = key else {
                return Err("the source's key is not a PEM public key".into());
            };
            match decode::<serde_json::Value>(token, &key, &v) {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        let why = match last.as_ref().map(|e| e.kind()) {
            Some(ErrorKind::InvalidSignature) => "signature mismatch".to_string(),
            Some(ErrorKind::ExpiredSignature) => "token expired".to_string(),
            Some(ErrorKind::ImmatureSignature) => "token not valid yet (nbf)".to_string(),
            Some(ErrorKind::InvalidAudience) => "wrong audience (aud)".to_string(),
            Some(ErrorKind::InvalidIssuer) => "wrong issuer (iss)".to_string(),
            Some(ErrorKind::InvalidAlgorithm) => format!("token is not signed with {alg:?}"),
            Some(ErrorKind::MissingRequiredClaim(c)) => format!("token has no {c}"),
            Some(_) => format!("not a valid JWT: {}", last.expect("an error")),
            None => "no key to check the token with".to_string(),
        };
        Err(why)
    }
}

#[cfg(test)]
mod tests {
    use super::super::verify::tests::{h, req};
    use super::super::verify::verify;
    use crate::types::sources::{JwtAlgorithm, Verification};
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn jwt_bearer_checks_signature_expiry_audience_and_issuer() {
        use jsonwebtoken::{EncodingKey, Header, encode};
        let v = Verification::Jwt {
            algorithm: JwtAlgorithm::HS256,
            key: "jwt-secret".into(),
            previous_key: None,
            audience: Some("hookline".into()),
            issuer: Some("https://partner.example".into()),
            leeway_secs: 0,
        };
        let now = crate::backend::now_ms() / 1000;
        let token = |claims: serde_json::Value, key: &str| {
            let t = encode(
                &Header::default(),
                &claims,
                &EncodingKey::from_secret(key.as_bytes()),
            )
            .unwrap();
            h(&[("Authorization", &format!("Bearer {t}"))])
        };
        let good = serde_json::json!({"exp": now + 60, "aud": "hookline", "iss": "https://partner.example"});
        assert_eq!(
            verify(&v, &req(&token(good.clone(), "jwt-secret"), b"", now)),
            Ok(())
        );
        let reason = |claims, key| {
            verify(&v, &req(&token(claims, key), b"", now))
                .unwrap_err()
                .0
        };
        assert_eq!(reason(good.clone(), "other"), "signature mismatch");
        let mut expired = good.clone();
        expired["exp"] = (now - 10).into();
        assert_eq!(reason(expired, "jwt-secret"), "token expired");
        let mut aud = good.clone();
        aud["aud"] = "someone-else".into();
        assert_eq!(reason(aud, "jwt-secret"), "wrong audience (aud)");
        let mut iss = good.clone();
        iss["iss"] = "https://evil.example".into();
        assert_eq!(reason(iss, "jwt-secret"), "wrong issuer (iss)");
        let mut early = good.clone();
        early["nbf"] = (now + 600).into();
        assert_eq!(reason(early, "jwt-secret"), "token not valid yet (nbf)");
        assert_eq!(
            reason(
                serde_json::json!({"aud": "hookline", "iss": "https://partner.example"}),
                "jwt-secret"
            ),
            "token has no exp"
        );
        // `alg: none` and another algorithm than the source's are refused.
        let none = format!(
            "{}.{}.",
            STANDARD
                .encode(br#"{"alg":"none","typ":"JWT"}"#)
                .trim_end_matches('='),
            STANDARD.encode(good.to_string()).trim_end_matches('=')
        );
        let headers = h(&[("Authorization", &format!("Bearer {none}"))]);
        assert!(verify(&v, &req(&headers, b"", now)).is_err());
        let hs512 = encode(
            &Header::new(jsonwebtoken::Algorithm::HS512),
            &good,
            &EncodingKey::from_secret(b"jwt-secret"),
        )
        .unwrap();
        let headers = h(&[("Authorization", &format!("Bearer {hs512}"))]);
        assert!(
            verify(&v, &req(&headers, b"", now))
                .unwrap_err()
                .0
                .contains("HS256")
        );
    }
}
