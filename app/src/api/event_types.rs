//! Server functions for the event catalogue: list, read, and save from the editor's text
//! fields (JSON typed there is checked like a REST body).

use crate::error::AppError;
use crate::types::EventTypeView;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "list_event_types")]
pub async fn list_event_types(include_archived: bool) -> Result<Vec<EventTypeView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.event_types.list(&actor, include_archived).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_event_type")]
pub async fn get_event_type(name: String) -> Result<EventTypeView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.event_types.get(&actor, &name).await
        }
        .await,
    )
}

/// Creates (`original` empty) or replaces (`original` = the name) an event type from the
/// editor's text fields. Schema and example are JSON text; a syntax error is reported on
/// its field like any other validation error. Sensitive fields are one path per line.
#[server(prefix = "/api/fn", endpoint = "save_event_type")]
pub async fn save_event_type(
    original: String,
    name: String,
    description: String,
    schema: String,
    example: String,
    sensitive_fields: Option<String>,
    archived: Option<String>,
) -> Result<EventTypeView, AppError> {
    super::guard::finish(
        async move {
            use crate::types::EventTypeInput;
            let (state, actor) = super::guard::actor().await?;
            let mut errors = Vec::new();
            let mut parse = |field: &str, text: &str| -> Option<serde_json::Value> {
                crate::backend::limits::parse_json_field(text, field)
                    .map_err(|e| errors.push(e))
                    .ok()
                    .flatten()
            };
            let input = EventTypeInput {
                name: Some(name),
                description: Some(description),
                schema: parse("schema", &schema),
                example: parse("example", &example),
                sensitive_fields: Some(
                    sensitive_fields
                        .unwrap_or_default()
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                ),
                archived: Some(archived.is_some_and(|v| v == "on" || v == "true")),
            };
            if !errors.is_empty() {
                return Err(AppError::invalid_many(errors));
            }
            if original.is_empty() {
                state.event_types.create(&actor, input).await
            } else {
                state.event_types.update(&actor, &original, input).await
            }
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_event_type")]
pub async fn delete_event_type(name: String) -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.event_types.delete(&actor, &name).await
        }
        .await,
    )
}
