//! The tenant portal: the same app under its own minimal layout, with no way into the
//! dashboard. It opens from a portal link (`/portal?link=…`, which the server turns into
//! the portal cookie and a redirect here) and shows one tenant only, as the server scopes
//! every portal server function to the link's tenant. What the link grants decides which
//! controls appear; the server checks the same again on every call.

mod attempts;
mod deliveries;
mod endpoints;

use crate::api::portal::portal_overview;
use crate::error::AppError;
use crate::time_fmt;
use crate::types::portal::{PortalCapability, PortalSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the server says when it refused a link (`/portal?refused=…`).
fn refusal(kind: &str) -> &'static str {
    match kind {
        "expired" => "This portal link has expired. Ask for a new one.",
        "revoked" => "This portal link was revoked. Ask for a new one.",
        _ => "This is not a valid portal link.",
    }
}

/// What the portal's parts share: the grant, and a counter that reloads the summary and
/// the deliveries after a change.
#[derive(Clone, Copy)]
struct Portal {
    changed: RwSignal<u32>,
    capabilities: StoredValue<Vec<PortalCapability>>,
}

impl Portal {
    fn may(&self, capability: PortalCapability) -> bool {
        self.capabilities.with_value(|c| c.contains(&capability))
    }

    fn reload(&self) {
        self.changed.update(|n| *n += 1);
    }
}

#[component]
pub fn PortalPage() -> impl IntoView {
    let query = use_query_map();
    let refused = move || query.with(|q| q.get("refused"));
    let changed = RwSignal::new(0u32);
    let summary = Resource::new(move || changed.get(), |_| portal_overview());
    // Effects run only in the browser: end-to-end tests wait for this before clicking.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <Title text="Portal"/>
        <div class="portal" data-ready=move || ready.get().to_string()>
            <header class="portal-bar"><strong>"Hookline"</strong> " · webhook portal"</header>
            <main>
                {move || match refused() {
                    Some(kind) => {
                        super::set_status(401);
                        view! { <p class="form-error" role="alert" data-testid="portal-refused">{refusal(&kind)}</p> }.into_any()
                    }
                    None => view! {
                        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                            {move || Suspend::new(async move {
                                match summary.await {
                                    Ok(s) => view! { <Summary s changed/> }.into_any(),
                                    Err(e) => {
                                        super::set_status(if matches!(e, AppError::Unauthorized) { 401 } else { 403 });
                                        view! { <p class="form-error" role="alert" data-testid="portal-refused">{why(&e)}</p> }.into_any()
                                    }
                                }
                            })}
                        </Transition>
                    }.into_any(),
                }}
            </main>
        </div>
    }
}

fn why(e: &AppError) -> String {
    match e {
        AppError::Unauthorized => "Open the portal from the link you were given.".to_owned(),
        other => other.to_string(),
    }
}

#[component]
fn Summary(s: PortalSummary, changed: RwSignal<u32>) -> impl IntoView {
    let granted = s
        .capabilities
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let portal = Portal {
        changed,
        capabilities: StoredValue::new(s.capabilities.clone()),
    };
    view! {
        <h1 data-testid="portal-tenant">{s.tenant.clone()}</h1>
        <p class="muted">
            {if s.read_only { "Read-only access".to_owned() } else { format!("Access: {granted}") }}
            " · until " {time_fmt::utc(s.expires_at.0)}
        </p>
        <endpoints::Endpoints portal endpoints=s.endpoints event_types=s.event_types/>
        <deliveries::Deliveries portal/>
    }
    .into_any()
}
