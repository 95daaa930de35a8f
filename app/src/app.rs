//! The Leptos application: the HTML shell the server renders, the routes (the public sign-in
//! and setup pages, and every dashboard page inside the signed-in layout), and the session
//! context pages read.

use crate::api::auth::get_session;
use crate::error::AppError;
use crate::pages::{
    alerts::AlertsPage,
    api_keys::ApiKeysPage,
    audit::AuditPage,
    deliveries::DeliveriesPage,
    delivery::DeliveryPage,
    endpoints::{EndpointPage, EndpointsPage},
    event_types::{EventTypeEditPage, EventTypesPage},
    events::{EventPage, EventsPage},
    layout::Layout,
    login::LoginPage,
    not_found::NotFound,
    overview::Overview,
    portal::PortalPage,
    portal_links::PortalLinksPage,
    setup::SetupPage,
    sources::{SourcePage, SourcesPage},
    users::UsersPage,
};
use crate::types::SessionInfo;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The stylesheet's file name under `/pkg`, provided as context by the server: the packed
/// bundle names it by its content (`hookline-<hash>.css`) so browsers may keep it for good.
/// The glue and the wasm are named through `LeptosOptions::output_name` instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stylesheet(pub String);

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let css = use_context::<Stylesheet>().map_or_else(|| "hookline.css".to_owned(), |s| s.0);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="data:,"/>
                <link rel="stylesheet" href=format!("/pkg/{css}")/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Who is signed in. Bumping `epoch` re-reads the session (after sign-in or sign-out).
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub epoch: RwSignal<u32>,
    pub session: Resource<Result<SessionInfo, AppError>>,
}

impl AuthContext {
    pub fn changed(&self) {
        self.epoch.update(|n| *n += 1);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let epoch = RwSignal::new(0u32);
    let session = Resource::new(move || epoch.get(), |_| get_session());
    provide_context(AuthContext { epoch, session });

    // Effects run only in the browser: this flips once the wasm has hydrated the page,
    // which end-to-end tests wait for before clicking.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Hookline".to_string() } else { format!("{page} · Hookline") }
        }/>
        <div id="app" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <Router>
                <Routes fallback=NotFound>
                    // Async: the server resolves the session before answering, so an
                    // anonymous visitor gets a real 302 to /login (no JavaScript needed)
                    // and every page arrives fully rendered.
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                    <Route path=path!("/portal") view=PortalPage ssr=SsrMode::Async/>
                    <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                        <Route path=path!("") view=Overview ssr=SsrMode::Async/>
                        <Route path=path!("users") view=UsersPage ssr=SsrMode::Async/>
                        <Route path=path!("event-types") view=EventTypesPage ssr=SsrMode::Async/>
                        <Route path=path!("event-types/:name") view=EventTypeEditPage ssr=SsrMode::Async/>
                        <Route path=path!("endpoints") view=EndpointsPage ssr=SsrMode::Async/>
                        <Route path=path!("endpoints/:id") view=EndpointPage ssr=SsrMode::Async/>
                        <Route path=path!("api-keys") view=ApiKeysPage ssr=SsrMode::Async/>
                        <Route path=path!("alerts") view=AlertsPage ssr=SsrMode::Async/>
                        <Route path=path!("portal-links") view=PortalLinksPage ssr=SsrMode::Async/>
                        <Route path=path!("audit") view=AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("deliveries") view=DeliveriesPage ssr=SsrMode::Async/>
                        <Route path=path!("deliveries/:id") view=DeliveryPage ssr=SsrMode::Async/>
                        <Route path=path!("events") view=EventsPage ssr=SsrMode::Async/>
                        <Route path=path!("sources") view=SourcesPage ssr=SsrMode::Async/>
                        <Route path=path!("sources/:id") view=SourcePage ssr=SsrMode::Async/>
                        <Route path=path!("events/:id") view=EventPage ssr=SsrMode::Async/>
                    </ParentRoute>
                </Routes>
            </Router>
        </div>
    }
}
