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
            let since = crate::backend::window_start(&window)?.map(crate::time_fmt::Timestamp);
            let event_type = crate::backend::nonblank(&event_type);
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
            state
                .events
                .get(&actor, &crate::types::ids::EventId::parse(id.trim())?)
                .await
        }
        .await,
    )
}
