//! Mapping a verified request to an event: its body parsed (JSON, XML or a form), the
//! event type it becomes, its duplicate id, and its `data` and `current_context` shaped
//! by the source's transform. The same steps serve a request, a replay and the dashboard's
//! preview.

use super::verify::Inbound;
use crate::backend::endpoints::template;
use crate::types::sources::{SourceInput, Transform, UnknownValue, Verification};
use serde_json::{Value, json};

/// A request mapped to an event, not yet validated against its schema.
#[derive(Debug)]
pub(super) struct Mapped {
    pub event_type: String,
    pub data: Value,
    pub context: Value,
    pub dedup_key: Option<String>,
}

/// Why a verified request is not an event.
pub(super) enum Unmapped {
    /// Slack's `url_verification`: answered with its challenge, not published.
    Challenge(Value),
    /// Not a valid event: why, and the duplicate id if one was found first.
    Invalid(String, Option<String>),
}

/// Maps a verified request (`source_id` goes in the default context).
pub(super) fn map(
    source: &SourceInput,
    source_id: &str,
    r: &Inbound,
    max_rendered_bytes: usize,
) -> Result<Mapped, Unmapped> {
    let body =
        parse_body(r.header("content-type"), r.body).map_err(|why| Unmapped::Invalid(why, None))?;
    // Slack checks a new URL with a signed challenge, answered here and not published.
    if matches!(source.verification, Verification::Slack { .. })
        && body.get("type").and_then(Value::as_str) == Some("url_verification")
    {
        return Err(Unmapped::Challenge(
            body.get("challenge").cloned().unwrap_or(Value::Null),
        ));
    }
    let key = dedup_key(source, r, &body);
    let event_type =
        event_type(source, r, &body).map_err(|why| Unmapped::Invalid(why, key.clone()))?;
    let (data, context) = match &source.transform {
        None => (body, json!({ "source": source_id })),
        Some(t) => transform(t, r, body, max_rendered_bytes)
            .map_err(|why| Unmapped::Invalid(why, key.clone()))?,
    };
    Ok(Mapped {
        event_type,
        data,
        context,
        dedup_key: key,
    })
}

/// The body as a JSON value: JSON, XML (by the rule in [`super::xml`]) or a form
/// (`a=1&b=2` becomes `{"a": "1", "b": "2"}`), by its content type.
pub(super) fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, String> {
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
    crate::backend::limits::check_json_text(body, "body").map_err(|e| e.message)?;
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

/// A dotted path into the body (`id`, `data.object.id`), as text.
pub(super) fn at_path(v: &Value, path: &str) -> Option<String> {
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
    if let Some(d) = s
        .dedup
        .as_ref()
        .filter(|d| d.header.is_some() || d.json_path.is_some())
    {
        return d
            .header
            .as_deref()
            .and_then(|h| r.header(h).map(str::to_owned))
            .or_else(|| d.json_path.as_deref().and_then(|p| at_path(body, p)))
            .filter(|k| !k.is_empty());
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
