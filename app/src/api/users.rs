//! Server functions for managing users (admins only; the service checks).

use crate::error::AppError;
use crate::types::UserView;
use leptos::prelude::*;

#[server(prefix = "/api/fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state.users.list(&actor).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "create_user")]
pub async fn create_user(
    email: String,
    password: String,
    role: String,
) -> Result<UserView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let new = crate::backend::access::users::NewUser::parse(&email, password, &role)?;
            state.users.create(&actor, new).await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "set_user_role")]
pub async fn set_user_role(id: String, role: String) -> Result<UserView, AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            let role = role
                .parse()
                .map_err(|e: String| AppError::invalid("role", e))?;
            state
                .users
                .set_role(&actor, &crate::types::ids::UserId::parse(&id)?, role)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "delete_user")]
pub async fn delete_user(id: String) -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let (state, actor) = super::guard::actor().await?;
            state
                .users
                .delete(&actor, &crate::types::ids::UserId::parse(&id)?)
                .await
        }
        .await,
    )
}
