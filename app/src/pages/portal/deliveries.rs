//! The portal's deliveries: the tenant's newest (100 a page, older ones a click away, of
//! one status if asked), reloaded every two seconds while the page is open, each with its
//! last answer and its attempt log a click away; a failed or dead one can be sent again
//! when the link grants replay.

use super::Portal;
use super::attempts::DeliveryAttempts;
use crate::api::portal::{PortalRetry, portal_deliveries};
use crate::pages::delivery_log::status_badge;
use crate::pages::forms::FormMessage;
use crate::time_fmt;
use crate::types::events::DeliveryStatus;
use crate::types::portal::PortalCapability;
use leptos::prelude::*;

/// How often the open portal asks for its deliveries again.
const EVERY: std::time::Duration = std::time::Duration::from_secs(2);

#[component]
pub fn Deliveries(portal: Portal) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    // One timer for the page's life, in the browser only (effects do not run on the server).
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), EVERY) {
            on_cleanup(move || h.clear());
        }
    });
    let open = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<DeliveryStatus>);
    // None: the newest page; otherwise where an older page starts.
    let cursor = RwSignal::new(None::<String>);
    let retry = ServerAction::<PortalRetry>::new();
    let page = Resource::new(
        move || {
            (
                tick.get(),
                portal.changed.get(),
                retry.version().get(),
                status.get(),
                cursor.get(),
            )
        },
        |(_, _, _, status, cursor)| portal_deliveries(None, status, cursor),
    );
    let may_retry = portal.may(PortalCapability::Replay);
    let error = Signal::derive(move || retry.value().get().and_then(Result::err));
    view! {
        <section class="card" aria-labelledby="portal-deliveries">
            <h2 id="portal-deliveries">"Deliveries"</h2>
            <FormMessage error/>
            <p class="filters">
                <label for="portal-status">"Status "</label>
                <select id="portal-status" on:change=move |ev| {
                    status.set(DeliveryStatus::parse(&event_target_value(&ev)));
                    cursor.set(None);
                }>
                    <option value="">"any status"</option>
                    {DeliveryStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
                {move || cursor.get().is_some().then(|| view! {
                    " " <button data-testid="portal-newest" on:click=move |_| cursor.set(None)>"Newest"</button>
                })}
            </p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(p) if p.items.is_empty() => view! {
                            <p class="empty">{if status.get_untracked().is_some() { "None with this status." } else { "No deliveries yet." }}</p>
                        }.into_any(),
                        Ok(p) => view! {
                            <table>
                                <thead><tr><th>"Created"</th><th>"Event type"</th><th>"Endpoint"</th><th>"Status"</th><th>"Attempts"</th><th>"Last answer"</th><th></th></tr></thead>
                                <tbody>
                                    {p.items.into_iter().map(|d| {
                                        let answer = crate::types::events::answer(d.last_status_code, d.last_error.as_deref())
                                            .unwrap_or_else(|| "—".into());
                                        let again = may_retry && matches!(d.status, DeliveryStatus::Dead | DeliveryStatus::Failed | DeliveryStatus::Cancelled);
                                        let id = d.id.to_string();
                                        let row = id.clone();
                                        let shown = id.clone();
                                        let showing = id.clone();
                                        view! {
                                            <tr data-delivery=row data-status=d.status.as_str()>
                                                <td>{time_fmt::utc(d.created_at.0)}</td>
                                                <td><code>{d.event_type}</code></td>
                                                <td>{d.endpoint_name}</td>
                                                <td>{status_badge(d.status)}</td>
                                                <td>{d.attempts}</td>
                                                <td>{answer}</td>
                                                <td>
                                                    <button data-testid="portal-attempts" aria-pressed=move || (open.get().as_deref() == Some(showing.as_str())).to_string()
                                                        on:click=move |_| open.set(Some(shown.clone()))>"Attempts"</button>
                                                    {again.then(|| view! {
                                                        <button data-testid="portal-retry" disabled=move || retry.pending().get()
                                                            on:click=move |_| { retry.dispatch(PortalRetry { id: id.clone() }); }>"Retry"</button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {p.next_cursor.map(|next| view! {
                                <button data-testid="portal-older" on:click=move |_| cursor.set(Some(next.clone()))>"Older"</button>
                            })}
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <DeliveryAttempts open tick/>
    }
    .into_any()
}
