//! One delivery's attempt log in the portal, opened from its row in the deliveries list:
//! every attempt, newest first, with its request and response (sensitive fields masked),
//! and "Verify your signature" for the latest. It reloads with the list, so an attempt
//! made while it is open appears without a click.

use crate::api::portal::portal_delivery;
use crate::pages::attempt_card::attempt_card;
use crate::pages::delivery_log::status_badge;
use crate::pages::signature_help::SignatureHelp;
use leptos::prelude::*;

/// `open` holds the delivery shown (none: the section is not there); `tick` is the
/// deliveries list's reload counter.
#[component]
pub fn DeliveryAttempts(open: RwSignal<Option<String>>, tick: RwSignal<u32>) -> impl IntoView {
    let detail = Resource::new(
        move || (open.get(), tick.get()),
        |(id, _)| async move {
            match id {
                Some(id) => portal_delivery(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(None) => ().into_any(),
                    Err(e) => view! {
                        <section class="card"><p class="form-error" role="alert">{e.to_string()}</p></section>
                    }.into_any(),
                    Ok(Some(d)) => {
                        let v = d.delivery;
                        view! {
                            <section class="card" aria-labelledby="portal-attempts" data-testid="portal-delivery" data-delivery=v.id.to_string()>
                                <h2 id="portal-attempts">"Delivery " <code>{v.id.to_string()}</code></h2>
                                <p>
                                    {status_badge(v.status)} " · " <code>{v.event_type}</code> " to " {v.endpoint_name}
                                    " · " {v.attempts} {if v.attempts == 1 { " attempt" } else { " attempts" }}
                                </p>
                                <button on:click=move |_| open.set(None)>"Close"</button>
                            </section>
                            {d.attempt_log.last().cloned().map(|a| view! { <SignatureHelp attempt=a/> })}
                            {if d.attempt_log.is_empty() {
                                view! { <p class="empty">"No attempt yet: it is waiting for its turn."</p> }.into_any()
                            } else {
                                d.attempt_log.into_iter().rev().map(attempt_card).collect_view().into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
