//! The endpoint editor. Every field is a signal; saving builds an `EndpointInput` and the
//! server validates it, answering with paths (`headers.X-Team`, `filter.all[0].op`) that
//! land next to the right field. Credentials are never shown: left blank, they stay.

use super::filter_builder::{FilterBuilder, TemplatePreviewPanel};
use super::forms::{ConfirmButton, FormMessage, PathErrors, errors_under};
use crate::api::endpoints::{DeleteEndpoint, SaveEndpoint};
use crate::error::AppError;
use crate::types::endpoints::{
    BatchSettings, BodyFormat, EndpointAuth, EndpointInput, EndpointView, SensitiveData,
};
use crate::types::{FieldError, Me, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::BTreeMap;

/// One header being edited: a stable key for the list, name and value.
type HeaderRow = (usize, RwSignal<String>, RwSignal<String>);

/// The editor's state, one signal per input.
#[derive(Clone, Copy)]
struct Draft {
    name: RwSignal<String>,
    url: RwSignal<String>,
    description: RwSignal<String>,
    enabled: RwSignal<bool>,
    all_types: RwSignal<bool>,
    chosen: RwSignal<Vec<String>>,
    wildcards: RwSignal<String>,
    headers: RwSignal<Vec<HeaderRow>>,
    /// Carried over unchanged: which headers the endpoint marks secret (set over the API).
    secret_headers: RwSignal<Vec<String>>,
    auth_kind: RwSignal<String>,
    auth_header: RwSignal<String>,
    auth_secret: RwSignal<String>,
    auth_user: RwSignal<String>,
    token_url: RwSignal<String>,
    client_id: RwSignal<String>,
    scope: RwSignal<String>,
    timeout: RwSignal<String>,
    retry: RwSignal<String>,
    rate: RwSignal<String>,
    concurrency: RwSignal<String>,
    ordered: RwSignal<bool>,
    format: RwSignal<String>,
    sensitive: RwSignal<SensitiveData>,
    tenant: RwSignal<String>,
    filter: RwSignal<String>,
    template: RwSignal<String>,
    batch_on: RwSignal<bool>,
    batch_max: RwSignal<String>,
    batch_wait: RwSignal<String>,
}

fn pretty(v: &Option<serde_json::Value>) -> String {
    v.as_ref()
        .filter(|v| !v.is_null())
        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
        .unwrap_or_default()
}

impl Draft {
    fn new(current: Option<&EndpointInput>, known: &[String]) -> Draft {
        let d = current.cloned().unwrap_or(EndpointInput {
            name: String::new(),
            url: String::new(),
            description: String::new(),
            enabled: true,
            event_types: vec!["*".into()],
            filter: None,
            headers: BTreeMap::new(),
            secret_headers: Vec::new(),
            auth: EndpointAuth::None,
            timeout: "30s".into(),
            retry_schedule: None,
            rate_limit_per_minute: None,
            max_concurrency: None,
            ordered: false,
            batch: None,
            format: BodyFormat::Json,
            template: None,
            sensitive_data: SensitiveData::Send,
            tenant: None,
        });
        let chosen: Vec<String> = d
            .event_types
            .iter()
            .filter(|t| known.contains(t))
            .cloned()
            .collect();
        let wildcards: Vec<String> = d
            .event_types
            .iter()
            .filter(|t| *t != "*" && !known.contains(t))
            .cloned()
            .collect();
        let (kind, header, user, token_url, client_id, scope) = match &d.auth {
            EndpointAuth::None => ("none", "", "", "", "", String::new()),
            EndpointAuth::ApiKey { header, .. } => {
                ("api_key", header.as_str(), "", "", "", String::new())
            }
            EndpointAuth::Bearer { .. } => ("bearer", "", "", "", "", String::new()),
            EndpointAuth::Basic { username, .. } => {
                ("basic", "", username.as_str(), "", "", String::new())
            }
            EndpointAuth::Oauth2 {
                token_url,
                client_id,
                scope,
                ..
            } => (
                "oauth2",
                "",
                "",
                token_url.as_str(),
                client_id.as_str(),
                scope.clone().unwrap_or_default(),
            ),
        };
        Draft {
            name: RwSignal::new(d.name.clone()),
            url: RwSignal::new(d.url.clone()),
            description: RwSignal::new(d.description.clone()),
            enabled: RwSignal::new(d.enabled),
            all_types: RwSignal::new(d.event_types.iter().any(|t| t == "*")),
            chosen: RwSignal::new(chosen),
            wildcards: RwSignal::new(wildcards.join(", ")),
            headers: RwSignal::new(
                d.headers
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v))| (i, RwSignal::new(k.clone()), RwSignal::new(v.clone())))
                    .collect(),
            ),
            secret_headers: RwSignal::new(d.secret_headers.clone()),
            auth_kind: RwSignal::new(kind.to_string()),
            auth_header: RwSignal::new(header.to_string()),
            auth_secret: RwSignal::new(String::new()),
            auth_user: RwSignal::new(user.to_string()),
            token_url: RwSignal::new(token_url.to_string()),
            client_id: RwSignal::new(client_id.to_string()),
            scope: RwSignal::new(scope),
            timeout: RwSignal::new(d.timeout.clone()),
            retry: RwSignal::new(
                d.retry_schedule
                    .clone()
                    .map(|r| r.join(", "))
                    .unwrap_or_default(),
            ),
            rate: RwSignal::new(
                d.rate_limit_per_minute
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            concurrency: RwSignal::new(
                d.max_concurrency.map(|r| r.to_string()).unwrap_or_default(),
            ),
            ordered: RwSignal::new(d.ordered),
            format: RwSignal::new(
                if d.format == BodyFormat::Xml {
                    "xml"
                } else {
                    "json"
                }
                .to_string(),
            ),
            sensitive: RwSignal::new(d.sensitive_data),
            tenant: RwSignal::new(d.tenant.clone().unwrap_or_default()),
            filter: RwSignal::new(pretty(&d.filter)),
            template: RwSignal::new(pretty(&d.template)),
            batch_on: RwSignal::new(d.batch.is_some()),
            batch_max: RwSignal::new(
                d.batch
                    .as_ref()
                    .map(|b| b.max_events.to_string())
                    .unwrap_or_else(|| "100".into()),
            ),
            batch_wait: RwSignal::new(
                d.batch
                    .as_ref()
                    .map(|b| b.max_wait.clone())
                    .unwrap_or_else(|| "1s".into()),
            ),
        }
    }

    /// The settings to send, or the problems the browser can already see.
    fn build(&self) -> Result<EndpointInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let list = |s: String| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
        };
        let mut number = |field: &str, s: String| -> Option<u32> {
            let s = s.trim().to_string();
            if s.is_empty() {
                return None;
            }
            s.parse()
                .map_err(|_| errors.push(FieldError::new(field, "must be a whole number")))
                .ok()
        };
        let rate = number("rate_limit_per_minute", self.rate.get());
        let concurrency = number("max_concurrency", self.concurrency.get());
        let batch_max = number("batch.max_events", self.batch_max.get());
        let mut json = |field: &str, s: String| -> Option<serde_json::Value> {
            if s.trim().is_empty() {
                return None;
            }
            serde_json::from_str(&s)
                .map_err(|e| errors.push(FieldError::new(field, format!("is not valid JSON: {e}"))))
                .ok()
        };
        let filter = json("filter", self.filter.get());
        let template = json("template", self.template.get());
        let mut event_types = if self.all_types.get() {
            vec!["*".to_string()]
        } else {
            self.chosen.get()
        };
        if !self.all_types.get() {
            event_types.extend(list(self.wildcards.get()));
        }
        let secret = self.auth_secret.get();
        let auth = match self.auth_kind.get().as_str() {
            "api_key" => EndpointAuth::ApiKey {
                header: self.auth_header.get().trim().into(),
                value: secret,
            },
            "bearer" => EndpointAuth::Bearer { token: secret },
            "basic" => EndpointAuth::Basic {
                username: self.auth_user.get().trim().into(),
                password: secret,
            },
            "oauth2" => EndpointAuth::Oauth2 {
                token_url: self.token_url.get().trim().into(),
                client_id: self.client_id.get().trim().into(),
                client_secret: secret,
                scope: Some(self.scope.get().trim().to_string()).filter(|s| !s.is_empty()),
            },
            _ => EndpointAuth::None,
        };
        let headers = self
            .headers
            .get()
            .into_iter()
            .map(|(_, k, v)| (k.get().trim().to_string(), v.get()))
            .filter(|(k, v)| !k.is_empty() || !v.is_empty())
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let retry = list(self.retry.get());
        Ok(EndpointInput {
            name: self.name.get(),
            url: self.url.get(),
            description: self.description.get(),
            enabled: self.enabled.get(),
            event_types,
            filter,
            headers,
            secret_headers: self.secret_headers.get(),
            auth,
            timeout: self.timeout.get().trim().to_string(),
            retry_schedule: (!retry.is_empty()).then_some(retry),
            rate_limit_per_minute: rate,
            max_concurrency: concurrency,
            ordered: self.ordered.get(),
            batch: self.batch_on.get().then(|| BatchSettings {
                max_events: batch_max.unwrap_or(100),
                max_wait: self.batch_wait.get().trim().to_string(),
            }),
            format: if self.format.get() == "xml" {
                BodyFormat::Xml
            } else {
                BodyFormat::Json
            },
            template,
            sensitive_data: self.sensitive.get(),
            tenant: Some(self.tenant.get().trim().to_string()).filter(|t| !t.is_empty()),
        })
    }
}

/// A labelled text input bound to `value`, with the errors at `path` under it.
/// The endpoint's own event types first (their examples are the natural samples), then
/// the others, Hookline's built-in ones last.
fn samples_first(
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

#[component]
fn TextField(
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
/// `catalog`: the event types with their schemas and examples (field paths and previews).
pub fn EndpointForm(
    current: Option<EndpointView>,
    event_types: Vec<String>,
    catalog: Vec<crate::types::EventTypeView>,
) -> AnyView {
    let me = expect_context::<Me>();
    let ro = !me.role.allows(Role::Editor);
    let id = current.as_ref().map(|c| c.id.clone());
    let is_new = id.is_none();
    let d = Draft::new(current.as_ref().map(|c| &c.settings), &event_types);
    let save = ServerAction::<SaveEndpoint>::new();
    let remove = ServerAction::<DeleteEndpoint>::new();
    let local_errors = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || {
        local_errors
            .get()
            .or_else(|| save.value().get().and_then(Result::err))
    });
    let navigate = use_navigate();
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Some(Ok(saved)) = save.value().get() {
                navigate(&format!("/endpoints/{}", saved.id), Default::default());
            }
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            navigate("/endpoints", Default::default());
        }
    });
    let save_id = id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match d.build() {
            Ok(input) => {
                local_errors.set(None);
                save.dispatch(SaveEndpoint {
                    id: save_id.clone(),
                    input,
                });
            }
            Err(errors) => local_errors.set(Some(AppError::invalid_many(errors))),
        }
    };
    let secret_hint = if is_new {
        ""
    } else {
        "(leave blank to keep the stored one)"
    };
    let known = event_types.clone();

    view! {
        <form class="card endpoint-form" on:submit=submit aria-label="Endpoint settings">
            <WhereFields d error ro/>
            <EventFields d error ro known catalog=catalog.clone()/>
            <RequestFields d error ro secret_hint catalog/>
            <DeliveryFields d error ro/>
            <FormMessage error fields=&["name", "url", "description", "event_types", "tenant", "filter", "headers", "auth.header", "auth.value", "auth.token", "auth.username", "auth.password", "auth.token_url", "auth.client_id", "auth.client_secret", "template", "timeout", "retry_schedule", "rate_limit_per_minute", "max_concurrency", "batch", "batch.max_events", "batch.max_wait"]/>
            {(!ro).then(|| view! {
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {if is_new { "Create endpoint" } else { "Save changes" }}
                </button>
            })}
        </form>
        {(!ro && !is_new).then(|| {
            let id = id.clone().unwrap_or_default();
            view! {
                <section class="card danger-zone">
                    <h2>"Delete"</h2>
                    <p class="muted">"Undelivered events to this endpoint are cancelled (and stay visible)."</p>
                    <ConfirmButton label="Delete endpoint…" question="Delete this endpoint?" confirm="Delete"
                        on_confirm=move |_| { remove.dispatch(DeleteEndpoint { id: id.clone() }); }/>
                    <FormMessage error=Signal::derive(move || remove.value().get().and_then(Result::err))/>
                </section>
            }
        })}
    }
    .into_any()
}

#[component]
fn WhereFields(d: Draft, error: Signal<Option<AppError>>, ro: bool) -> AnyView {
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
fn EventFields(
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
fn RequestFields(
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
                {[("none", "None (signature only)"), ("api_key", "API key header"), ("bearer", "Bearer token"), ("basic", "Basic"), ("oauth2", "OAuth2 client credentials")]
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
            _ => ().into_any(),
        }}
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
fn DeliveryFields(d: Draft, error: Signal<Option<AppError>>, ro: bool) -> AnyView {
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
    </fieldset>
    }
    .into_any()
}
