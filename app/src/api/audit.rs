//! Server function for reading the audit log.

use crate::error::AppError;
use crate::types::{AuditEntryView, Page};
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "list_audit")]
pub async fn list_audit(
    resource: Option<String>,
    cursor: Option<String>,
) -> Result<Page<AuditEntryView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let resource = resource.filter(|r| !r.is_empty());
            state
                .audit
                .list(&actor, resource.as_deref(), cursor.as_deref(), 50)
                .await
        }
        .await,
    )
}
