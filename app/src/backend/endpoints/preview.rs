//! Trying a filter or a template on a payload before saving it on an endpoint: the REST
//! tools (`/api/v1/filters/test`, `/api/v1/templates/preview`) and the dashboard's live
//! previews both come here. Any role.

use crate::backend::catalog::event_types::EventTypes;
use crate::backend::endpoints::template;
use crate::backend::{Actor, filter};
use crate::error::{AppError, AppResult};
use crate::types::Role;
use serde_json::{Value, json};

/// What to evaluate against: an envelope, or an event type's example in a sample envelope.
pub async fn sample_envelope(
    types: &EventTypes,
    actor: &Actor,
    payload: Option<Value>,
    event_type: Option<&str>,
) -> AppResult<Value> {
    match (payload, event_type) {
        (Some(p), _) => Ok(p),
        (None, Some(name)) => {
            let t = types.get(actor, name).await?;
            let data = t.example.ok_or_else(|| {
                AppError::invalid(
                    "event_type",
                    format!("{name} has no example; send a payload"),
                )
            })?;
            Ok(crate::backend::envelope::envelope(
                "evt_sample",
                crate::backend::now_ms(),
                name,
                json!({}),
                data,
            ))
        }
        (None, None) => Err(AppError::invalid(
            "payload",
            "send a payload (an event envelope) or an event_type whose example to use",
        )),
    }
}

/// Whether `filter` lets the sample through, and why.
pub async fn test_filter(
    types: &EventTypes,
    actor: &Actor,
    filter_json: &Value,
    payload: Option<Value>,
    event_type: Option<&str>,
) -> AppResult<filter::Verdict> {
    actor.require(Role::Viewer)?;
    let f = filter::parse(filter_json, "filter").map_err(AppError::invalid_many)?;
    let envelope = sample_envelope(types, actor, payload, event_type).await?;
    Ok(f.explain(&envelope))
}

/// The body `template` renders for the sample, at most `max_bytes` of it (the limit every
/// delivery has too).
pub async fn preview_template(
    types: &EventTypes,
    actor: &Actor,
    template_json: &Value,
    payload: Option<Value>,
    event_type: Option<&str>,
    max_bytes: usize,
) -> AppResult<Value> {
    actor.require(Role::Viewer)?;
    template::check(template_json, "template").map_err(AppError::invalid_many)?;
    let envelope = sample_envelope(types, actor, payload, event_type).await?;
    template::render(template_json, &envelope, "template", max_bytes)
        .map_err(AppError::invalid_many)
}

/// A template that already renders past `max_bytes` for the example of an event type it
/// will receive is refused when its endpoint is saved, instead of failing on every
/// delivery later.
pub async fn template_over_limit(
    db: &crate::backend::Db,
    template: &Value,
    subscribed: &[String],
    max_bytes: usize,
) -> AppResult<Option<crate::types::FieldError>> {
    // The event types as their service reads them: this module owns no table.
    let types = crate::backend::catalog::event_types::EventTypes::new(db.clone())
        .all()
        .await?;
    for t in types {
        let (name, Some(data)) = (t.name, t.example) else {
            continue;
        };
        if !crate::types::endpoints::subscribes(subscribed, &name) {
            continue;
        }
        let sample = crate::backend::envelope::envelope(
            "evt_sample",
            crate::backend::now_ms(),
            &name,
            json!({}),
            data,
        );
        if let Some(mut error) = template::over_limit(template, &sample, "template", max_bytes) {
            error.message = format!("{} (with the example of {name})", error.message);
            return Ok(Some(error));
        }
    }
    Ok(None)
}
