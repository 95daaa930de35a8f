//! Server functions for sources (inbound webhooks): list, read, save, delete, the inbound
//! log and its replay, the signed sample, the preview, and the secret (reveal, rotate,
//! retire). The same service as `/api/v1/sources`.

use crate::error::AppError;
use crate::types::Page;
#[cfg(feature = "ssr")]
use crate::types::ids::SourceId;
use crate::types::sources::{
    InboundPreview, InboundRequestView, PreviewInbound, SourceInput, SourceSecret, SourceView,
};
use leptos::prelude::*;
use server_fn::codec::Json;

#[server(prefix = "/api/fn", endpoint = "list_sources")]
pub async fn list_sources() -> Result<Page<SourceView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.sources.list(&actor, None, 500).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_source")]
pub async fn get_source(id: String) -> Result<SourceView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.sources.get(&actor, &SourceId::parse(&id)?).await
        }
        .await,
    )
}

/// Creates (`id` = None) or replaces a source's settings; secrets sent back as `***` keep
/// their stored values.
#[server(prefix = "/api/fn", endpoint = "save_source", input = Json)]
pub async fn save_source(id: Option<String>, input: SourceInput) -> Result<SourceView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            match id {
                None => state.sources.create(&actor, input).await,
                Some(id) => {
                    let value = serde_json::to_value(&input)
                        .map_err(|e| AppError::internal("encoding source", e))?;
                    state
                        .sources
                        .patch(&actor, &SourceId::parse(&id)?, value)
                        .await
                }
            }
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_source")]
pub async fn delete_source(id: String) -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.sources.delete(&actor, &SourceId::parse(&id)?).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "source_requests")]
pub async fn source_requests(id: String) -> Result<Page<InboundRequestView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .sources
                .requests(&actor, &SourceId::parse(&id)?, None, 100)
                .await
        }
        .await,
    )
}

/// Replays logged request `request` of source `id`: its new log entry.
#[server(prefix = "/api/fn", endpoint = "replay_inbound")]
pub async fn replay_inbound(id: String, request: String) -> Result<InboundRequestView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let request = crate::types::ids::InboundRequestId::parse(&request)?;
            state
                .sources
                .replay(&actor, &state.events, &SourceId::parse(&id)?, &request)
                .await
        }
        .await,
    )
}

/// "Send a signed sample" (or, `tampered`, one with a byte changed after signing).
#[server(prefix = "/api/fn", endpoint = "send_source_sample")]
pub async fn send_source_sample(
    id: String,
    tampered: bool,
) -> Result<InboundRequestView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .sources
                .send_sample(&actor, &state.events, &SourceId::parse(&id)?, tampered)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "preview_source_request", input = Json)]
pub async fn preview_source_request(request: PreviewInbound) -> Result<InboundPreview, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.sources.preview(&actor, &state.events, request).await
        }
        .await,
    )
}

/// Reveals the secret (audited).
#[server(prefix = "/api/fn", endpoint = "reveal_source_secret")]
pub async fn reveal_source_secret(id: String) -> Result<SourceSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.sources.secret(&actor, &SourceId::parse(&id)?).await
        }
        .await,
    )
}

/// Rotates the secret to `secret`, or to one Hookline makes up when it is empty.
#[server(prefix = "/api/fn", endpoint = "rotate_source_secret")]
pub async fn rotate_source_secret(id: String, secret: String) -> Result<SourceSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let secret = Some(secret).filter(|s| !s.trim().is_empty());
            state
                .sources
                .rotate_secret(&actor, &SourceId::parse(&id)?, secret)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "retire_source_secret")]
pub async fn retire_source_secret(id: String) -> Result<SourceView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .sources
                .retire_previous_secret(&actor, &SourceId::parse(&id)?)
                .await
        }
        .await,
    )
}
