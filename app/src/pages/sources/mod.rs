//! Sources pages: the list with each source's URL and scheme, and creating one from a
//! provider's preset (here); one source's page (`page`) with its signed sample, secret,
//! settings editor (`editor`, `draft`), live preview (`preview`) and live inbound log
//! (`inbound_log`).

mod draft;
mod editor;
mod inbound_log;
mod page;
mod preview;

pub use page::SourcePage;

use super::forms::{FieldMessage, FormMessage, TableHead};
use crate::api::event_types::list_event_types;
use crate::api::sources::{SaveSource, list_sources};
use crate::types::sources::{SourceInput, SourceView, Verification};
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The providers a source can be made for in one step, with what their secret is called.
const PRESETS: [(&str, &str, &str); 6] = [
    ("github", "GitHub", "Webhook secret"),
    ("stripe", "Stripe", "Signing secret (whsec_…)"),
    ("shopify", "Shopify", "App secret"),
    ("slack", "Slack", "Signing secret"),
    ("standard_webhooks", "Standard Webhooks", "Secret (whsec_…)"),
    ("none", "None (anyone with the URL)", "—"),
];

fn verification(preset: &str, secret: String) -> Verification {
    match preset {
        "github" => Verification::Github {
            secret,
            previous_secret: None,
        },
        "stripe" => Verification::Stripe {
            secret,
            previous_secret: None,
            tolerance_secs: 300,
        },
        "shopify" => Verification::Shopify {
            secret,
            previous_secret: None,
        },
        "slack" => Verification::Slack {
            signing_secret: secret,
            previous_secret: None,
            tolerance_secs: 300,
        },
        "standard_webhooks" => Verification::StandardWebhooks {
            secret,
            previous_secret: None,
            tolerance_secs: 300,
        },
        _ => Verification::None,
    }
}

#[component]
pub fn SourcesPage() -> impl IntoView {
    let me = expect_context::<Me>();
    let can_edit = me.role.allows(Role::Editor);
    let save = ServerAction::<SaveSource>::new();
    let sources = Resource::new(move || save.version().get(), |_| list_sources());
    let types = Resource::new(|| (), |_| list_event_types(false));
    let (name, set_name) = signal(String::new());
    let (preset, set_preset) = signal("github".to_string());
    let (secret, set_secret) = signal(String::new());
    let (event_type, set_event_type) = signal(String::new());
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveSource {
            id: None,
            input: SourceInput {
                name: name.get_untracked(),
                description: String::new(),
                enabled: true,
                verification: verification(&preset.get_untracked(), secret.get_untracked()),
                event_type: event_type.get_untracked(),
                event_type_from: None,
                allowed_ips: Vec::new(),
                dedup: None,
                transform: None,
                response: None,
                max_body_bytes: None,
                rate_limit_per_second: None,
                tenant: None,
            },
        });
    };
    let secret_label = move || {
        PRESETS
            .iter()
            .find(|p| p.0 == preset.get())
            .map(|p| p.2)
            .unwrap_or("Secret")
    };
    view! {
        <Title text="Sources"/>
        <h1>"Sources"</h1>
        <p class="muted">
            "Partners post their webhooks to a source's URL. Each request is verified the "
            "provider's way, becomes an event of the source's type, and goes to every "
            "endpoint that subscribes, like any published event."
        </p>
        {can_edit.then(|| view! {
            <section class="card">
                <h2>"New source"</h2>
                <form class="grid-form" aria-label="Create a source" on:submit=submit>
                    <div class="field">
                        <label for="source-name">"Name"</label>
                        <input id="source-name" required placeholder="GitHub repositories"
                            on:input=move |ev| set_name.set(event_target_value(&ev))/>
                        <FieldMessage error path="name"/>
                    </div>
                    <div class="field">
                        <label for="source-preset">"Provider"</label>
                        <select id="source-preset" on:change=move |ev| set_preset.set(event_target_value(&ev))>
                            {PRESETS.iter().map(|(v, label, _)| view! { <option value=*v>{*label}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="source-secret">{secret_label}</label>
                        <input id="source-secret" type="password" autocomplete="off"
                            disabled=move || preset.get() == "none"
                            on:input=move |ev| set_secret.set(event_target_value(&ev))/>
                        <FieldMessage error path="verification.secret"/>
                        <FieldMessage error path="verification.signing_secret"/>
                    </div>
                    <div class="field">
                        <label for="source-type">"Event type"</label>
                        <select id="source-type" on:change=move |ev| set_event_type.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            <Transition fallback=|| ()>
                                {move || Suspend::new(async move {
                                    types.await.unwrap_or_default().into_iter()
                                        .filter(|t| !t.name.starts_with("hookline."))
                                        .map(|t| view! { <option value=t.name.clone()>{t.name.clone()}</option> })
                                        .collect_view()
                                })}
                            </Transition>
                        </select>
                        <FieldMessage error path="event_type"/>
                    </div>
                    <div class="field actions">
                        <button type="submit" class="primary" disabled=move || save.pending().get()>"Create source"</button>
                    </div>
                </form>
                <FormMessage error fields=&["name", "event_type", "verification.secret", "verification.signing_secret"]/>
            </section>
        })}
        <section class="card">
            <h2>"Sources"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sources.await {
                        Ok(page) if page.items.is_empty() => view! {
                            <p class="empty">"No sources yet. Create one for each partner that sends you webhooks."</p>
                        }.into_any(),
                        Ok(page) => view! { <SourceTable list=page.items/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SourceTable(list: Vec<SourceView>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|s| {
            let href = format!("/sources/{}", s.id);
            let name = s.settings.name.clone();
            view! {
                <tr data-source=s.settings.name.clone()>
                    <td><A href=href>{name}</A></td>
                    <td><code data-testid="source-url">{s.url.clone()}</code></td>
                    <td>{s.settings.verification.kind()}
                        {s.warning.clone().map(|w| view! { <span class="status off" title=w>" unverified"</span> })}
                    </td>
                    <td><code>{s.settings.event_type.clone()}</code></td>
                    <td>{if s.settings.enabled { "enabled" } else { "disabled" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Name", "URL", "Verification", "Event type", "State"]/>
            <tbody>{rows}</tbody>
        </table>
    }
}
