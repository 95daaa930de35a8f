//! Server functions for signing in and out, the current session, and first-run setup.

use crate::error::AppError;
use crate::types::{Me, SessionInfo};
use leptos::prelude::*;

/// Who is signed in, and whether first-run setup is still open.
#[server(prefix = "/api/fn", endpoint = "get_session")]
pub async fn get_session() -> Result<SessionInfo, AppError> {
    super::guard::finish(
        async move {
            let state = super::guard::state()?;
            let session = super::guard::session().await?;
            let me = state.auth.session_user(&session).await?;
            let needs_setup = match me {
                Some(_) => false,
                None => state.auth.needs_setup().await?,
            };
            Ok(SessionInfo { me, needs_setup })
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<Me, AppError> {
    super::guard::finish(
        async move {
            let state = super::guard::state()?;
            let session = super::guard::session().await?;
            let ip = super::guard::client_ip().await;
            let me = state.auth.login(ip, &email, password).await?;
            state.auth.start_session(&session, &me).await?;
            Ok(me)
        }
        .await,
    )
}

#[server(prefix = "/api/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    super::guard::finish(
        async move {
            let state = super::guard::state()?;
            let session = super::guard::session().await?;
            state.auth.end_session(&session).await
        }
        .await,
    )
}

/// First run only: creates the first admin with the setup token from the server log, and
/// signs them in.
#[server(prefix = "/api/fn", endpoint = "create_first_admin")]
pub async fn create_first_admin(
    token: String,
    email: String,
    password: String,
) -> Result<Me, AppError> {
    super::guard::finish(
        async move {
            let state = super::guard::state()?;
            let session = super::guard::session().await?;
            let me = state
                .auth
                .create_first_admin(&token, &email, password)
                .await?;
            state.auth.start_session(&session, &me).await?;
            Ok(me)
        }
        .await,
    )
}
