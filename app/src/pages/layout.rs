//! The signed-in frame: header, navigation and the current page. Visitors without a
//! session are sent to sign in (or to first-run setup while no user exists).

use crate::AuthContext;
use crate::api::auth::Logout;
use crate::types::{Me, Role, SessionInfo};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_navigate;

#[component]
pub fn Layout() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match auth.session.await {
                    Ok(SessionInfo { needs_setup: true, .. }) => {
                        view! { <Redirect path="/setup"/> }.into_any()
                    }
                    Ok(SessionInfo { me: Some(me), .. }) => view! { <Frame me/> }.into_any(),
                    Ok(_) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => {
                        view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(me: Me) -> impl IntoView {
    provide_context(me.clone());
    let auth = expect_context::<AuthContext>();
    let logout = ServerAction::<Logout>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            auth.changed();
            navigate("/login", Default::default());
        }
    });
    let is_admin = me.role == Role::Admin;

    view! {
        <div class="layout">
            <header class="topbar">
                <A href="/" attr:class="brand">"Hookline"</A>
                <div class="whoami">
                    <span class="user-email" data-testid="current-user">{me.email.clone()}</span>
                    <span class=format!("role-badge role-{}", me.role)>{me.role.as_str()}</span>
                    <ActionForm action=logout attr:class="inline">
                        <button type="submit" class="link-button">"Sign out"</button>
                    </ActionForm>
                </div>
            </header>
            <nav class="sidebar" aria-label="Main">
                <A href="/" exact=true>"Overview"</A>
                <A href="/deliveries">"Deliveries"</A>
                <A href="/events">"Events"</A>
                <A href="/endpoints">"Endpoints"</A>
                <A href="/event-types">"Event types"</A>
                <A href="/sources">"Sources"</A>
                <A href="/alerts">"Alerts"</A>
                {is_admin.then(|| view! {
                    <A href="/api-keys">"API keys"</A>
                    <A href="/portal-links">"Portal links"</A>
                    <A href="/users">"Users"</A>
                    <A href="/audit">"Audit log"</A>
                })}
            </nav>
            <main class="content">
                <Outlet/>
            </main>
        </div>
    }
}
