//! Server functions for the dashboard's alerts: the rules with where each fires now (any
//! role), and making or deleting one (admins). The same service as `/api/v1/alert-rules`.

use crate::error::AppError;
use crate::types::alerts::{AlertRuleView, NewAlertRule};
use leptos::prelude::*;
use server_fn::codec::Json;

#[server(prefix = "/api/fn", endpoint = "list_alert_rules")]
pub async fn list_alert_rules() -> Result<Vec<AlertRuleView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.alerts.list(&actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_alert_rule", input = Json)]
pub async fn create_alert_rule(input: NewAlertRule) -> Result<AlertRuleView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.alerts.create(&actor, input).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(id: String) -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let id = crate::types::ids::AlertRuleId::parse(&id)?;
            state.alerts.delete(&actor, &id).await
        }
        .await,
    )
}
