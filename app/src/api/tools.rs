//! The dashboard's live previews: a filter or a template tried on an event type's example
//! or on a pasted payload (the same service the REST tools call).

use crate::error::AppError;
use crate::types::events::FilterVerdict;
use leptos::prelude::*;
use server_fn::codec::Json;

#[cfg(feature = "ssr")]
fn json_field(text: &str, path: &str) -> Result<Option<serde_json::Value>, AppError> {
    crate::backend::limits::parse_json_field(text, path)
        .map_err(|e| AppError::invalid_many(vec![e]))
}

/// `filter`, `payload`: JSON text; an empty payload uses `event_type`'s example.
#[server(prefix = "/api/fn", endpoint = "preview_filter", input = Json)]
pub async fn preview_filter(
    filter: String,
    event_type: String,
    payload: String,
) -> Result<FilterVerdict, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let filter = json_field(&filter, "filter")?.unwrap_or(serde_json::Value::Null);
            let payload = json_field(&payload, "payload")?;
            let event_type = crate::backend::nonblank(&event_type);
            let verdict = crate::backend::endpoints::preview::test_filter(
                &state.event_types,
                &actor,
                &filter,
                payload,
                event_type,
            )
            .await?;
            serde_json::to_value(verdict)
                .and_then(serde_json::from_value)
                .map_err(|e| AppError::internal("filter verdict", e))
        }
        .await,
    )
}

/// The rendered body, pretty-printed.
#[server(prefix = "/api/fn", endpoint = "preview_template", input = Json)]
pub async fn preview_template(
    template: String,
    event_type: String,
    payload: String,
) -> Result<String, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let template = json_field(&template, "template")?
                .ok_or_else(|| AppError::invalid("template", "write a template to preview"))?;
            let payload = json_field(&payload, "payload")?;
            let event_type = crate::backend::nonblank(&event_type);
            let body = crate::backend::endpoints::preview::preview_template(
                &state.event_types,
                &actor,
                &template,
                payload,
                event_type,
                state.limits.max_rendered_bytes,
            )
            .await?;
            Ok(serde_json::to_string_pretty(&body).unwrap_or_default())
        }
        .await,
    )
}
