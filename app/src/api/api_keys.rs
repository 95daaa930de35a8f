//! Server functions for API keys: list, create (the key is answered once), revoke.

use crate::error::AppError;
use crate::types::{ApiKeyView, CreatedApiKey};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.api_keys.list(&actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_api_key")]
pub async fn create_api_key(name: String, scope: String) -> Result<CreatedApiKey, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let scope: crate::types::ApiKeyScope = scope
                .parse()
                .map_err(|e: String| AppError::invalid("scope", e))?;
            state.api_keys.create(&actor, &name, scope).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: String) -> Result<ApiKeyView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .api_keys
                .revoke(&actor, &crate::types::ids::ApiKeyId::parse(&id)?)
                .await
        }
        .await,
    )
}
