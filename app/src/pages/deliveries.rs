//! Deliveries page: the live delivery log with filters (endpoint, status, event type, event
//! id) kept in the address, so a filtered view (e.g. the dead letters) can be bookmarked.

use super::delivery_log::DeliveryLog;
use super::forms::WINDOWS;
use super::replay::ReplayPanel;
use crate::api::deliveries::LogFilter;
use crate::api::endpoints::list_endpoints;
use crate::types::events::DeliveryStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Signal::derive(move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        LogFilter {
            endpoint: get("endpoint"),
            status: get("status"),
            event_type: get("event_type"),
            event_id: get("event_id"),
            window: get("window"),
        }
    });
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    view! {
        <Title text="Deliveries"/>
        <div class="page-head">
            <h1>"Deliveries"</h1>
            <A href="/deliveries?status=dead" attr:class="button">"Dead letters"</A>
        </div>
        <Form method="GET" action="/deliveries" attr:class="toolbar filters" attr:aria-label="Filter deliveries">
            <span class="field-pair">
                <label for="f-endpoint">"Endpoint"</label>
                <select id="f-endpoint" name="endpoint">
                    <option value="">"any endpoint"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let selected = filter.get_untracked().endpoint;
                            endpoints.await.map(|page| page.items).unwrap_or_default().into_iter().map(|e| {
                                let chosen = e.id.as_str() == selected;
                                view! { <option value=e.id.clone() selected=chosen>{e.settings.name.clone()}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </span>
            <span class="field-pair">
                <label for="f-status">"Status"</label>
                <select id="f-status" name="status">
                    {move || {
                        let selected = filter.get().status;
                        let any = view! { <option value="" selected=selected.is_empty()>"any status"</option> };
                        let each = DeliveryStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s.as_str() == selected>{s.label()}</option>
                        }).collect_view();
                        (any, each)
                    }}
                </select>
            </span>
            <span class="field-pair">
                <label for="f-window">"Time"</label>
                <select id="f-window" name="window">
                    {move || {
                        let selected = filter.get().window;
                        WINDOWS.iter().map(|(value, label)| view! {
                            <option value=*value selected=*value == selected>{*label}</option>
                        }).collect_view()
                    }}
                </select>
            </span>
            <span class="field-pair">
                <label for="f-type">"Event type"</label>
                <input id="f-type" name="event_type" placeholder="order.created" prop:value=move || filter.get().event_type/>
            </span>
            <span class="field-pair">
                <label for="f-event">"Event id"</label>
                <input id="f-event" name="event_id" placeholder="evt_…" prop:value=move || filter.get().event_id/>
            </span>
            <button type="submit" class="secondary">"Apply"</button>
        </Form>
        <ReplayPanel endpoint=Signal::derive(move || filter.get().endpoint) status=Signal::derive(move || filter.get().status)/>
        <section class="card">
            <DeliveryLog filter/>
        </section>
    }
}

/// The endpoint page's latest deliveries, live.
#[component]
pub fn RecentDeliveries(
    endpoint: String,
    initial: crate::types::Page<crate::types::events::DeliveryView>,
) -> impl IntoView {
    let filter = Signal::stored(LogFilter {
        endpoint: endpoint.clone(),
        ..Default::default()
    });
    view! {
        <section class="card" aria-labelledby="recent-title">
            <div class="page-head">
                <h2 id="recent-title">"Recent deliveries"</h2>
                <A href=format!("/deliveries?endpoint={endpoint}")>"All deliveries of this endpoint"</A>
            </div>
            <DeliveryLog filter compact=true initial/>
        </section>
    }
}
