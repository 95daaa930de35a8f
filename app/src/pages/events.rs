//! Events: search by type, time window and id; one event's payload and where it went.

use super::delivery_log::DeliveryLog;
use super::forms::WINDOWS;
use crate::api::deliveries::LogFilter;
use crate::api::events::{get_event, list_events};
use crate::time_fmt;
use crate::types::events::EventSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let search = Signal::derive(move || (get("event_type"), get("window"), get("id")));
    let page = Resource::new(
        move || search.get(),
        |(event_type, window, id)| async move {
            if id.trim().is_empty() {
                list_events(event_type, window, None).await.map(|p| p.items)
            } else {
                // An id search: that event alone (or nothing).
                match get_event(id).await {
                    Ok(e) => Ok(vec![e.summary]),
                    Err(crate::error::AppError::NotFound(_)) => Ok(Vec::new()),
                    Err(e) => Err(e),
                }
            }
        },
    );
    view! {
        <Title text="Events"/>
        <h1>"Events"</h1>
        <Form method="GET" action="/events" attr:class="toolbar filters" attr:aria-label="Search events">
            <label for="e-type">"Event type"</label>
            <input id="e-type" name="event_type" placeholder="order.created" prop:value=move || search.get().0/>
            <label for="e-window">"Time"</label>
            <select id="e-window" name="window">
                {move || {
                    let selected = search.get().1;
                    WINDOWS.iter().map(|(v, l)| view! { <option value=*v selected=*v == selected>{*l}</option> }).collect_view()
                }}
            </select>
            <label for="e-id">"Event id"</label>
            <input id="e-id" name="id" placeholder="evt_…" prop:value=move || search.get().2/>
            <button type="submit" class="secondary">"Search"</button>
        </Form>
        <section class="card">
            <Transition fallback=|| view! { <p class="loading">"Loading events…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(items) if items.is_empty() => view! {
                            <p class="empty" data-testid="events-empty">"No events match. Systems publish with POST /api/v1/events (see the README); each accepted event is listed here with where it went."</p>
                        }.into_any(),
                        Ok(items) => view! {
                            <table class="data">
                                <thead><tr>
                                    <th scope="col">"Time (UTC)"</th><th scope="col">"Event"</th><th scope="col">"Type"</th><th scope="col">"Tenant"</th>
                                </tr></thead>
                                <tbody>{items.into_iter().map(event_row).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn event_row(e: EventSummary) -> impl IntoView {
    view! {
        <tr data-testid="event-row">
            <td class="nowrap">{time_fmt::utc(e.event_time.0)}</td>
            <td><A href=format!("/events/{}", e.id)><code>{e.id.clone()}</code></A></td>
            <td><code>{e.event_type}</code></td>
            <td>{e.tenant.unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, get_event);
    view! {
        <p><A href="/events">"← Events"</A></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(e) => {
                        let filter = Signal::stored(LogFilter { event_id: e.summary.id.to_string(), ..Default::default() });
                        // Where it went, from the event itself (newest first, like the log).
                        let mut items = e.deliveries.clone();
                        items.reverse();
                        let initial = crate::types::Page { items, next_cursor: None };
                        let payload = serde_json::to_string_pretty(&e.envelope).unwrap_or_default();
                        view! {
                            <Title text=format!("Event {}", e.summary.id)/>
                            <h1>"Event " <code>{e.summary.id.clone()}</code></h1>
                            <section class="card">
                                <dl class="facts">
                                    <dt>"Type"</dt><dd><code>{e.summary.event_type.clone()}</code></dd>
                                    <dt>"Time"</dt><dd>{time_fmt::utc(e.summary.event_time.0)}</dd>
                                    <dt>"Tenant"</dt><dd>{e.summary.tenant.clone().unwrap_or_else(|| "—".into())}</dd>
                                    {e.summary.idempotency_key.clone().map(|k| view! { <dt>"Idempotency key"</dt><dd><code>{k}</code></dd> })}
                                </dl>
                                <h2>"Payload (the envelope)"</h2>
                                {payload.contains("\"***\"").then(|| view! {
                                    <p class="muted">"Values shown as *** are sensitive fields of this event type; only admins see them."</p>
                                })}
                                <pre class="json" data-testid="event-payload">{payload}</pre>
                            </section>
                            <section class="card">
                                <h2>"Where it went"</h2>
                                <DeliveryLog filter initial/>
                            </section>
                        }.into_any()
                    }
                    Err(e) => {
                        super::set_status(e.status());
                        view! { <h1>"Event"</h1><p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
