//! Building the HTTP request for a delivery: the body (envelope, rendered template, or XML),
//! the headers (content type, user agent, custom, auth, Standard Webhooks signature), and
//! the OAuth2 client-credentials token, fetched and cached until it expires.
//!
//! - [`outgoing`]: each event shaped for its endpoint (sensitive fields, template), the
//!   body of one event or a batch, and the masked copy for the attempt log;
//! - [`xml`]: the XML body, keys mapped to names by one documented rule;
//! - [`signing`]: the Standard Webhooks signature.

pub mod outgoing;
pub mod signing;
pub mod xml;

use app::backend::endpoints::StoredEndpoint;
use app::backend::endpoints::template;
use app::types::endpoints::{BodyFormat, EndpointAuth};
use base64::Engine;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::outbound::http::{Failure, GuardedClient, USER_AGENT, read_capped};
use super::outcome::ErrorClass;

/// A token endpoint's answer is read up to this size.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;
/// An access token longer than this is refused (it goes into every request's headers).
const MAX_ACCESS_TOKEN: usize = 8 * 1024;
/// `expires_in` is clamped to this range; a token without one is kept for the default.
const TOKEN_LIFETIME_MIN: u64 = 60;
const TOKEN_LIFETIME_MAX: u64 = 24 * 3600;
const TOKEN_LIFETIME_DEFAULT: u64 = 300;

/// What one event looks like to `endpoint`: its rendered template, or the envelope. A
/// template may render at most `max_bytes` (`--max-rendered-bytes`); past that the
/// rendering stops and the attempt fails with the reason.
pub fn shape(
    endpoint: &StoredEndpoint,
    envelope: Value,
    max_bytes: usize,
) -> Result<Value, String> {
    match &endpoint.settings.template {
        Some(t) if !t.is_null() => {
            template::render(t, &envelope, "template", max_bytes).map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        }
        _ => Ok(envelope),
    }
}

/// A shaped event in the endpoint's format, at most `max_bytes` of it (XML spells out every
/// name, so it can outgrow the JSON it comes from).
pub fn encode(
    endpoint: &StoredEndpoint,
    value: &Value,
    max_bytes: usize,
) -> Result<(Vec<u8>, &'static str), String> {
    Ok(match endpoint.settings.format {
        BodyFormat::Json => (
            serde_json::to_vec(value).unwrap_or_default(),
            "application/json",
        ),
        BodyFormat::Xml => (
            xml::document(value, "event", max_bytes).map_err(|e| match e {
                xml::XmlError::TooLarge => format!(
                    "the XML body is larger than the limit of {max_bytes} bytes (--max-rendered-bytes)"
                ),
                other => other.to_string(),
            })?,
            "application/xml",
        ),
    })
}

/// The body of a batch: a JSON array of the shaped events, or for XML an `<events>`
/// element holding one `<event>` each. Each event was shaped (and for XML checked) under
/// the limit already.
pub fn batch_body(
    endpoint: &StoredEndpoint,
    shaped: &[Value],
) -> Result<(Vec<u8>, &'static str), String> {
    Ok(match endpoint.settings.format {
        BodyFormat::Json => (
            serde_json::to_vec(shaped).unwrap_or_default(),
            "application/json",
        ),
        BodyFormat::Xml => (
            xml::events(shaped, usize::MAX).map_err(|e| e.to_string())?,
            "application/xml",
        ),
    })
}

/// OAuth2 client-credentials tokens by endpoint, kept until shortly before they expire.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// One fetch at a time: concurrent first deliveries share the token instead of each
    /// asking the token endpoint.
    fetching: tokio::sync::Mutex<()>,
}

impl TokenCache {
    async fn token(
        &self,
        client: &GuardedClient,
        endpoint: &StoredEndpoint,
    ) -> Result<String, Failure> {
        let EndpointAuth::Oauth2 {
            token_url,
            client_id,
            client_secret,
            scope,
        } = &endpoint.settings.auth
        else {
            return Err((ErrorClass::Request, "not an OAuth2 endpoint".into()));
        };
        // Keyed by the credentials too, so a changed secret fetches a new token.
        let key = format!(
            "{}\u{0}{token_url}\u{0}{client_id}\u{0}{}",
            endpoint.id,
            client_secret.len()
        );
        let cached = |tokens: &Mutex<HashMap<String, (String, Instant)>>| {
            tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .filter(|(_, until)| Instant::now() < *until)
                .map(|(t, _)| t.clone())
        };
        if let Some(t) = cached(&self.tokens) {
            return Ok(t);
        }
        let _one_fetch = self.fetching.lock().await;
        if let Some(t) = cached(&self.tokens) {
            return Ok(t);
        }
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", client_secret.as_str()),
        ];
        if let Some(s) = scope {
            form.push(("scope", s.as_str()));
        }
        let timeout = Duration::from_secs(30);
        let oauth = |(class, message): Failure| (class, format!("OAuth2 token request: {message}"));
        let request = client
            .post_to(token_url, timeout, endpoint.settings.https_only, None)
            .map_err(oauth)?
            .form(&form);
        let res = client.send(request).await.map_err(oauth)?;
        let status = res.status();
        let (body, cut) = read_capped(res, MAX_TOKEN_RESPONSE, timeout).await;
        let (token, lifetime) = parse_token_response(status.as_u16(), &body, cut)
            .map_err(|e| (ErrorClass::Request, format!("OAuth2 token endpoint: {e}")))?;
        // Renewed a little before it runs out, so no request carries an expiring token.
        let until = Instant::now() + Duration::from_secs(lifetime - (lifetime / 10).min(30));
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (token.clone(), until));
        Ok(token)
    }
}

/// A token endpoint's answer: the access token and how long to keep it (seconds, clamped).
fn parse_token_response(status: u16, body: &[u8], cut: bool) -> Result<(String, u64), String> {
    if !(200..300).contains(&status) {
        let excerpt = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("answered HTTP {status}: {excerpt}"));
    }
    if cut {
        return Err(format!(
            "the answer is larger than {MAX_TOKEN_RESPONSE} bytes or too slow; refused"
        ));
    }
    let body: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let token = body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no access_token")?;
    if token.len() > MAX_ACCESS_TOKEN || HeaderValue::from_str(token).is_err() {
        return Err(format!(
            "the access_token is not a header value of at most {MAX_ACCESS_TOKEN} bytes"
        ));
    }
    if let Some(kind) = body.get("token_type").and_then(Value::as_str)
        && !kind.eq_ignore_ascii_case("bearer")
    {
        return Err(format!("token_type {kind:?} is not Bearer"));
    }
    let lifetime = match body.get("expires_in") {
        None | Some(Value::Null) => TOKEN_LIFETIME_DEFAULT,
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("expires_in {n} is not a whole number of seconds"))?,
        // Some servers send it as a string.
        Some(Value::String(s)) => s
            .parse::<u64>()
            .map_err(|_| format!("expires_in {s:?} is not a whole number of seconds"))?,
        Some(other) => return Err(format!("expires_in {other} is not a number")),
    };
    Ok((
        token.to_string(),
        lifetime.clamp(TOKEN_LIFETIME_MIN, TOKEN_LIFETIME_MAX),
    ))
}

/// Headers for the request, and the same headers with secret values masked for the log.
pub async fn headers(
    client: &GuardedClient,
    tokens: &TokenCache,
    endpoint: &StoredEndpoint,
    content_type: &str,
    msg_id: &str,
    timestamp: i64,
    signature: &str,
) -> Result<(HeaderMap, Vec<(String, String)>), Failure> {
    let mut h = HeaderMap::new();
    let mut shown = Vec::new();
    let mut put =
        |h: &mut HeaderMap, name: &str, value: &str, secret: bool| -> Result<(), Failure> {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| (ErrorClass::Request, format!("bad header name {name}")))?;
            let v = HeaderValue::from_str(value)
                .map_err(|_| (ErrorClass::Request, format!("bad value for header {name}")))?;
            h.insert(n, v);
            shown.push((
                name.to_ascii_lowercase(),
                if secret || app::types::endpoints::header_name_looks_secret(name) {
                    app::types::endpoints::MASK.to_string()
                } else {
                    value.to_string()
                },
            ));
            Ok(())
        };
    put(&mut h, "content-type", content_type, false)?;
    put(&mut h, "user-agent", USER_AGENT, false)?;
    for (k, v) in &endpoint.settings.headers {
        put(&mut h, k, v, endpoint.settings.header_is_secret(k))?;
    }
    match &endpoint.settings.auth {
        EndpointAuth::None => {}
        EndpointAuth::ApiKey { header, value } => put(&mut h, header, value, true)?,
        EndpointAuth::Bearer { token } => {
            put(&mut h, "authorization", &format!("Bearer {token}"), true)?
        }
        EndpointAuth::Basic { username, password } => {
            let raw =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            put(&mut h, "authorization", &format!("Basic {raw}"), true)?
        }
        EndpointAuth::Oauth2 { .. } => {
            let token = tokens.token(client, endpoint).await?;
            put(&mut h, "authorization", &format!("Bearer {token}"), true)?
        }
        EndpointAuth::Jwt { .. } => {
            let jwt = app::backend::endpoints::jwt::JwtSettings::of(&endpoint.settings.auth)
                .ok_or((ErrorClass::Request, "not a JWT endpoint".to_string()))?;
            let jti = app::backend::ids::random_hex(16);
            let token = jwt.token(timestamp, &jti).map_err(|e| {
                (
                    ErrorClass::Request,
                    format!("auth: signing the JWT failed: {e}"),
                )
            })?;
            put(&mut h, "authorization", &format!("Bearer {token}"), true)?
        }
    }
    put(&mut h, "webhook-id", msg_id, false)?;
    put(&mut h, "webhook-timestamp", &timestamp.to_string(), false)?;
    put(&mut h, "webhook-signature", signature, false)?;
    Ok((h, shown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_answers_are_checked_and_lifetimes_clamped() {
        let ok = |body: Value| parse_token_response(200, body.to_string().as_bytes(), false);
        assert_eq!(
            ok(json!({"access_token": "t", "token_type": "bearer", "expires_in": 3600})).unwrap(),
            ("t".into(), 3600)
        );
        assert_eq!(
            ok(json!({"access_token": "t"})).unwrap().1,
            TOKEN_LIFETIME_DEFAULT
        );
        assert_eq!(
            ok(json!({"access_token": "t", "expires_in": "7200"}))
                .unwrap()
                .1,
            7200
        );
        assert_eq!(
            ok(json!({"access_token": "t", "expires_in": 1})).unwrap().1,
            TOKEN_LIFETIME_MIN
        );
        assert!(
            ok(json!({"access_token": "t", "expires_in": 1e12}))
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(
            ok(json!({"access_token": "t", "expires_in": 99_999_999}))
                .unwrap()
                .1,
            TOKEN_LIFETIME_MAX
        );
        for bad in [
            json!({"access_token": "t", "expires_in": -5}),
            json!({"access_token": "t", "expires_in": "soon"}),
            json!({"access_token": "t", "expires_in": [1]}),
            json!({"access_token": ""}),
            json!({"access_token": "a\nb"}),
            json!({"access_token": "t", "token_type": "mac"}),
            json!({"token": "t"}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
        let long = "x".repeat(MAX_ACCESS_TOKEN + 1);
        assert!(ok(json!({"access_token": long})).is_err());
        assert!(
            parse_token_response(401, b"{\"error\":\"invalid_client\"}", false)
                .unwrap_err()
                .contains("401")
        );
        assert!(
            parse_token_response(200, b"{}", true)
                .unwrap_err()
                .contains("larger")
        );
    }

    #[test]
    fn batch_bodies_are_a_json_array_or_events_in_xml() {
        let mut settings: app::types::endpoints::EndpointInput =
            serde_json::from_value(json!({"name": "n", "url": "https://x.example/"})).unwrap();
        let shaped = vec![json!({"id": "evt_1"}), json!({"id": "evt_2"})];
        let endpoint = StoredEndpoint {
            id: "ep".into(),
            settings: settings.clone(),
            secrets: Vec::new(),
        };
        let (body, ct) = batch_body(&endpoint, &shaped).unwrap();
        assert_eq!(ct, "application/json");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!(shaped)
        );
        settings.format = BodyFormat::Xml;
        let endpoint = StoredEndpoint {
            id: "ep".into(),
            settings,
            secrets: Vec::new(),
        };
        let (body, ct) = batch_body(&endpoint, &shaped).unwrap();
        assert_eq!(ct, "application/xml");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><events><event><id>evt_1</id></event><event><id>evt_2</id></event></events>"
        );
    }
}
