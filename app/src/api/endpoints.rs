use crate::error::AppError;
use crate::types::Page;
use crate::types::endpoints::{EndpointInput, EndpointSecret, EndpointView};
use leptos::prelude::*;
use server_fn::codec::Json;

#[server(prefix = "/api/fn", endpoint = "list_endpoints")]
pub async fn list_endpoints() -> Result<Page<EndpointView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.endpoints.list(&actor, None, 500).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_endpoint")]
pub async fn get_endpoint(id: String) -> Result<EndpointView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.endpoints.get(&actor, &id).await
        }
        .await,
    )
}

/// Creates (`id` = None) or replaces an endpoint's settings.
#[server(prefix = "/api/fn", endpoint = "save_endpoint", input = Json)]
pub async fn save_endpoint(
    id: Option<String>,
    input: EndpointInput,
) -> Result<EndpointView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            match id {
                None => state.endpoints.create(&actor, input).await,
                Some(id) => state.endpoints.replace(&actor, &id, input).await,
            }
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_endpoint")]
pub async fn delete_endpoint(id: String) -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.endpoints.delete(&actor, &id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "reveal_endpoint_secret")]
pub async fn reveal_endpoint_secret(id: String) -> Result<EndpointSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.endpoints.secret(&actor, &id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "rotate_endpoint_secret")]
pub async fn rotate_endpoint_secret(id: String) -> Result<EndpointSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.endpoints.rotate_secret(&actor, &id).await
        }
        .await,
    )
}
