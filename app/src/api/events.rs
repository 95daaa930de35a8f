//! The events page: recent events by type and time window, and one event with its payload.

use crate::error::AppError;
use crate::types::Page;
use crate::types::events::{EventDetail, EventSummary};
use leptos::prelude::*;

/// `window`: how far back (`1h`, `24h`, `7d`…; empty for all time).
#[server(prefix = "/api/fn", endpoint = "list_events")]
pub async fn list_events(
    event_type: String,
    window: String,
    cursor: Option<String>,
) -> Result<Page<EventSummary>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let since = match window.trim() {
                "" => None,
                w => {
                    let d =
                        crate::duration::parse(w).map_err(|e| AppError::invalid("window", e))?;
                    Some(crate::time_fmt::Timestamp(
                        crate::backend::now_ms() - d.as_millis() as i64,
                    ))
                }
            };
            let event_type = Some(event_type.trim()).filter(|t| !t.is_empty());
            state
                .events
                .list(&actor, event_type, since, None, cursor.as_deref(), 50)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_event")]
pub async fn get_event(id: String) -> Result<EventDetail, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.events.get(&actor, id.trim()).await
        }
        .await,
    )
}
