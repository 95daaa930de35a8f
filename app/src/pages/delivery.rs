//! One delivery: where it stands, and every attempt with its request and response (headers,
//! pretty-printed bodies). Editors and admins can send it again.

use super::attempt_card::attempt_card;
use super::delivery_log::status_badge;
use super::forms::FormMessage;
use super::signature_help::SignatureHelp;
use crate::api::deliveries::{RetryDelivery, get_delivery};
use crate::time_fmt;
use crate::types::events::DeliveryStatus;
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let me = expect_context::<Me>();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let retry = ServerAction::<RetryDelivery>::new();
    // Reload after a retry, and keep reloading while the delivery is on its way.
    let tick = RwSignal::new(0u32);
    let detail = Resource::new(
        move || (id(), tick.get(), retry.version().get()),
        |(id, _, _)| get_delivery(id),
    );
    let error = Signal::derive(move || retry.value().get().and_then(Result::err));
    let can_retry = me.role.allows(Role::Editor);
    view! {
        <p><A href="/deliveries">"← Deliveries"</A></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let v = d.delivery.clone();
                        #[cfg(feature = "hydrate")]
                        let moving = v.status.is_open();
                        // In the browser only: a timer on the server would outlive the request.
                        #[cfg(feature = "hydrate")]
                        if moving {
                            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(1000));
                        }
                        let id = v.id.clone();
                        view! {
                            <Title text=format!("Delivery {}", v.id)/>
                            <h1>"Delivery " <code>{v.id.clone()}</code></h1>
                            <section class="card">
                                <dl class="facts">
                                    <dt>"Status"</dt><dd data-testid="detail-status">{status_badge(v.status)}</dd>
                                    <dt>"Event"</dt><dd><code>{v.event_id.clone()}</code> " (" <code>{v.event_type.clone()}</code> ")"</dd>
                                    <dt>"Endpoint"</dt><dd><A href=format!("/endpoints/{}", v.endpoint_id)>{v.endpoint_name.clone()}</A></dd>
                                    <dt>"Attempts"</dt><dd>{v.attempts}</dd>
                                    <dt>"Created"</dt><dd>{time_fmt::utc(v.created_at.0)}</dd>
                                    {v.next_attempt_at.filter(|_| v.status == DeliveryStatus::Failed).map(|at| view! { <dt>"Next attempt"</dt><dd>{time_fmt::utc(at.0)}</dd> })}
                                    {v.last_error.clone().map(|e| view! { <dt>"Last error"</dt><dd>{e}</dd> })}
                                </dl>
                                {can_retry.then(|| view! {
                                    <FormMessage error/>
                                    <button class="primary" data-testid="retry" disabled=move || retry.pending().get() || v.status == DeliveryStatus::InFlight
                                        on:click=move |_| { retry.dispatch(RetryDelivery { id: id.to_string() }); }>
                                        "Retry now"
                                    </button>
                                })}
                            </section>
                            {d.attempt_log.last().cloned().map(|a| view! { <SignatureHelp attempt=a/> })}
                            <h2>"Attempts"</h2>
                            {if d.attempt_log.is_empty() {
                                view! { <p class="empty">"No attempt yet: it is waiting for its turn (or its endpoint is disabled)."</p> }.into_any()
                            } else {
                                d.attempt_log.into_iter().rev().map(attempt_card).collect_view().into_any()
                            }}
                        }.into_any()
                    }
                    Err(e) => {
                        super::set_status(e.status());
                        view! { <h1>"Delivery"</h1><p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
