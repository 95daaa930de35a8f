//! Server functions for endpoints: list, read, save, delete, and their signing secrets.

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
            state
                .endpoints
                .get(&actor, &crate::types::ids::EndpointId::parse(&id)?)
                .await
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
                Some(id) => {
                    state
                        .endpoints
                        .replace(&actor, &crate::types::ids::EndpointId::parse(&id)?, input)
                        .await
                }
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
            state
                .endpoints
                .delete(&actor, &crate::types::ids::EndpointId::parse(&id)?)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "reveal_endpoint_secret")]
pub async fn reveal_endpoint_secret(id: String) -> Result<EndpointSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .endpoints
                .secret(&actor, &crate::types::ids::EndpointId::parse(&id)?)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "rotate_endpoint_secret")]
pub async fn rotate_endpoint_secret(id: String) -> Result<EndpointSecret, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .endpoints
                .rotate_secret(&actor, &crate::types::ids::EndpointId::parse(&id)?)
                .await
        }
        .await,
    )
}

/// Everything the endpoint page shows, in one call (a page resource that awaits several
/// server functions in turn can outlive the server render that started it).
#[server(prefix = "/api/fn", endpoint = "endpoint_page")]
pub async fn endpoint_page(
    id: String,
) -> Result<
    (
        Option<EndpointView>,
        Vec<crate::types::EventTypeView>,
        Option<Page<crate::types::events::DeliveryView>>,
        Option<crate::types::diagnostics::Diagnosis>,
    ),
    AppError,
> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let types = state.event_types.list(&actor, false).await?;
            if id == "new" {
                return Ok((None, types, None, None));
            }
            let typed = crate::types::ids::EndpointId::parse(&id)?;
            let current = state.endpoints.get(&actor, &typed).await?;
            let recent = state
                .deliveries
                .list(
                    &actor,
                    crate::backend::deliveries::DeliveryQuery {
                        endpoint_id: Some(&id),
                        limit: 50,
                        ..Default::default()
                    },
                )
                .await?;
            let diagnosis = state.diagnose_endpoint(&actor, &typed).await?;
            Ok((Some(current), types, Some(recent), Some(diagnosis)))
        }
        .await,
    )
}
