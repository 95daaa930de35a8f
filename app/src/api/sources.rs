//! Server functions for sources (inbound webhooks): list, read, save, delete, and the
//! inbound log. The same service as `/api/v1/sources`.

use crate::error::AppError;
use crate::types::Page;
use crate::types::sources::{InboundRequestView, SourceInput, SourceView};
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
            state
                .sources
                .get(&actor, &crate::types::ids::SourceId::parse(&id)?)
                .await
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
                        .patch(&actor, &crate::types::ids::SourceId::parse(&id)?, value)
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
            state
                .sources
                .delete(&actor, &crate::types::ids::SourceId::parse(&id)?)
                .await
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
                .requests(&actor, &crate::types::ids::SourceId::parse(&id)?, None, 100)
                .await
        }
        .await,
    )
}
