//! Server functions for the dashboard's diagnostics: an endpoint's diagnosis from its
//! attempt log (any role), and "check my endpoint" (one test request now; editors).

use crate::error::AppError;
use crate::types::diagnostics::{Diagnosis, EndpointCheck};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "diagnose_endpoint")]
pub async fn diagnose_endpoint(id: String) -> Result<Diagnosis, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.diagnose_endpoint(&actor, &id).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "check_endpoint")]
pub async fn check_endpoint(id: String) -> Result<EndpointCheck, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let id = crate::types::ids::EndpointId::parse(&id)?;
            state.check_endpoint(&actor, &id).await
        }
        .await,
    )
}
