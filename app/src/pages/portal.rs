//! The tenant portal: the same app under its own minimal layout, with no way into the
//! dashboard. It opens from a portal link (`/portal?link=…`, which the server turns into
//! the portal cookie and a redirect here) and shows one tenant only, as the server scopes
//! every portal server function to the link's tenant.

use crate::api::portal::portal_overview;
use crate::error::AppError;
use crate::time_fmt;
use crate::types::portal::PortalSummary;
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

#[component]
pub fn PortalPage() -> impl IntoView {
    let query = use_query_map();
    let refused = move || query.with(|q| q.get("refused"));
    let summary = Resource::new(|| (), |_| portal_overview());
    view! {
        <Title text="Portal"/>
        <div class="portal">
            <header class="portal-bar"><strong>"Hookline"</strong> " · webhook portal"</header>
            <main>
                {move || match refused() {
                    Some(kind) => {
                        super::set_status(401);
                        view! { <p class="form-error" role="alert" data-testid="portal-refused">{refusal(&kind)}</p> }.into_any()
                    }
                    None => view! {
                        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                            {move || Suspend::new(async move {
                                match summary.await {
                                    Ok(s) => view! { <Summary s/> }.into_any(),
                                    Err(e) => {
                                        super::set_status(if matches!(e, AppError::Unauthorized) { 401 } else { 403 });
                                        view! { <p class="form-error" role="alert" data-testid="portal-refused">{why(&e)}</p> }.into_any()
                                    }
                                }
                            })}
                        </Suspense>
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
fn Summary(s: PortalSummary) -> impl IntoView {
    let granted = s
        .capabilities
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let endpoints = s.endpoints.clone();
    view! {
        <h1 data-testid="portal-tenant">{s.tenant.clone()}</h1>
        <p class="muted">
            {if s.read_only { "Read-only access".to_owned() } else { format!("Access: {granted}") }}
            " · until " {time_fmt::utc(s.expires_at.0)}
        </p>
        <section class="card">
            <h2>"Endpoints"</h2>
            {if endpoints.is_empty() {
                view! { <p class="empty">"No endpoints yet."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr><th>"Name"</th><th>"URL"</th><th>"Events"</th><th>"Status"</th></tr></thead>
                        <tbody>
                            {endpoints.into_iter().map(|e| {
                                let row = e.name.clone();
                                view! {
                                <tr data-endpoint=row>
                                    <td>{e.name}</td>
                                    <td><code>{e.url}</code></td>
                                    <td>{if e.event_types.is_empty() { "all".to_owned() } else { e.event_types.join(", ") }}</td>
                                    <td>{if e.enabled { "enabled" } else { "disabled" }}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
