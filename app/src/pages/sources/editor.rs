//! A source's settings editor (editors and admins): what it becomes (the event type, fixed
//! or mapped from the request), who may post (the address allowlist), duplicates, limits,
//! the answer, and the transform, with the live preview beside it. Saving sends the whole
//! settings; the verification scheme and its secrets are kept (`***`).

use super::draft::Draft;
use super::preview::PreviewPanel;
use crate::api::sources::SaveSource;
use crate::error::AppError;
use crate::pages::forms::{FieldMessage, FormMessage};
use crate::types::sources::{InboundRequestView, SourceView};
use leptos::prelude::*;

const FIELDS: &[&str] = &[
    "name",
    "event_type",
    "event_type_from",
    "event_type_from.map",
    "allowed_ips",
    "dedup",
    "dedup.window_secs",
    "rate_limit_per_second",
    "max_body_bytes",
    "response.status",
    "response.body",
    "transform.data",
    "transform.context",
    "tenant",
];

#[component]
pub fn SourceEditor(
    source: SourceView,
    event_types: Vec<String>,
    /// Requests from the log, to preview the transform on.
    captured: Vec<InboundRequestView>,
    /// Called with the saved source.
    #[prop(into)]
    on_saved: Callback<SourceView>,
) -> AnyView {
    let d = Draft::new(&source.settings);
    let save = ServerAction::<SaveSource>::new();
    let local = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || {
        local
            .get()
            .or_else(|| save.value().get().and_then(Result::err))
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            on_saved.run(saved);
        }
    });
    let id = source.id.to_string();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match d.build() {
            Ok(input) => {
                local.set(None);
                save.dispatch(SaveSource {
                    id: Some(id.clone()),
                    input,
                });
            }
            Err(errors) => local.set(Some(AppError::invalid_many(errors))),
        }
    };
    let type_options = move |selected: String| {
        event_types
            .iter()
            .map(|t| view! { <option value=t.clone() selected=*t == selected>{t.clone()}</option> })
            .collect_view()
    };
    let current_type = source.settings.event_type.clone();
    let fieldset_0 = view! {
        <fieldset>
            <legend>"Event type"</legend>
            <div class="field">
                <label for="src-type">"Event type (or the default)"</label>
                <select id="src-type" on:change=move |ev| d.event_type.set(event_target_value(&ev))>
                    {type_options(current_type)}
                </select>
                <FieldMessage error path="event_type"/>
            </div>
            <div class="field">
                <label for="src-type-from">"Taken from"</label>
                <select id="src-type-from" on:change=move |ev| d.type_from.set(event_target_value(&ev))
                        prop:value=move || d.type_from.get()>
                    <option value="fixed">"Always this type"</option>
                    <option value="header">"A header"</option>
                    <option value="query">"A query parameter"</option>
                    <option value="json_path">"A path in the body"</option>
                </select>
                <FieldMessage error path="event_type_from"/>
            </div>
            <Show when=move || d.type_from.get() != "fixed">
                <div class="field">
                    <label for="src-type-name">"Header, parameter or path"</label>
                    <input id="src-type-name" bind:value=d.type_from_name placeholder="X-GitHub-Event"/>
                </div>
                <div class="field">
                    <label for="src-type-map">"Value = event type, one per line (none: the value is the type)"</label>
                    <textarea id="src-type-map" class="code" rows="3" bind:value=d.type_map
                              placeholder="push = code.pushed"></textarea>
                    <FieldMessage error path="event_type_from.map"/>
                </div>
                <div class="field checkbox">
                    <label><input type="checkbox" bind:checked=d.unknown_default/>
                        " Unknown values become the default type (otherwise 422)"</label>
                </div>
            </Show>
        </fieldset>
    }
    .into_any();
    let fieldset_1 = view! {
        <fieldset>
            <legend>"Who may post, and how often"</legend>
            <div class="field">
                <label for="src-allowed">"Allowed addresses (CIDRs, one per line; none: any)"</label>
                <textarea id="src-allowed" class="code" rows="3" bind:value=d.allowed
                          placeholder="192.30.252.0/22"></textarea>
                <FieldMessage error path="allowed_ips"/>
            </div>
            <div class="field">
                <label for="src-rate">"Rate limit (requests per second; empty: none)"</label>
                <input id="src-rate" inputmode="numeric" bind:value=d.rate/>
                <FieldMessage error path="rate_limit_per_second"/>
            </div>
            <div class="field">
                <label for="src-max-body">"Largest body (bytes, up to 10 MiB)"</label>
                <input id="src-max-body" inputmode="numeric" bind:value=d.max_body/>
                <FieldMessage error path="max_body_bytes"/>
            </div>
        </fieldset>
    }
    .into_any();
    let fieldset_2 = view! {
        <fieldset>
            <legend>"Duplicates"</legend>
            <div class="field">
                <label for="src-dedup">"Duplicate id from"</label>
                <select id="src-dedup" on:change=move |ev| d.dedup_from.set(event_target_value(&ev))
                        prop:value=move || d.dedup_from.get()>
                    <option value="scheme">"The provider's own (webhook-id, X-GitHub-Delivery, …)"</option>
                    <option value="header">"A header"</option>
                    <option value="json_path">"A path in the body"</option>
                </select>
                <FieldMessage error path="dedup"/>
            </div>
            <Show when=move || d.dedup_from.get() != "scheme">
                <div class="field">
                    <label for="src-dedup-name">"Header or path"</label>
                    <input id="src-dedup-name" bind:value=d.dedup_name/>
                </div>
            </Show>
            <div class="field">
                <label for="src-dedup-window">"Window (seconds; default one day)"</label>
                <input id="src-dedup-window" inputmode="numeric" bind:value=d.dedup_window/>
                <FieldMessage error path="dedup.window_secs"/>
            </div>
        </fieldset>
    }
    .into_any();
    let fieldset_3 = view! {
        <fieldset>
            <legend>"Transform and answer"</legend>
            <div class="field">
                <label for="src-transform-data">"Event data template (over body, headers, query; empty: the body)"</label>
                <textarea id="src-transform-data" class="code" rows="5" spellcheck="false" bind:value=d.transform_data
                          placeholder=r#"{"order": "{{ body.Order.Id }}", "shop": "{{ query.shop }}"}"#></textarea>
                <FieldMessage error path="transform.data"/>
            </div>
            <div class="field">
                <label for="src-transform-context">"Context template (optional)"</label>
                <textarea id="src-transform-context" class="code" rows="2" spellcheck="false" bind:value=d.transform_context></textarea>
                <FieldMessage error path="transform.context"/>
            </div>
            <div class="field">
                <label for="src-response-status">"Answer status (2xx; default 202)"</label>
                <input id="src-response-status" inputmode="numeric" bind:value=d.response_status/>
                <FieldMessage error path="response.status"/>
            </div>
            <div class="field">
                <label for="src-response-body">"Answer body template ({{ event_id }}, {{ duplicate }})"</label>
                <textarea id="src-response-body" class="code" rows="2" spellcheck="false" bind:value=d.response_body></textarea>
                <FieldMessage error path="response.body"/>
            </div>
            <div class="field">
                <label for="src-tenant">"Tenant of its events (optional)"</label>
                <input id="src-tenant" bind:value=d.tenant/>
                <FieldMessage error path="tenant"/>
            </div>
        </fieldset>
    }
    .into_any();
    view! {
        <section class="card">
            <h2>"Settings"</h2>
            <form class="grid-form" aria-label="Source settings" on:submit=submit>
                <div class="field">
                    <label for="src-name">"Name"</label>
                    <input id="src-name" bind:value=d.name required/>
                    <FieldMessage error path="name"/>
                </div>
                <div class="field checkbox">
                    <label><input type="checkbox" bind:checked=d.enabled/> " Enabled (a disabled source answers 403)"</label>
                </div>
                {fieldset_0}
                {fieldset_1}
                {fieldset_2}
                {fieldset_3}
                <div class="field actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save settings"</button>
                    {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <span class="muted" role="status">" Saved."</span> })}
                </div>
            </form>
            <FormMessage error fields=FIELDS/>
        </section>
        <PreviewPanel d captured/>
    }
    .into_any()
}
