//! Checking one event before it is stored: its type exists, is not archived and is not
//! reserved, its data fits the schema, its tenant, context and idempotency key are well
//! formed; then its envelope and the endpoints it goes to.

use super::envelope;
use crate::backend::Actor;
use crate::backend::access::actor::ActorKind;
use crate::backend::catalog::Catalog;
use crate::backend::catalog::schema;
use crate::types::FieldError;
use crate::types::events::PublishEvent;
use serde_json::json;

/// A validated, routed event ready to store.
pub(super) struct Prepared {
    pub id: String,
    pub event_type: String,
    pub tenant: Option<String>,
    pub idempotency_key: Option<super::idempotency::IdempotencyKey>,
    pub envelope: String,
    pub created_at: i64,
    /// Matching endpoints, and whether each is FIFO.
    pub endpoints: Vec<(String, bool)>,
    /// The inbound request it came from, logged in the same transaction.
    pub inbound: Option<crate::backend::sources::log::InboundRow>,
    /// The publish span's `traceparent`, when traces are on (see [`crate::backend::trace`]).
    pub trace_context: Option<String>,
}

/// An idempotency key from outside the body (the `Idempotency-Key` header, or a source's
/// duplicate id) and how long it holds.
#[derive(Clone, Copy)]
pub struct KeyFrom<'a> {
    pub key: &'a str,
    pub window_ms: i64,
}

/// Only Hookline publishes `hookline.*` events (its subscribers trust them as operational).
fn is_reserved_event_type(name: &str) -> bool {
    name == "hookline" || name.starts_with("hookline.")
}

pub(super) fn prepare(
    catalog: &Catalog,
    actor: &Actor,
    input: PublishEvent,
    at: &str,
    header_key: Option<KeyFrom<'_>>,
    now: i64,
) -> Result<Prepared, Vec<FieldError>> {
    let mut errors = Vec::new();
    let p = |f: &str| {
        if at.is_empty() {
            f.to_string()
        } else {
            format!("{at}.{f}")
        }
    };
    match catalog.event_types.get(&input.event_type) {
        _ if is_reserved_event_type(&input.event_type) && actor.kind != ActorKind::System => {
            errors.push(FieldError::new(
                p("event_type"),
                format!(
                    "'{}' is in the hookline.* namespace, which is reserved for Hookline's own events",
                    input.event_type
                ),
            ))
        }
        None => errors.push(FieldError::new(
            p("event_type"),
            format!(
                "there is no event type '{}'; create it first",
                input.event_type
            ),
        )),
        Some(t) if t.view.archived => errors.push(FieldError::new(
            p("event_type"),
            format!("'{}' is archived", input.event_type),
        )),
        Some(t) => {
            if let Some(v) = &t.validator {
                errors.extend(schema::errors(v, &input.data, &p("data")));
            }
        }
    }
    if let Some(t) = &input.tenant
        && let Err(m) = crate::backend::domain::check_tenant(t)
    {
        errors.push(FieldError::new(p("tenant"), m));
    }
    let context = input.context.clone().unwrap_or_else(|| json!({}));
    if !context.is_object() {
        errors.push(FieldError::new(p("context"), "must be an object"));
    }
    let window_ms = header_key.map_or(super::IDEMPOTENCY_WINDOW_MS, |k| k.window_ms);
    let key = match (input.idempotency_key.as_deref(), header_key.map(|k| k.key)) {
        (Some(b), Some(h)) if b != h => {
            errors.push(FieldError::new(
                p("idempotency_key"),
                "differs from the Idempotency-Key header",
            ));
            None
        }
        (Some(k), _) => Some((k.to_string(), p("idempotency_key"))),
        (None, Some(k)) => Some((k.to_string(), "Idempotency-Key".to_string())),
        (None, None) => None,
    };
    if let Some((k, path)) = &key
        && (k.is_empty() || k.len() > 255)
    {
        errors.push(FieldError::new(path.clone(), "must be 1 to 255 characters"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let idempotency_key = key.map(|(key, path)| super::idempotency::IdempotencyKey {
        scope: super::idempotency::scope(actor),
        key,
        // A source's duplicate id names the partner's event: the same id is the same event
        // whatever the body (a retry may carry a new timestamp), so it is not fingerprinted.
        fingerprint: if actor.kind == ActorKind::Source {
            String::new()
        } else {
            super::idempotency::fingerprint(&input, &context)
        },
        path,
        expires_at: now + window_ms,
    });
    let id = crate::backend::ids::new_id("evt");
    let env = envelope(&id, now, &input.event_type, context, input.data);
    let endpoints = catalog
        .route(&input.event_type, input.tenant.as_deref(), &env)
        .into_iter()
        .map(|r| (r.endpoint_id.clone(), r.ordered))
        .collect();
    Ok(Prepared {
        id,
        event_type: input.event_type,
        tenant: input.tenant,
        idempotency_key,
        envelope: env.to_string(),
        created_at: now,
        endpoints,
        inbound: None,
        trace_context: None,
    })
}
