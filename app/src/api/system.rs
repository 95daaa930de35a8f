//! Server function for the overview's facts about this installation.

use crate::error::AppError;
use crate::types::SystemInfo;
use leptos::prelude::*;

/// Version and storage backend, for the overview page. Any signed-in role.
#[server(prefix = "/api/fn", endpoint = "get_system_info")]
pub async fn get_system_info() -> Result<SystemInfo, AppError> {
    super::guard::finish(
        async move {
            let (state, _actor) = super::guard::actor().await?;
            Ok(SystemInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                database: state.db.backend_name().to_string(),
                users: state.users.count().await?,
            })
        }
        .await,
    )
}
