//! The delivery log table, live: the first page comes with the page (server-rendered), then
//! changes arrive as server-sent events from `/live/deliveries` and update rows in place
//! (new deliveries on top). Used by the Deliveries page and the endpoint page.

use crate::api::deliveries::{LogFilter, list_deliveries};
use crate::time_fmt;
use crate::types::Page;
use crate::types::events::{DeliveryStatus, DeliveryView};
use leptos::prelude::*;
use leptos_router::components::A;

/// Rows kept on screen at most.
const MAX_ROWS: usize = 200;

/// `initial`: the first page when the caller already has it. Pages that render the log
/// inside their own `Suspend` pass it, so no resource is created after an async boundary
/// (hydration then pairs every resource with its server value by creation order).
#[component]
pub fn DeliveryLog(
    #[prop(into)] filter: Signal<LogFilter>,
    /// Leave out the endpoint column (the endpoint page).
    #[prop(optional)]
    compact: bool,
    #[prop(optional)] initial: Option<Page<DeliveryView>>,
) -> impl IntoView {
    let rows = RwSignal::new(Vec::<DeliveryView>::new());
    let next = RwSignal::new(None::<String>);
    let live = RwSignal::new(false);
    live_updates(filter, rows, live);
    let more = Action::new(move |cursor: &String| {
        let (f, c) = (filter.get_untracked(), cursor.clone());
        async move { list_deliveries(f, Some(c)).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = more.value().get() {
            rows.update(|r| {
                for d in page.items.clone() {
                    if !r.iter().any(|x| x.id == d.id) {
                        r.push(d);
                    }
                }
            });
            next.set(page.next_cursor.clone());
        }
    });
    let body = match initial {
        Some(page) => {
            rows.set(page.items);
            next.set(page.next_cursor);
            table(rows, live, compact).into_any()
        }
        None => {
            let first = Resource::new(move || filter.get(), |f| list_deliveries(f, None));
            view! {
                <Transition fallback=|| view! { <p class="loading">"Loading deliveries…"</p> }>
                    {move || Suspend::new(async move {
                        match first.await {
                            Ok(page) => {
                                rows.set(page.items);
                                next.set(page.next_cursor);
                                table(rows, live, compact).into_any()
                            }
                            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            }
            .into_any()
        }
    };
    view! {
        <div class="delivery-log">{body}</div>
        <div class="delivery-log-more">
            {move || next.get().map(|c| view! {
                <button class="secondary" disabled=move || more.pending().get() on:click=move |_| { more.dispatch(c.clone()); }>
                    "Load older deliveries"
                </button>
            })}
        </div>
    }
}

fn table(rows: RwSignal<Vec<DeliveryView>>, live: RwSignal<bool>, compact: bool) -> impl IntoView {
    view! {
        <p class="muted live-state" data-testid="live-state">
            {move || if live.get() { "● Live: new deliveries and status changes appear here as they happen." } else { "Updates appear here live once the page has loaded." }}
        </p>
        <Show when=move || !rows.with(Vec::is_empty) fallback=move || view! {
            <p class="empty" data-testid="deliveries-empty">
                "No deliveries match. Publish an event (POST /api/v1/events) to an event type an endpoint subscribes to, or test-fire an endpoint: its deliveries appear here live."
            </p>
        }>
            <table class="data deliveries">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Event type"</th>
                        {(!compact).then(|| view! { <th scope="col">"Endpoint"</th> })}
                        <th scope="col">"Status"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Latency"</th>
                        <th scope="col">"Last answer"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || rows.get() key=|d| (d.id.clone(), d.updated_at.0) let:d>
                        {row(d, compact)}
                    </For>
                </tbody>
            </table>
        </Show>
    }
}

pub fn status_badge(status: DeliveryStatus) -> impl IntoView + use<> {
    let class = format!("badge st-{}", status.as_str());
    view! { <span class=class data-testid="delivery-status">{status.label()}</span> }
}

fn row(d: DeliveryView, compact: bool) -> impl IntoView {
    let answer = match (&d.last_status_code, &d.last_error) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(e)) => e.chars().take(60).collect(),
        (None, None) => "—".into(),
    };
    let event_href = format!("/events/{}", d.event_id);
    let event_id = d.event_id.clone();
    view! {
        <tr data-testid="delivery-row" data-event=d.event_id.clone() data-status=d.status.as_str()>
            <td class="nowrap"><A href=format!("/deliveries/{}", d.id)>{time_fmt::utc(d.created_at.0)}</A></td>
            <td class="nowrap"><A href=event_href><code data-testid="delivery-event-id">{event_id}</code></A></td>
            <td><code>{d.event_type.clone()}</code></td>
            {(!compact).then(|| view! { <td><A href=format!("/endpoints/{}", d.endpoint_id)>{d.endpoint_name.clone()}</A></td> })}
            <td>{status_badge(d.status)}</td>
            <td>{d.attempts}</td>
            <td class="nowrap">{d.last_duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
            <td class="muted">{answer}</td>
        </tr>
    }
}

/// Merges changed deliveries into the rows: updated in place, new ones on top; rows that
/// no longer match the status filter leave.
fn merge(rows: &mut Vec<DeliveryView>, changed: Vec<DeliveryView>, filter: &LogFilter) {
    for d in changed {
        let wanted = (filter.status.is_empty() || d.status.as_str() == filter.status)
            && (filter.event_id.trim().is_empty() || d.event_id.as_str() == filter.event_id.trim());
        match rows.iter().position(|r| r.id == d.id) {
            Some(i) if wanted => rows[i] = d,
            Some(i) => {
                rows.remove(i);
            }
            None if wanted => rows.push(d),
            None => {}
        }
    }
    // Ids sort by creation time: newest first.
    rows.sort_by(|a, b| b.id.cmp(&a.id));
    rows.truncate(MAX_ROWS);
}

/// New and changed deliveries from `/live/deliveries` for the filter, merged in.
fn live_updates(
    filter: Signal<LogFilter>,
    rows: RwSignal<Vec<DeliveryView>>,
    live: RwSignal<bool>,
) {
    use super::live::encode;
    let url = Signal::derive(move || {
        let f = filter.get();
        format!(
            "/live/deliveries?endpoint={}&event_type={}",
            encode(&f.endpoint),
            encode(&f.event_type)
        )
    });
    super::live::follow(
        url,
        "deliveries",
        move |changed: Vec<DeliveryView>| {
            let f = filter.get_untracked();
            rows.update(|r| merge(r, changed, &f));
        },
        live,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time_fmt::Timestamp;

    fn d(id: &str, status: &str) -> DeliveryView {
        DeliveryView {
            id: crate::types::ids::DeliveryId::from_db(id.into()),
            event_id: crate::types::ids::EventId::from_db(format!("evt_{id}")),
            event_type: "order.created".into(),
            endpoint_id: crate::types::ids::EndpointId::from_db("ep".into()),
            endpoint_name: "crm".into(),
            status: DeliveryStatus::parse(status).unwrap(),
            attempts: 0,
            next_attempt_at: None,
            last_status_code: None,
            last_error: None,
            last_duration_ms: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn changes_update_in_place_new_on_top_and_leave_the_status_filter() {
        let mut rows = vec![d("dlv_2", "pending"), d("dlv_1", "pending")];
        merge(
            &mut rows,
            vec![d("dlv_1", "succeeded"), d("dlv_3", "pending")],
            &LogFilter::default(),
        );
        let ids: Vec<_> = rows
            .iter()
            .map(|r| (r.id.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("dlv_3", "pending"),
                ("dlv_2", "pending"),
                ("dlv_1", "succeeded")
            ]
        );
        let only_pending = LogFilter {
            status: "pending".into(),
            ..Default::default()
        };
        merge(
            &mut rows,
            vec![d("dlv_2", "succeeded"), d("dlv_4", "dead")],
            &only_pending,
        );
        let ids: Vec<_> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["dlv_3", "dlv_1"],
            "dlv_2 left the filter; dlv_4 never matched"
        );
    }
}
