//! Endpoints: the list (any role) and the page of one endpoint (settings, secret, delete).

use super::deliveries::RecentDeliveries;
use super::diagnosis::DiagnosisPanel;
use super::endpoint_form::EndpointForm;
use super::endpoint_secret::SecretPanel;
use super::endpoint_test_fire::TestFirePanel;
use super::forms::TableHead;
use super::metrics::{MetricsPanel, stats_resource};
use crate::api::endpoints::{endpoint_page, list_endpoints};
use crate::types::endpoints::EndpointView;
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn EndpointsPage() -> impl IntoView {
    let me = expect_context::<Me>();
    let can_edit = me.role.allows(Role::Editor);
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    view! {
        <Title text="Endpoints"/>
        <div class="page-head">
            <h1>"Endpoints"</h1>
            {can_edit.then(|| view! { <A href="/endpoints/new" attr:class="button primary">"New endpoint"</A> })}
        </div>
        <p class="muted">"Each endpoint is a URL that receives the events it subscribes to, signed with its own secret."</p>
        <section class="card">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Ok(page) if page.items.is_empty() => view! {
                            <p class="empty">
                                "No endpoints yet. "
                                {if can_edit { "Add the URL of a system that should receive events." } else { "An editor or admin can add them." }}
                            </p>
                        }.into_any(),
                        Ok(page) => view! { <EndpointTable list=page.items/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EndpointTable(list: Vec<EndpointView>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|e| {
            let href = format!("/endpoints/{}", e.id);
            let s = e.settings;
            let status = match (s.enabled, e.disabled_reason) {
                (true, _) => view! { <span class="status ok">"enabled"</span> }.into_any(),
                (false, Some(why)) => {
                    let title = why.clone();
                    view! { <span class="status off" title=title>"disabled: " {why}</span> }
                        .into_any()
                }
                (false, None) => view! { <span class="status off">"disabled"</span> }.into_any(),
            };
            let name = s.name.clone();
            view! {
                <tr data-endpoint=s.name.clone()>
                    <td><A href=href>{name}</A></td>
                    <td class="url"><code>{s.url}</code></td>
                    <td>{s.event_types.join(", ")}</td>
                    <td>{s.tenant.unwrap_or_else(|| "all".into())}</td>
                    <td>{status}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Name", "URL", "Event types", "Tenant", "Status"]/>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// `/endpoints/new` and `/endpoints/:id`.
#[component]
pub fn EndpointPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    // Everything the page shows, in one server call.
    let data = Resource::new(id, endpoint_page);
    let window = RwSignal::new("24h".to_string());
    let stats = stats_resource(
        Signal::derive(move || Some(id()).filter(|i| i != "new")),
        window,
    );
    view! {
        <p><A href="/endpoints">"← Endpoints"</A></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((current, types, recent, diagnosis)) => {
                        let names: Vec<String> = types.iter().map(|t| t.name.clone()).collect();
                        let title = current.as_ref().map(|c| c.settings.name.clone()).unwrap_or_else(|| "New endpoint".into());
                        let secret = current.as_ref().map(|c| c.id.clone());
                        let test_fire = current.as_ref().zip(recent).map(|(c, recent)| (c.id.clone(), c.settings.event_types.clone(), recent));
                        view! {
                            <Title text=title.clone()/>
                            <h1>{title}</h1>
                            {current.as_ref().and_then(|c| c.disabled_reason.clone()).map(|why| view! {
                                <p class="form-error" role="status">"Disabled by Hookline: " {why}</p>
                            })}
                            // Health first: how this endpoint is doing, then what to try and change.
                            {current.is_some().then(|| view! { <MetricsPanel stats window title="Health and metrics"/> })}
                            {current.as_ref().zip(diagnosis).map(|(c, d)| view! { <DiagnosisPanel id=c.id.to_string() initial=d/> })}
                            {test_fire.map(|(id, subscribed, recent)| view! {
                                <TestFirePanel id=id.to_string() subscribed event_types=types.clone()/>
                                <RecentDeliveries endpoint=id.to_string() initial=recent/>
                            })}
                            <EndpointForm current event_types=names catalog=types/>
                            {secret.map(|id| view! { <SecretPanel id=id.to_string()/> })}
                        }.into_any()
                    }
                    Err(e) => {
                        super::set_status(e.status());
                        view! { <h1>"Endpoint"</h1><p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
