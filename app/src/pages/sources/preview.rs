//! The live preview beside the editor: a pasted request (or one picked from the inbound
//! log) run through the settings as they are being edited — the event type, `data`,
//! context, duplicate id and how many endpoints it would reach, or why it would be
//! refused. Nothing is published or logged.

use super::draft::Draft;
use crate::api::sources::preview_source_request;
use crate::types::sources::{InboundPreview, InboundRequestView, PreviewInbound};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// `Name: value` lines to a header map.
fn parse_headers(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn header_lines(headers: &serde_json::Value) -> String {
    headers
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[component]
pub(super) fn PreviewPanel(d: Draft, captured: Vec<InboundRequestView>) -> AnyView {
    let headers = RwSignal::new("content-type: application/json".to_string());
    let query = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let run = Action::new(|req: &PreviewInbound| preview_source_request(req.clone()));
    let invalid = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let (h, q, b) = (headers.get(), query.get(), body.get());
        match d.build() {
            Ok(settings) if !b.trim().is_empty() => {
                invalid.set(None);
                run.dispatch(PreviewInbound {
                    settings,
                    headers: parse_headers(&h),
                    query: q,
                    body: b,
                });
            }
            Ok(_) => invalid.set(None),
            Err(errors) => invalid.set(Some(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    });
    let captured = StoredValue::new(captured);
    let pick = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        if let Some(r) = captured.with_value(|c| c.iter().find(|r| r.id.to_string() == id).cloned())
        {
            headers.set(header_lines(&r.headers));
            query.set(r.query.clone());
            body.set(r.body.clone());
        }
    };
    view! {
        <section class="card">
            <h2>"Preview"</h2>
            <p class="muted">"A request through the settings above as they are now, saved or not. Nothing is published."</p>
            <div class="grid-form">
                {(!captured.with_value(Vec::is_empty)).then(|| view! {
                    <div class="field">
                        <label for="preview-pick">"Start from a received request"</label>
                        <select id="preview-pick" on:change=pick>
                            <option value="">"Choose…"</option>
                            {captured.with_value(|c| c.iter().map(|r| view! {
                                <option value=r.id.to_string()>
                                    {format!("{} · {} · {}", crate::time_fmt::utc(r.received_at.0), r.verdict.as_str(), r.id)}
                                </option>
                            }).collect_view())}
                        </select>
                    </div>
                })}
                <div class="field">
                    <label for="preview-headers">"Headers (Name: value)"</label>
                    <textarea id="preview-headers" class="code" rows="3" spellcheck="false" bind:value=headers></textarea>
                </div>
                <div class="field">
                    <label for="preview-query">"Query string"</label>
                    <input id="preview-query" bind:value=query placeholder="shop=north"/>
                </div>
                <div class="field">
                    <label for="preview-body">"Body"</label>
                    <textarea id="preview-body" class="code" rows="6" spellcheck="false" bind:value=body></textarea>
                </div>
            </div>
            {move || invalid.get().map(|m| view! { <p class="form-error" role="alert">{m}</p> })}
            <div data-testid="inbound-preview" aria-live="polite">
                {move || match run.value().get() {
                    None => ().into_any(),
                    Some(Err(e)) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    Some(Ok(p)) => outcome(p).into_any(),
                }}
            </div>
        </section>
    }
    .into_any()
}

fn outcome(p: InboundPreview) -> impl IntoView {
    let shown = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let verdict = if p.errors.is_empty() {
        format!(
            "Accepted: {} to {} endpoint(s)",
            p.event_type.clone().unwrap_or_default(),
            p.endpoints.unwrap_or(0)
        )
    } else {
        "Refused with 422".to_string()
    };
    view! {
        <p data-testid="preview-verdict"><strong>{verdict}</strong></p>
        <ul class="errors">
            {p.errors.iter().map(|e| view! { <li class="field-error" data-testid="preview-error">{e.clone()}</li> }).collect_view()}
        </ul>
        <dl class="facts">
            {p.event_type.clone().map(|t| view! { <dt>"Event type"</dt><dd><code>{t}</code></dd> })}
            {p.dedup_key.clone().map(|k| view! { <dt>"Duplicate id"</dt><dd><code>{k}</code></dd> })}
        </dl>
        {p.data.is_some().then(|| view! {
            <h3>"data"</h3>
            <pre class="code" data-testid="preview-data">{shown(&p.data)}</pre>
            <h3>"current_context"</h3>
            <pre class="code">{shown(&p.context)}</pre>
        })}
    }
}
