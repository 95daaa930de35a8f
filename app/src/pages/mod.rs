//! The dashboard's pages, one module per page or shared piece, and two helpers every page
//! uses: the HTTP status of a server-rendered page, and the forbidden notice.

pub mod alerts;
pub mod api_keys;
pub mod attempt_card;
pub mod audit;
pub mod deliveries;
pub mod delivery;
pub mod delivery_log;
pub mod diagnosis;
pub mod endpoint_form;
pub mod endpoint_secret;
pub mod endpoint_test_fire;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod filter_builder;
pub mod forms;
pub mod layout;
pub mod live;
pub mod login;
pub mod metrics;
pub mod not_found;
pub mod overview;
pub mod portal;
pub mod portal_links;
pub mod replay;
pub mod setup;
pub mod signature_help;
pub mod sources;
pub mod template_preview;
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

/// The page shown to a signed-in user whose role does not allow it (403 on the server).
pub fn forbidden(title: &'static str, why: &'static str) -> impl leptos::IntoView {
    use leptos::prelude::*;
    set_status(403);
    view! {
        <leptos_meta::Title text="Forbidden"/>
        <h1>{title}</h1>
        <p class="form-error" role="alert" data-testid="forbidden">"Forbidden: " {why}</p>
    }
}
