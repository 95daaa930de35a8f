//! The endpoint editor's fieldsets (where it goes, which events, the request, delivery
//! limits) and the labelled input they share.

use super::draft::Draft;
use crate::error::AppError;
use crate::pages::filter_builder::FilterBuilder;
use crate::pages::forms::{PathErrors, errors_under};
use crate::pages::template_preview::TemplatePreviewPanel;
use crate::types::endpoints::SensitiveData;
use leptos::prelude::*;

/// The endpoint's own event types first (their examples are the natural samples), then
/// the others, Hookline's built-in ones last.
pub(super) fn samples_first(
    mut catalog: Vec<crate::types::EventTypeView>,
    d: Draft,
) -> Vec<crate::types::EventTypeView> {
    let chosen = d.chosen.get_untracked();
    catalog.sort_by_key(|t| {
        (
            !chosen.contains(&t.name),
            t.name.starts_with("hookline."),
            t.name.clone(),
        )
    });
    catalog
}

/// A labelled text input bound to `value`, with the errors at `path` under it.
#[component]
pub(super) fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    path: &'static str,
    error: Signal<Option<AppError>>,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] input_type: Option<&'static str>,
    disabled: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label} {(!hint.is_empty()).then(|| view! { " " <span class="muted">{hint}</span> })}</label>
            <input id=id type=input_type.unwrap_or("text") bind:value=value placeholder=placeholder disabled=disabled
                   aria-invalid=move || (!errors_under(error.get().as_ref(), path).is_empty()).to_string()/>
            <PathErrors error field=path/>
        </div>
    }
}

#[component]
pub(super) fn WhereFields(d: Draft, error: Signal<Option<AppError>>, ro: bool) -> AnyView {
    view! {
    <fieldset disabled=ro>
        <legend>"Where"</legend>
        <div class="grid-form">
            <TextField id="ep-name" label="Name" value=d.name path="name" error disabled=ro/>
            <TextField id="ep-url" label="URL" value=d.url path="url" error placeholder="https://example.com/webhooks" input_type="url" disabled=ro/>
        </div>
        <TextField id="ep-description" label="Description" value=d.description path="description" error disabled=ro/>
        <label class="checkbox"><input type="checkbox" bind:checked=d.enabled/>"Enabled"</label>
    </fieldset>
    }
    .into_any()
}

#[component]
pub(super) fn EventFields(
    d: Draft,
    error: Signal<Option<AppError>>,
    ro: bool,
    known: Vec<String>,
    catalog: Vec<crate::types::EventTypeView>,
) -> AnyView {
    view! {
    <fieldset disabled=ro>
        <legend>"Which events"</legend>
        <label class="checkbox"><input type="checkbox" id="ep-all-types" bind:checked=d.all_types/>"All event types"</label>
        <div class="type-list" class:hidden=move || d.all_types.get()>
            {if known.is_empty() {
                view! { <p class="muted">"No event types yet; wildcards below still work."</p> }.into_any()
            } else {
                known.into_iter().map(|t| {
                    let name = t.clone();
                    let checked = move || d.chosen.with(|c| c.contains(&name));
                    let toggle_name = t.clone();
                    view! {
                        <label class="checkbox">
                            <input type="checkbox" prop:checked=checked on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                d.chosen.update(|c| {
                                    c.retain(|x| x != &toggle_name);
                                    if on { c.push(toggle_name.clone()); }
                                });
                            }/>
                            <code>{t}</code>
                        </label>
                    }
                }).collect_view().into_any()
            }}
            <TextField id="ep-wildcards" label="Wildcards" value=d.wildcards path="event_types" error hint="comma-separated, e.g. order.*, stock.*" disabled=ro/>
        </div>
        <TextField id="ep-tenant" label="Tenant" value=d.tenant path="tenant" error hint="(blank: every tenant's events)" disabled=ro/>
        <div class="field">
            <span class="label">"Filter builder " <span class="muted">"(no condition lets every event through)"</span></span>
            <FilterBuilder filter=d.filter types=samples_first(catalog, d) ro/>
        </div>
        <div class="field">
            <label for="ep-filter">"Filter as JSON " <span class="muted">"(the builder writes it; edit it directly for anything more)"</span></label>
            <textarea id="ep-filter" class="code" rows="5" spellcheck="false" bind:value=d.filter
                      placeholder=r#"{"all": [{"field": "data.total", "op": "gte", "value": 100}]}"#></textarea>
            <PathErrors error field="filter"/>
        </div>
    </fieldset>
    }
    .into_any()
}

#[component]
pub(super) fn RequestFields(
    d: Draft,
    error: Signal<Option<AppError>>,
    ro: bool,
    secret_hint: &'static str,
    catalog: Vec<crate::types::EventTypeView>,
) -> AnyView {
    let add_header = move |_| {
        d.headers.update(|h| {
            let next = h.iter().map(|(i, _, _)| i + 1).max().unwrap_or(0);
            h.push((
                next,
                RwSignal::new(String::new()),
                RwSignal::new(String::new()),
            ));
        })
    };
    view! {
    <fieldset disabled=ro>
        <legend>"Request"</legend>
        <div class="grid-form">
            <div class="field">
                <label for="ep-format">"Body format"</label>
                <select id="ep-format" prop:value=move || d.format.get() on:change=move |ev| d.format.set(event_target_value(&ev))>
                    <option value="json" selected=move || d.format.get() == "json">"JSON"</option>
                    <option value="xml" selected=move || d.format.get() == "xml">"XML"</option>
                </select>
            </div>
            <TextField id="ep-timeout" label="Timeout" value=d.timeout path="timeout" error hint="e.g. 30s" disabled=ro/>
            <div class="field">
                <label for="ep-sensitive">"Sensitive fields"</label>
                <select id="ep-sensitive" on:change=move |ev| d.sensitive.set(SensitiveData::parse(&event_target_value(&ev)).unwrap_or_default())>
                    {SensitiveData::ALL.into_iter().map(|v| view! {
                        <option value=v.as_str() selected=move || d.sensitive.get() == v>{match v {
                            SensitiveData::Send => "Send as they are",
                            SensitiveData::Mask => "Mask (***)",
                            SensitiveData::Remove => "Remove",
                        }}</option>
                    }).collect_view()}
                </select>
            </div>
        </div>
        <div class="field">
            <span class="label">"Headers"</span>
            {move || d.headers.get().into_iter().map(|(i, k, v)| view! {
                <div class="header-row">
                    <input aria-label=format!("Header {} name", i + 1) placeholder="X-Team" bind:value=k/>
                    <input aria-label=format!("Header {} value", i + 1) placeholder="value" bind:value=v/>
                    <button type="button" class="link-button" on:click=move |_| d.headers.update(|h| h.retain(|(j, _, _)| *j != i))>"Remove"</button>
                </div>
            }).collect_view()}
            <button type="button" class="secondary small" on:click=add_header>"Add header"</button>
            <PathErrors error field="headers"/>
        </div>
        <div class="field">
            <label for="ep-auth">"Authentication"</label>
            <select id="ep-auth" prop:value=move || d.auth_kind.get() on:change=move |ev| d.auth_kind.set(event_target_value(&ev))>
                {[("none", "None (signature only)"), ("api_key", "API key header"), ("bearer", "Bearer token"), ("basic", "Basic"), ("oauth2", "OAuth2 client credentials"), ("jwt", "JWT, signed per request")]
                    .into_iter()
                    .map(|(v, l)| view! { <option value=v selected=move || d.auth_kind.get() == v>{l}</option> })
                    .collect_view()}
            </select>
        </div>
        {move || match d.auth_kind.get().as_str() {
            "api_key" => view! {
                <div class="grid-form">
                    <TextField id="ep-auth-header" label="Header name" value=d.auth_header path="auth.header" error placeholder="X-Api-Key" disabled=ro/>
                    <TextField id="ep-auth-secret" label="Header value" value=d.auth_secret path="auth.value" error hint=secret_hint input_type="password" disabled=ro/>
                </div>
            }.into_any(),
            "bearer" => view! {
                <TextField id="ep-auth-secret" label="Token" value=d.auth_secret path="auth.token" error hint=secret_hint input_type="password" disabled=ro/>
            }.into_any(),
            "basic" => view! {
                <div class="grid-form">
                    <TextField id="ep-auth-user" label="Username" value=d.auth_user path="auth.username" error disabled=ro/>
                    <TextField id="ep-auth-secret" label="Password" value=d.auth_secret path="auth.password" error hint=secret_hint input_type="password" disabled=ro/>
                </div>
            }.into_any(),
            "oauth2" => view! {
                <div class="grid-form">
                    <TextField id="ep-token-url" label="Token URL" value=d.token_url path="auth.token_url" error disabled=ro/>
                    <TextField id="ep-client-id" label="Client ID" value=d.client_id path="auth.client_id" error disabled=ro/>
                    <TextField id="ep-auth-secret" label="Client secret" value=d.auth_secret path="auth.client_secret" error hint=secret_hint input_type="password" disabled=ro/>
                    <TextField id="ep-scope" label="Scope" value=d.scope path="auth.scope" error hint="(optional)" disabled=ro/>
                </div>
            }.into_any(),
            "jwt" => view! {
                <div class="grid-form">
                    <div class="field">
                        <label for="ep-jwt-alg">"Algorithm"</label>
                        <select id="ep-jwt-alg" prop:value=move || d.jwt_algorithm.get() on:change=move |ev| d.jwt_algorithm.set(event_target_value(&ev))>
                            {["HS256", "RS256", "ES256"].into_iter()
                                .map(|v| view! { <option value=v selected=move || d.jwt_algorithm.get() == v>{v}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <TextField id="ep-jwt-ttl" label="Lifetime (seconds)" value=d.jwt_ttl path="auth.ttl_seconds" error hint="(10 to 3600)" disabled=ro/>
                    <TextField id="ep-jwt-kid" label="Key id (kid)" value=d.jwt_key_id path="auth.key_id" error hint="(optional)" disabled=ro/>
                </div>
                <div class="field">
                    <label for="ep-jwt-key">"Key " <span class="muted">"(HS256: the shared secret, 32+ bytes; RS256/ES256: the private key in PEM. Blank keeps the stored key)"</span></label>
                    <textarea id="ep-jwt-key" class="code" rows="4" spellcheck="false" autocomplete="off" bind:value=d.auth_secret></textarea>
                    <PathErrors error field="auth.key"/>
                </div>
                <div class="field">
                    <label for="ep-jwt-claims">"Claims " <span class="muted">"(a JSON object: iss, aud, sub, …; iat, exp and jti are added per request)"</span></label>
                    <textarea id="ep-jwt-claims" class="code" rows="3" spellcheck="false" bind:value=d.jwt_claims></textarea>
                    <PathErrors error field="auth.claims"/>
                </div>
            }.into_any(),
            _ => ().into_any(),
        }}
        <div class="field">
            <label for="ep-response-rules">"Response rules " <span class="muted">"(JSON, blank for the defaults: e.g. {\"success\": [\"2xx\", \"304\"], \"no_retry\": [\"422\"], \"body\": {\"path\": \"ok\", \"equals\": true}})"</span></label>
            <textarea id="ep-response-rules" class="code" rows="3" spellcheck="false" bind:value=d.response_rules></textarea>
            <PathErrors error field="response_rules"/>
        </div>
        <div class="field">
            <label for="ep-preset">"Preset " <span class="muted">"(fills in the template for the service; alerts-only subscriptions get the alert's sentence)"</span></label>
            <select id="ep-preset" on:change=move |ev| {
                let Ok(preset) = event_target_value(&ev).parse::<crate::types::presets::Preset>() else { return };
                let mut types = if d.all_types.get_untracked() { vec!["*".to_string()] } else { d.chosen.get_untracked() };
                types.extend(d.wildcards.get_untracked().split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()));
                d.template.set(serde_json::to_string_pretty(&preset.template(&types)).unwrap_or_default());
            }>
                <option value="">"None"</option>
                {crate::types::presets::Preset::ALL.map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
            </select>
        </div>
        <div class="field">
            <label for="ep-template">"Body template " <span class="muted">"(JSON with {{ data.field }} placeholders; blank sends the envelope)"</span></label>
            <textarea id="ep-template" class="code" rows="5" spellcheck="false" bind:value=d.template></textarea>
            <PathErrors error field="template"/>
            <TemplatePreviewPanel template=d.template types=samples_first(catalog, d)/>
        </div>
    </fieldset>
    }
    .into_any()
}

#[component]
pub(super) fn DeliveryFields(d: Draft, error: Signal<Option<AppError>>, ro: bool) -> AnyView {
    view! {
    <fieldset disabled=ro>
        <legend>"Delivery"</legend>
        <div class="grid-form">
            <TextField id="ep-retry" label="Retry schedule" value=d.retry path="retry_schedule" error hint="(blank: 5s, 5m, 30m, 2h, 5h, 10h, 10h)" placeholder="5s, 5m, 2h" disabled=ro/>
            <TextField id="ep-rate" label="Rate limit per minute" value=d.rate path="rate_limit_per_minute" error hint="(blank: none)" disabled=ro/>
            <TextField id="ep-concurrency" label="Max concurrency" value=d.concurrency path="max_concurrency" error hint="(blank: none)" disabled=ro/>
        </div>
        <label class="checkbox"><input type="checkbox" bind:checked=d.ordered/>"Ordered (FIFO): each event waits for the previous one"</label>
        <label class="checkbox"><input type="checkbox" bind:checked=d.batch_on/>"Batch several events into one request (a JSON array, or <events> in XML)"</label>
        <div class="grid-form" class:hidden=move || !d.batch_on.get()>
            <TextField id="ep-batch-max" label="Events per request" value=d.batch_max path="batch.max_events" error disabled=ro/>
            <TextField id="ep-batch-wait" label="Wait at most" value=d.batch_wait path="batch.max_wait" error hint="e.g. 500ms" disabled=ro/>
        </div>
        <PathErrors error field="batch"/>
        <div class="field">
            <label for="ep-signature">"Signature"</label>
            <select id="ep-signature" prop:value=move || d.signature_scheme.get() on:change=move |ev| d.signature_scheme.set(event_target_value(&ev))>
                <option value="v1" selected=move || d.signature_scheme.get() == "v1">"v1: HMAC-SHA256 with the shared whsec_ secret"</option>
                <option value="v1a" selected=move || d.signature_scheme.get() == "v1a">"v1a: ed25519; receivers verify with the whpk_ public key"</option>
            </select>
            <span class="muted">"Changing it replaces the signing secret at once."</span>
        </div>
        <label class="checkbox"><input type="checkbox" bind:checked=d.https_only/>"HTTPS only: never deliver over plain http://"</label>
        <PathErrors error field="https_only"/>
        <details class="tls-settings" open=move || !d.client_certificate.get().is_empty() || !d.ca_bundle.get().is_empty()>
            <summary>"TLS: client certificate and trusted CAs"</summary>
            <div class="field">
                <label for="ep-tls-cert">"Client certificate " <span class="muted">"(PEM, with intermediates; for mutual TLS)"</span></label>
                <textarea id="ep-tls-cert" class="code" rows="3" spellcheck="false" bind:value=d.client_certificate></textarea>
                <PathErrors error field="tls.client_certificate"/>
            </div>
            <div class="field">
                <label for="ep-tls-key">"Client key " <span class="muted">{if d.has_client_key { "(PEM; blank keeps the stored key)" } else { "(PEM)" }}</span></label>
                <textarea id="ep-tls-key" class="code" rows="3" spellcheck="false" autocomplete="off" bind:value=d.client_key></textarea>
                <PathErrors error field="tls.client_key"/>
            </div>
            <div class="field">
                <label for="ep-tls-ca">"CA bundle " <span class="muted">"(PEM; trusted instead of the system's CAs for this endpoint)"</span></label>
                <textarea id="ep-tls-ca" class="code" rows="3" spellcheck="false" bind:value=d.ca_bundle></textarea>
                <PathErrors error field="tls.ca_bundle"/>
            </div>
        </details>
    </fieldset>
    }
    .into_any()
}
