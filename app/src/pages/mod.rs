pub mod dashboard;
pub mod forms;
pub mod home;
pub mod login;
pub mod not_found;
pub mod setup;
pub mod users;

/// On the server, sets the HTTP status of the page being rendered.
pub fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(_code)
    {
        response.set_status(status);
    }
}
