//! One source's page: its URL (copied whole, with this server's address), a signed sample
//! to try it end to end, its secret (reveal, rotate, retire the previous one), its
//! settings with the live preview, and its live inbound log.

use super::editor::SourceEditor;
use super::inbound_log::InboundLog;
use crate::api::event_types::list_event_types;
use crate::api::sources::{
    RetireSourceSecret, RevealSourceSecret, RotateSourceSecret, SendSourceSample, get_source,
    source_requests,
};
use crate::pages::forms::{ConfirmButton, FormMessage};
use crate::types::sources::{SourceSecret, SourceView, Verification};
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SourcePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let source = Resource::new(id, get_source);
    let log = Resource::new(id, source_requests);
    let types = Resource::new(|| (), |_| list_event_types(false));
    let can_edit = expect_context::<Me>().role.allows(Role::Editor);
    view! {
        <p><A href="/sources">"← Sources"</A></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (s, log, types) = (source.await, log.await, types.await);
                match (s, log) {
                    (Ok(s), Ok(log)) => {
                        let names: Vec<String> = types.unwrap_or_default().into_iter()
                            .map(|t| t.name).filter(|n| !n.starts_with("hookline.")).collect();
                        let sid = s.id.to_string();
                        // Saving updates the facts in place; the editor, preview and log stay.
                        let current = RwSignal::new(s.clone());
                        view! {
                            <Title text=move || format!("Source {}", current.with(|s| s.settings.name.clone()))/>
                            <h1>"Source " {move || current.with(|s| s.settings.name.clone())}</h1>
                            <Facts s=current/>
                            {can_edit.then(|| view! {
                                <SamplePanel id=sid.clone()/>
                                <SecretPanel s=s.clone()/>
                                <SourceEditor source=s.clone() event_types=names captured=log.items.clone()
                                    on_saved=move |saved| current.set(saved)/>
                            })}
                            <section class="card">
                                <h2>"Inbound log"</h2>
                                <InboundLog source=sid initial=log.items/>
                            </section>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Facts(s: RwSignal<SourceView>) -> AnyView {
    let copied = RwSignal::new(false);
    let path = s.with_untracked(|s| s.url.clone());
    let copied_path = path.clone();
    let copy = move |_| {
        copy_url(&copied_path);
        copied.set(true);
    };
    view! {
        <section class="card">
            <dl class="facts">
                <dt>"URL"</dt>
                <dd>
                    <code data-testid="source-url">{path.clone()}</code> " "
                    <button class="secondary" on:click=copy>"Copy URL"</button>
                    {move || copied.get().then(|| view! { <span class="muted" role="status">" Copied."</span> })}
                </dd>
                <dt>"Verification"</dt><dd>{move || s.with(|s| s.settings.verification.kind())}</dd>
                <dt>"Event type"</dt><dd><code>{move || s.with(|s| s.settings.event_type.clone())}</code></dd>
                <dt>"State"</dt><dd>{move || if s.with(|s| s.settings.enabled) { "enabled" } else { "disabled" }}</dd>
                {move || s.with(|s| s.warning.clone()).map(|w| view! { <dt>"Warning"</dt><dd class="form-error">{w}</dd> })}
            </dl>
        </section>
    }
    .into_any()
}

/// Copies the URL partners post to: a path is completed with this page's origin.
#[cfg(feature = "hydrate")]
fn copy_url(url: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let full = if url.starts_with('/') {
        format!("{}{url}", window.location().origin().unwrap_or_default())
    } else {
        url.to_owned()
    };
    // Only on a secure origin (https, localhost); elsewhere the URL is there to select.
    let clipboard = window.navigator().clipboard();
    if !clipboard.is_undefined() {
        let _ = clipboard.write_text(&full);
    }
}

#[cfg(not(feature = "hydrate"))]
fn copy_url(_: &str) {}

#[component]
fn SamplePanel(id: String) -> AnyView {
    let send = ServerAction::<SendSourceSample>::new();
    let error = Signal::derive(move || send.value().get().and_then(Result::err));
    let (signed_id, tampered_id) = (id.clone(), id);
    view! {
        <section class="card">
            <h2>"Try it"</h2>
            <p class="muted">
                "Signs the event type's example the way the provider does, with this source's secret, "
                "and handles it like a posted request: verified, published, delivered and logged below."
            </p>
            <div class="row-gap">
                <button class="primary" disabled=move || send.pending().get()
                    on:click=move |_| { send.dispatch(SendSourceSample { id: signed_id.clone(), tampered: false }); }>
                    "Send a signed sample"
                </button>
                <button class="secondary" disabled=move || send.pending().get()
                    on:click=move |_| { send.dispatch(SendSourceSample { id: tampered_id.clone(), tampered: true }); }>
                    "Send a tampered sample"
                </button>
            </div>
            {move || send.value().get().and_then(Result::ok).map(|r| view! {
                <p data-testid="sample-verdict" data-verdict=r.verdict.as_str()>
                    <strong>{r.verdict.as_str()}</strong> {format!(" ({})", r.status)}
                    {r.reason.clone().map(|why| format!(": {why}"))}
                    {r.event_id.clone().map(|e| view! { " → " <A href=format!("/events/{e}")><code>{e.to_string()}</code></A> })}
                </p>
            })}
            <FormMessage error/>
        </section>
    }
    .into_any()
}

#[component]
fn SecretPanel(s: SourceView) -> impl IntoView {
    if matches!(s.settings.verification, Verification::None) {
        return ().into_any();
    }
    let makes_own = s.settings.verification.hookline_chooses_secret();
    let id = s.id.to_string();
    let reveal = ServerAction::<RevealSourceSecret>::new();
    let rotate = ServerAction::<RotateSourceSecret>::new();
    let retire = ServerAction::<RetireSourceSecret>::new();
    let shown = RwSignal::new(None::<SourceSecret>);
    let new_secret = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(s)) = reveal.value().get() {
            shown.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(s)) = rotate.value().get() {
            new_secret.set(String::new());
            shown.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = retire.value().get() {
            shown.update(|s| {
                if let Some(s) = s {
                    s.previous = None;
                }
            });
        }
    });
    let error = Signal::derive(move || {
        rotate
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| reveal.value().get().and_then(Result::err))
            .or_else(|| retire.value().get().and_then(Result::err))
    });
    let (reveal_id, rotate_id, retire_id) = (id.clone(), id.clone(), id);
    let hint = if makes_own {
        "New secret (blank: Hookline makes one)"
    } else {
        "New secret, as the provider issued it"
    };
    view! {
        <section class="card">
            <h2>"Secret"</h2>
            <p class="muted">"During a rotation the previous secret is accepted too, until you retire it."</p>
            {move || match shown.get() {
                Some(s) => view! {
                    <div class="secret-once">
                        <code data-testid="source-secret">{s.secret.clone()}</code>
                        {s.previous.clone().map(|p| view! {
                            <p class="muted" data-testid="source-previous-secret">"Also accepted: " <code>{p}</code></p>
                        })}
                    </div>
                }.into_any(),
                None => {
                    let id = reveal_id.clone();
                    view! {
                        <button class="secondary" on:click=move |_| { reveal.dispatch(RevealSourceSecret { id: id.clone() }); }>
                            "Reveal secret"
                        </button>
                    }.into_any()
                }
            }}
            <div class="grid-form">
                <div class="field">
                    <label for="source-new-secret">{hint}</label>
                    <input id="source-new-secret" type="password" autocomplete="off" bind:value=new_secret/>
                </div>
            </div>
            <div class="row-gap">
                <ConfirmButton
                    label="Rotate secret…"
                    question="Switch to the new secret? The current one stays accepted until you retire it."
                    confirm="Rotate"
                    on_confirm=move |_| {
                        rotate.dispatch(RotateSourceSecret { id: rotate_id.clone(), secret: new_secret.get_untracked() });
                    }
                />
                <ConfirmButton
                    label="Retire the previous secret…"
                    question="Accept only the current secret from now on?"
                    confirm="Retire"
                    on_confirm=move |_| { retire.dispatch(RetireSourceSecret { id: retire_id.clone() }); }
                />
            </div>
            <FormMessage error/>
        </section>
    }
    .into_any()
}
