//! The delivery log: list (with filters), detail with every attempt, retry, and test-fire.

use crate::error::AppError;
use crate::types::Page;
use crate::types::events::{DeliveryDetail, DeliveryView, TestFireResult};
use leptos::prelude::*;
use server_fn::codec::Json;

/// Filters of the delivery log (empty strings mean "any").
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogFilter {
    pub endpoint: String,
    pub status: String,
    pub event_type: String,
    pub event_id: String,
    /// How far back (`1h`, `24h`, `7d`…; empty for all time).
    #[serde(default)]
    pub window: String,
}

#[server(prefix = "/api/fn", endpoint = "list_deliveries", input = Json)]
pub async fn list_deliveries(
    filter: LogFilter,
    cursor: Option<String>,
) -> Result<Page<DeliveryView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            use crate::backend::nonblank;
            state
                .deliveries
                .list(
                    &actor,
                    crate::backend::deliveries::DeliveryQuery {
                        endpoint_id: nonblank(&filter.endpoint),
                        status: nonblank(&filter.status),
                        event_type: nonblank(&filter.event_type),
                        event_id: nonblank(&filter.event_id),
                        since_ms: crate::backend::window_start(&filter.window)?,
                        cursor: cursor.as_deref(),
                        limit: 50,
                    },
                )
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "get_delivery")]
pub async fn get_delivery(id: String) -> Result<DeliveryDetail, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .deliveries
                .get(&actor, &crate::types::ids::DeliveryId::parse(&id)?)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "retry_delivery")]
pub async fn retry_delivery(id: String) -> Result<DeliveryView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .deliveries
                .retry(&actor, &crate::types::ids::DeliveryId::parse(&id)?)
                .await
        }
        .await,
    )
}

/// Sends a test event to an endpoint now. `data` is JSON text (empty: the event type's
/// example); a syntax error is a 422 on `data`.
#[server(prefix = "/api/fn", endpoint = "test_fire_endpoint", input = Json)]
pub async fn test_fire_endpoint(
    id: String,
    event_type: Option<String>,
    data: String,
) -> Result<TestFireResult, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let data = crate::backend::limits::parse_json_field(&data, "data")
                .map_err(|e| AppError::invalid_many(vec![e]))?;
            state
                .test_fire(
                    &actor,
                    &crate::types::ids::EndpointId::parse(&id)?,
                    crate::types::events::TestFire {
                        event_type: event_type.filter(|t| !t.is_empty()),
                        data,
                    },
                )
                .await
        }
        .await,
    )
}

/// Re-queues an endpoint's `dead` (or `failed`) deliveries; progress via [`replay_progress`].
#[server(prefix = "/api/fn", endpoint = "replay_endpoint")]
pub async fn replay_endpoint(
    endpoint: String,
    status: String,
) -> Result<crate::types::events::ReplayView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let status = crate::types::events::ReplayStatus::parse(&status).ok_or_else(|| {
                AppError::invalid(
                    "status",
                    format!("'{status}': use failed, dead or cancelled"),
                )
            })?;
            state
                .deliveries
                .replay(
                    &actor,
                    &crate::types::ids::EndpointId::parse(&endpoint)?,
                    status,
                    None,
                )
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "replay_progress")]
pub async fn replay_progress(id: String) -> Result<crate::types::events::ReplayView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .deliveries
                .replay_progress(&actor, &crate::types::ids::ReplayId::parse(&id)?)
                .await
        }
        .await,
    )
}

/// Delivery metrics over `window` (`1h` or `24h`), overall or for one endpoint.
#[server(prefix = "/api/fn", endpoint = "delivery_stats")]
pub async fn delivery_stats(
    endpoint: Option<String>,
    window: String,
) -> Result<crate::types::events::StatsView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let endpoint = endpoint.as_deref().and_then(crate::backend::nonblank);
            state.stats.get(&actor, endpoint, &window).await
        }
        .await,
    )
}
