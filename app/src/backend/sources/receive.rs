//! One inbound request, from the partner's POST to its answer: the source, the address
//! allowlist, verification, the body, the duplicate check and the publish, in that order.
//! The event takes the normal path (schema, routing, the one-transaction outbox) with the
//! source as its publisher, and the answer comes only after it is committed. Every request
//! is written to the inbound log with its verdict and reason, whatever the verdict; a
//! refused or invalid one is never published.

use super::Sources;
use super::verify::{Inbound, verify};
use crate::backend::cidr::Cidr;
use crate::backend::endpoints::template;
use crate::backend::events::Events;
use crate::backend::{Actor, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::endpoints::{MASK, header_name_looks_secret};
use crate::types::events::PublishEvent;
use crate::types::ids::{InboundRequestId, SourceId};
use crate::types::sources::{SourceInput, Transform, UnknownValue, Verdict, Verification};
use crate::with_db;
use serde_json::{Value, json};
use std::net::IpAddr;

/// A request as the HTTP layer received it (header names in lower case).
pub struct Received<'a> {
    pub remote: IpAddr,
    pub headers: Vec<(String, String)>,
    pub query: &'a str,
    pub body: &'a [u8],
}

/// What to answer the partner.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// The outcome of the checks, before it is logged.
struct Logged {
    verdict: Verdict,
    status: u16,
    reason: Option<String>,
    event_id: Option<String>,
    dedup_key: Option<String>,
    body: Value,
}

impl Logged {
    fn refused(status: u16, reason: String) -> Logged {
        Logged {
            verdict: Verdict::Refused,
            status,
            body: json!({"error": reason}),
            reason: Some(reason),
            event_id: None,
            dedup_key: None,
        }
    }

    fn invalid(status: u16, reason: String, dedup_key: Option<String>) -> Logged {
        Logged {
            verdict: Verdict::Invalid,
            status,
            body: json!({"error": reason}),
            reason: Some(reason),
            event_id: None,
            dedup_key,
        }
    }
}

/// The body as a JSON value: JSON, XML (by the rule in [`super::xml`]) or a form
/// (`a=1&b=2` becomes `{"a": "1", "b": "2"}`), by its content type.
fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, String> {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == "application/xml" || media == "text/xml" || media.ends_with("+xml") {
        return super::xml::to_json(body);
    }
    if media == "application/x-www-form-urlencoded" {
        let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Ok(Value::Object(map));
    }
    crate::backend::limits::check_depth(body, "body").map_err(|e| e.message)?;
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

/// A dotted path into the body (`id`, `data.object.id`), as text.
fn at_path(v: &Value, path: &str) -> Option<String> {
    let found = path.split('.').try_fold(v, |v, key| v.get(key))?;
    match found {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The event's `data` and `current_context`, rendered from the request by the source's
/// templates; the context is `{"source": …}` unless the source shapes it.
fn transform(
    t: &Transform,
    r: &Inbound,
    body: Value,
    max_bytes: usize,
) -> Result<(Value, Value), String> {
    let headers: serde_json::Map<String, Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let query: serde_json::Map<String, Value> = url::form_urlencoded::parse(r.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let request = json!({ "body": body, "headers": headers, "query": query });
    let render = |template: &Value, at: &str| {
        template::render(template, &request, at, max_bytes).map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    let data = render(&t.data, "transform.data")?;
    let context = match &t.context {
        Some(c) => render(c, "transform.context")?,
        None => json!({}),
    };
    Ok((data, context))
}

/// The event type a request becomes: the source's, or looked up from the request.
fn event_type(s: &SourceInput, r: &Inbound, body: &Value) -> Result<String, String> {
    let Some(from) = &s.event_type_from else {
        return Ok(s.event_type.clone());
    };
    let (place, value) = if let Some(h) = &from.header {
        (format!("header {h}"), r.header(h).map(str::to_owned))
    } else if let Some(q) = &from.query {
        (
            format!("query parameter {q}"),
            url::form_urlencoded::parse(r.query.as_bytes())
                .find(|(k, _)| k == q.as_str())
                .map(|(_, v)| v.into_owned()),
        )
    } else {
        let p = from.json_path.clone().unwrap_or_default();
        (format!("body {p}"), at_path(body, &p))
    };
    let found = value.as_ref().and_then(|v| {
        if from.map.is_empty() {
            Some(v.clone())
        } else {
            from.map.get(v).cloned()
        }
    });
    match (found, from.unknown) {
        (Some(t), _) => Ok(t),
        (None, UnknownValue::Default) => Ok(s.event_type.clone()),
        (None, UnknownValue::Refuse) => Err(match value {
            Some(v) => format!("{place} is {v:?}, which maps to no event type"),
            None => format!("{place} is missing: no event type"),
        }),
    }
}

/// Where the duplicate-detection id comes from: the source's setting, else its scheme's.
fn dedup_key(s: &SourceInput, r: &Inbound, body: &Value) -> Option<String> {
    if let Some(d) = &s.dedup {
        return d
            .header
            .as_deref()
            .and_then(|h| r.header(h).map(str::to_owned))
            .or_else(|| d.json_path.as_deref().and_then(|p| at_path(body, p)));
    }
    match &s.verification {
        Verification::StandardWebhooks { .. } => r.header("webhook-id").map(str::to_owned),
        Verification::Stripe { .. } => at_path(body, "id"),
        Verification::Github { .. } => r.header("x-github-delivery").map(str::to_owned),
        Verification::Shopify { .. } => r.header("x-shopify-webhook-id").map(str::to_owned),
        Verification::Slack { .. } => at_path(body, "event_id"),
        _ => None,
    }
    .filter(|k| !k.is_empty())
}

/// Headers as kept in the log: credentials and signatures shown as `***`.
fn masked_headers(s: Option<&SourceInput>, headers: &[(String, String)]) -> Value {
    let key_header = match s.map(|s| &s.verification) {
        Some(Verification::ApiKey {
            header: Some(h), ..
        }) => Some(h.to_ascii_lowercase()),
        _ => None,
    };
    let map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            let secret = header_name_looks_secret(k) || key_header.as_deref() == Some(k);
            let shown = if secret { MASK.to_owned() } else { v.clone() };
            (k.clone(), Value::String(shown))
        })
        .collect();
    Value::Object(map)
}

impl Sources {
    /// The largest body source `id` takes, read before its body is: a 404 for an id that
    /// names no live source. (Its settings are read as stored; no secret is opened.)
    pub async fn body_limit(&self, id: &str) -> AppResult<usize> {
        let stored = self.stored(id).await?;
        Ok(stored
            .max_body_bytes
            .map_or(self.default_body_limit, |n| n as usize))
    }

    /// The settings as stored (secrets still sealed): enough for limits and masking.
    async fn stored(&self, id: &str) -> AppResult<SourceInput> {
        let id = SourceId::parse(id)?;
        let row = self.row(id.as_str()).await?;
        super::sealed(&row.id, &row.config)
    }

    /// The client's address (see [`super::client_address`]).
    fn client(&self, req: &Received<'_>) -> IpAddr {
        let forwarded = req
            .headers
            .iter()
            .find(|(k, _)| k == "x-forwarded-for")
            .map(|(_, v)| v.as_str());
        super::client_address(req.remote, forwarded, &self.trusted_proxies)
    }

    /// Logs a request whose body passed the source's limit (the body is not kept) and
    /// answers 413.
    pub async fn refuse_oversized(
        &self,
        id: &str,
        mut req: Received<'_>,
        limit: usize,
    ) -> AppResult<Reply> {
        let stored = self.stored(id).await?;
        let id = SourceId::parse(id)?;
        req.remote = self.client(&req);
        let reason = format!("body over the source's limit of {limit} bytes");
        let logged = Logged::invalid(413, reason, None);
        let reply = Reply {
            status: 413,
            body: logged.body.clone(),
        };
        self.log(&id, Some(&stored), &req, logged).await?;
        Ok(reply)
    }

    /// Handles one request posted to source `id` and answers what to send back. An id
    /// that names no live source is a 404 (there is no log to write it to).
    pub async fn receive(
        &self,
        events: &Events,
        id: &str,
        mut req: Received<'_>,
    ) -> AppResult<Reply> {
        let id = SourceId::parse(id)?;
        req.remote = self.client(&req);
        let row = self.row(id.as_str()).await?;
        let source = self.open(&row.id, &row.config)?;
        let logged = self.judge(events, &id, &source, &req).await?;
        let reply = Reply {
            status: logged.status,
            body: logged.body.clone(),
        };
        self.log(&id, Some(&source), &req, logged).await?;
        Ok(reply)
    }

    async fn judge(
        &self,
        events: &Events,
        id: &SourceId,
        source: &SourceInput,
        req: &Received<'_>,
    ) -> AppResult<Logged> {
        if !source.enabled {
            return Ok(Logged::refused(403, "the source is disabled".into()));
        }
        if !source.allowed_ips.is_empty()
            && !source
                .allowed_ips
                .iter()
                .filter_map(|c| Cidr::parse(c).ok())
                .any(|c| c.contains(req.remote))
        {
            return Ok(Logged::refused(
                403,
                format!("address {} not allowed", req.remote),
            ));
        }
        let inbound = Inbound {
            headers: &req.headers,
            query: req.query,
            body: req.body,
            now: now_ms() / 1000,
        };
        if let Err(refusal) = verify(&source.verification, &inbound) {
            return Ok(Logged::refused(401, refusal.0));
        }
        let body = match parse_body(inbound.header("content-type"), req.body) {
            Ok(v) => v,
            Err(why) => return Ok(Logged::invalid(422, why, None)),
        };
        // Slack checks a new URL with a signed challenge, answered here and not published.
        if matches!(source.verification, Verification::Slack { .. })
            && body.get("type").and_then(Value::as_str) == Some("url_verification")
        {
            let challenge = body.get("challenge").cloned().unwrap_or(Value::Null);
            return Ok(Logged {
                verdict: Verdict::Accepted,
                status: 200,
                reason: Some("Slack url_verification challenge answered".into()),
                event_id: None,
                dedup_key: None,
                body: json!({ "challenge": challenge }),
            });
        }
        let key = dedup_key(source, &inbound, &body);
        let event_type = match event_type(source, &inbound, &body) {
            Ok(t) => t,
            Err(why) => return Ok(Logged::invalid(422, why, key)),
        };
        let (data, context) = match &source.transform {
            None => (body, json!({ "source": id.as_str() })),
            Some(t) => match transform(t, &inbound, body, events.limits.max_rendered_bytes) {
                Ok(shaped) => shaped,
                Err(why) => return Ok(Logged::invalid(422, why, key)),
            },
        };
        let input = PublishEvent {
            event_type,
            data,
            tenant: source.tenant.clone(),
            context: Some(context),
            idempotency_key: None,
        };
        let actor = Actor::source(id.as_str(), &source.name);
        match events.publish(&actor, input, key.as_deref()).await {
            Ok(outcome) => {
                let event_id = outcome.published.id.to_string();
                let answer = json!({ "event_id": event_id, "duplicate": outcome.replayed });
                let (status, body) = match &source.response {
                    None => (if outcome.replayed { 200 } else { 202 }, answer),
                    Some(r) => {
                        let body = match &r.body {
                            // Checked when saved; a field it lacks leaves the default answer.
                            Some(t) => template::render(t, &answer, "response.body", 64 * 1024)
                                .unwrap_or(answer),
                            None => answer,
                        };
                        (if outcome.replayed { 200 } else { r.status }, body)
                    }
                };
                Ok(Logged {
                    verdict: if outcome.replayed {
                        Verdict::Duplicate
                    } else {
                        Verdict::Accepted
                    },
                    status,
                    reason: outcome
                        .replayed
                        .then(|| format!("duplicate of {event_id}: not published again")),
                    body,
                    event_id: Some(event_id),
                    dedup_key: key,
                })
            }
            Err(AppError::Validation { message, .. }) => Ok(Logged::invalid(422, message, key)),
            Err(AppError::Conflict(message)) => Ok(Logged::invalid(409, message, key)),
            Err(e) => Err(e),
        }
    }

    async fn log(
        &self,
        id: &SourceId,
        source: Option<&SourceInput>,
        req: &Received<'_>,
        l: Logged,
    ) -> AppResult<()> {
        let headers = masked_headers(source, &req.headers).to_string();
        with_db!(&self.db, |pool| {
            sqlx::query(
            "INSERT INTO inbound_requests (id, source_id, received_at, remote_addr, headers, body, verdict, reason, status, event_id, dedup_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )
        .bind(InboundRequestId::generate().as_str())
        .bind(id.as_str())
        .bind(now_ms())
        .bind(req.remote.to_string())
        .bind(&headers)
        .bind(req.body)
        .bind(l.verdict.as_str())
        .bind(&l.reason)
        .bind(l.status as i64)
        .bind(&l.event_id)
        .bind(&l.dedup_key)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }
}
