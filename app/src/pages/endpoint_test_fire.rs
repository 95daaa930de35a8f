//! Test-fire from the endpoint page: choose an event type, edit the sample data, send it
//! once now, and see the receiver's answer inline (status, latency, body). Editors and
//! admins only; the test event and its delivery stay in the log like any other.

use super::forms::{FieldMessage, FormMessage};
use crate::api::deliveries::TestFireEndpoint;
use crate::types::endpoints::subscribes;
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn TestFirePanel(
    id: String,
    subscribed: Vec<String>,
    event_types: Vec<crate::types::EventTypeView>,
) -> impl IntoView {
    let me = expect_context::<Me>();
    if !me.role.allows(Role::Editor) {
        return ().into_any();
    }
    // Read from the form itself when sending: the sample is rendered on the server and
    // edited in place, so no signal has to mirror it through hydration.
    let type_input = NodeRef::<leptos::html::Select>::new();
    let data_input = NodeRef::<leptos::html::Textarea>::new();
    let fire = ServerAction::<TestFireEndpoint>::new();
    let error = Signal::derive(move || fire.value().get().and_then(Result::err));
    // Effects run only in the browser, once this panel is hydrated and its button works.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <section class="card" aria-labelledby="test-fire-title" data-testid="test-fire-panel" data-ready=move || ready.get().to_string()>
            <h2 id="test-fire-title">"Test-fire"</h2>
            <p class="muted">"Sends one event to this endpoint now, once (no retries), and shows what the receiver answered."</p>
            // Each dynamic part sits in its own element, so hydration finds its markers.
            <div class="tf-form">
                {
                    let all = event_types;
                    let usable: Vec<_> = all
                        .into_iter()
                        .filter(|t| subscribes(&subscribed, &t.name))
                        .collect();
                    if usable.is_empty() {
                        return view! { <p class="empty">"This endpoint subscribes to no event type yet: add one above, then test-fire it."</p> }.into_any();
                    }
                    let examples: Vec<(String, String)> = usable
                        .iter()
                        .map(|t| {
                            let text = t.example.as_ref().map(|e| serde_json::to_string_pretty(e).unwrap_or_default()).unwrap_or_default();
                            (t.name.clone(), text)
                        })
                        .collect();
                    let first = examples[0].1.clone();
                    let examples = StoredValue::new(examples);
                    view! {
                        <div class="stack wide">
                            <div class="field">
                                <label for="tf-type">"Event type"</label>
                                <select id="tf-type" node_ref=type_input on:change=move |ev| {
                                    let name = event_target_value(&ev);
                                    if let Some(text) = examples.with_value(|e| e.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone()))
                                        && let Some(area) = data_input.get()
                                    {
                                        area.set_value(&text);
                                    }
                                }>
                                    {examples.with_value(|e| e.iter().map(|(n, _)| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view())}
                                </select>
                            </div>
                            <div class="field">
                                <label for="tf-data">"Data (JSON; empty sends the event type's example)"</label>
                                <textarea id="tf-data" class="code" rows="8" spellcheck="false" aria-describedby="tf-data-error"
                                    node_ref=data_input>{first}</textarea>
                                <FieldMessage error path="data"/>
                            </div>
                        </div>
                    }.into_any()
                }
            </div>
            <div class="tf-actions">
            <FormMessage error fields=&["data"]/>
            <button class="primary" data-testid="test-fire" disabled=move || fire.pending().get() on:click={
                let id = id.clone();
                move |_| {
                    fire.dispatch(TestFireEndpoint {
                        id: id.clone(),
                        event_type: type_input.get_untracked().map(|s| s.value()).filter(|t| !t.is_empty()),
                        data: data_input.get_untracked().map(|t| t.value()).unwrap_or_default(),
                    });
                }
            }>
                {move || if fire.pending().get() { "Sending…" } else { "Send test event" }}
            </button>
            </div>
            <div class="tf-result">
            {move || fire.value().get().and_then(Result::ok).map(|r| {
                let ok = r.status == crate::types::events::DeliveryStatus::Succeeded;
                let answer = match (r.response_status, &r.error) {
                    (Some(s), _) => format!("HTTP {s}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "no answer".into(),
                };
                let body = r.response_body.clone().map(|b| pretty(&b));
                view! {
                    <div class="test-fire-result" data-testid="test-fire-result" role="status">
                        <p>
                            <span class=if ok { "status ok" } else { "status off" }>{if ok { "Delivered" } else { "Failed" }}</span>
                            " " <strong data-testid="test-fire-status">{answer}</strong>
                            " in " {r.duration_ms} " ms · "
                            <A href=format!("/deliveries/{}", r.delivery_id)>"delivery details"</A>
                        </p>
                        {r.error.clone().filter(|_| r.response_status.is_some()).map(|e| view! { <p class="muted">{e}</p> })}
                        {body.map(|b| view! { <pre class="json small" aria-label="Response body">{b}</pre> })}
                    </div>
                }
            })}
            </div>
        </section>
    }
    .into_any()
}

/// JSON bodies indented; anything else as it came.
pub fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string())
}
