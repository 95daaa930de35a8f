//! "Send a signed sample": the source's event type's example, signed the way the provider
//! signs (its headers, its algorithm, the source's own current secret), handled exactly
//! as a posted request would be and logged (`via: sample`). A tampered sample has one
//! byte of its body changed after signing, to show the refusal. The address allowlist
//! does not apply (the sample is made here, not posted from the partner's network).

use super::Sources;
use super::receive::Received;
use super::verify::mac;
use crate::backend::events::Events;
use crate::backend::{Actor, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::Role;
use crate::types::ids::SourceId;
use crate::types::sources::{
    HmacAlgorithm, InboundRequestView, JwtAlgorithm, SignatureEncoding, Verification, Via,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The headers (and query string) the provider would send with `body` at `now` (Unix
/// seconds), signed with `v`'s current secret; `id` is the delivery's unique id.
pub(super) fn sign(
    v: &Verification,
    body: &[u8],
    now: i64,
    id: &str,
) -> Result<(Vec<(String, String)>, String), String> {
    let h = |k: &str, v: String| (k.to_owned(), v);
    let headers = match v {
        Verification::StandardWebhooks { secret, .. } => {
            let key = STANDARD
                .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
                .map_err(|_| "the secret is not whsec_<base64>".to_string())?;
            let signed = format!("{id}.{now}.");
            let sig = mac(HmacAlgorithm::Sha256, &key, &[signed.as_bytes(), body]);
            vec![
                h("webhook-id", id.to_owned()),
                h("webhook-timestamp", now.to_string()),
                h("webhook-signature", format!("v1,{}", STANDARD.encode(sig))),
            ]
        }
        Verification::Stripe { secret, .. } => {
            let signed = format!("{now}.");
            let sig = mac(
                HmacAlgorithm::Sha256,
                secret.as_bytes(),
                &[signed.as_bytes(), body],
            );
            vec![h("stripe-signature", format!("t={now},v1={}", hex(&sig)))]
        }
        Verification::Github { secret, .. } => {
            let sig = mac(HmacAlgorithm::Sha256, secret.as_bytes(), &[body]);
            vec![
                h("x-hub-signature-256", format!("sha256={}", hex(&sig))),
                h("x-github-delivery", id.to_owned()),
                h("x-github-event", "ping".to_owned()),
            ]
        }
        Verification::Shopify { secret, .. } => {
            let sig = mac(HmacAlgorithm::Sha256, secret.as_bytes(), &[body]);
            vec![
                h("x-shopify-hmac-sha256", STANDARD.encode(sig)),
                h("x-shopify-webhook-id", id.to_owned()),
            ]
        }
        Verification::Slack { signing_secret, .. } => {
            let signed = format!("v0:{now}:");
            let sig = mac(
                HmacAlgorithm::Sha256,
                signing_secret.as_bytes(),
                &[signed.as_bytes(), body],
            );
            vec![
                h("x-slack-request-timestamp", now.to_string()),
                h("x-slack-signature", format!("v0={}", hex(&sig))),
            ]
        }
        Verification::Hmac {
            secret,
            header,
            algorithm,
            encoding,
            prefix,
            signed,
            timestamp_header,
            ..
        } => {
            let ts = now.to_string();
            let with_ts = signed.replace("{timestamp}", &ts);
            let (before, after) = with_ts
                .split_once("{body}")
                .unwrap_or((with_ts.as_str(), ""));
            let sig = mac(
                *algorithm,
                secret.as_bytes(),
                &[before.as_bytes(), body, after.as_bytes()],
            );
            let sig = match encoding {
                SignatureEncoding::Hex => hex(&sig),
                SignatureEncoding::Base64 => STANDARD.encode(sig),
            };
            let mut out = vec![h(&header.to_ascii_lowercase(), format!("{prefix}{sig}"))];
            if let Some(t) = timestamp_header {
                out.push(h(&t.to_ascii_lowercase(), ts));
            }
            out
        }
        Verification::Jwt {
            algorithm: JwtAlgorithm::HS256,
            key,
            audience,
            issuer,
            ..
        } => {
            let claims = serde_json::json!({
                "iat": now, "exp": now + 300, "aud": audience, "iss": issuer, "jti": id,
            });
            let token = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
            )
            .map_err(|e| format!("cannot sign the token: {e}"))?;
            vec![h("authorization", format!("Bearer {token}"))]
        }
        Verification::Jwt { algorithm, .. } => {
            return Err(format!(
                "Hookline holds only the partner's {algorithm:?} public key, so it cannot sign a sample; \
                 send one signed with the partner's private key"
            ));
        }
        Verification::Basic {
            username, password, ..
        } => vec![h(
            "authorization",
            format!(
                "Basic {}",
                STANDARD.encode(format!("{username}:{password}"))
            ),
        )],
        Verification::ApiKey {
            header: Some(name),
            key,
            ..
        } => vec![h(&name.to_ascii_lowercase(), key.clone())],
        Verification::ApiKey {
            query: Some(q),
            key,
            ..
        } => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(q, key)
                .finish();
            return Ok((content_type(Vec::new()), query));
        }
        Verification::ApiKey { .. } | Verification::None => Vec::new(),
    };
    Ok((content_type(headers), String::new()))
}

fn content_type(mut headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers.push(("content-type".into(), "application/json".into()));
    headers
}

impl Sources {
    /// Signs the event type's example as the provider would and handles it as a posted
    /// request; `tampered` changes one byte of the body after signing. Answers the log
    /// entry (verdict, reason, event).
    pub async fn send_sample(
        &self,
        actor: &Actor,
        events: &Events,
        id: &SourceId,
        tampered: bool,
    ) -> AppResult<InboundRequestView> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let source = self.open(&row.id, &row.config)?;
        let example = super::super::catalog::event_types::EventTypes::new(self.db.clone())
            .find(&source.event_type)
            .await?
            .and_then(|t| t.example)
            .unwrap_or_else(|| serde_json::json!({}));
        let mut body = serde_json::to_vec(&example).expect("JSON always encodes");
        let delivery = crate::backend::ids::new_id("msg");
        let (headers, query) = sign(&source.verification, &body, now_ms() / 1000, &delivery)
            .map_err(|why| AppError::invalid("verification", why))?;
        if tampered {
            // The last byte of `{…}` is `}`; the one before it is changed, keeping it JSON
            // where it can (a digit or a letter changes to another).
            let at = body.len().saturating_sub(2);
            body[at] = match body[at] {
                b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => body[at] + 1,
                b'9' => b'0',
                _ => b' ',
            };
        }
        let received = Received {
            remote: std::net::IpAddr::from([127, 0, 0, 1]),
            headers,
            query: &query,
            body: &body,
            via: Via::Sample,
            replay_of: None,
        };
        let reply = self.handle(events, id, &source, received).await?;
        self.request(actor, id, &reply.logged_as).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::verify::{Inbound, verify};
    use super::*;

    /// Every scheme Hookline can sign for verifies its own sample, and refuses it with
    /// one byte changed or a minute past its tolerance.
    #[test]
    fn each_schemes_sample_verifies_and_a_changed_one_does_not() {
        let schemes: Vec<Verification> = serde_json::from_value(serde_json::json!([
            {"type": "standard_webhooks", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
            {"type": "stripe", "secret": "whsec_test"},
            {"type": "github", "secret": "gh"},
            {"type": "shopify", "secret": "sh"},
            {"type": "slack", "signing_secret": "sl"},
            {"type": "hmac", "secret": "x", "header": "X-Sig", "algorithm": "sha512",
             "encoding": "base64", "prefix": "sha512=", "signed": "{timestamp}.{body}",
             "timestamp_header": "X-Ts"},
            {"type": "jwt", "key": "k", "audience": "hookline", "issuer": "partner"},
            {"type": "basic", "username": "u", "password": "p"},
            {"type": "api_key", "query": "key", "key": "k1"},
        ]))
        .unwrap();
        let body = br#"{"order":42}"#;
        let now = crate::backend::now_ms() / 1000;
        for v in schemes {
            let (headers, query) = sign(&v, body, now, "msg_1").unwrap();
            let r = Inbound {
                headers: &headers,
                query: &query,
                body,
                now,
            };
            assert_eq!(verify(&v, &r), Ok(()), "{}", v.kind());
            let changed = br#"{"order":43}"#;
            let r2 = Inbound { body: changed, ..r };
            let signs_body = !matches!(
                v,
                Verification::Jwt { .. } | Verification::Basic { .. } | Verification::ApiKey { .. }
            );
            assert_eq!(verify(&v, &r2).is_err(), signs_body, "{}", v.kind());
            let has_ts = matches!(
                v,
                Verification::StandardWebhooks { .. }
                    | Verification::Stripe { .. }
                    | Verification::Slack { .. }
                    | Verification::Hmac { .. }
            );
            let late = Inbound {
                now: now + 360,
                ..r
            };
            assert_eq!(verify(&v, &late).is_err(), has_ts, "{}", v.kind());
        }
    }

    #[test]
    fn a_public_key_cannot_sign_a_sample() {
        let v: Verification = serde_json::from_value(
            serde_json::json!({"type": "jwt", "algorithm": "RS256", "key": "pem"}),
        )
        .unwrap();
        assert!(sign(&v, b"{}", 0, "m").unwrap_err().contains("public key"));
    }
}
