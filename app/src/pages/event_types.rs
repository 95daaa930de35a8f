//! Event types: the catalogue (any role) and the editor (editors and admins), where the
//! server's schema and example errors appear under their fields.

use super::forms::{ConfirmButton, FieldMessage, FormMessage, PathErrors, TableHead};
use crate::api::event_types::{DeleteEventType, SaveEventType, get_event_type, list_event_types};
use crate::time_fmt;
use crate::types::{EventTypeView, Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn EventTypesPage() -> impl IntoView {
    let me = expect_context::<Me>();
    let can_edit = me.role.allows(Role::Editor);
    let include_archived = RwSignal::new(false);
    let types = Resource::new(move || include_archived.get(), list_event_types);
    view! {
        <Title text="Event types"/>
        <div class="page-head">
            <h1>"Event types"</h1>
            {can_edit.then(|| view! { <A href="/event-types/new" attr:class="button primary">"New event type"</A> })}
        </div>
        <p class="muted">
            "Each event published to Hookline names its type. A type's JSON Schema is checked "
            "against every event's " <code>"data"</code> "; its example is what test-fire sends."
        </p>
        <div class="toolbar">
            <label class="checkbox">
                <input type="checkbox" on:change=move |ev| include_archived.set(event_target_checked(&ev))/>
                "Show archived"
            </label>
        </div>
        <section class="card">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match types.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">
                                "No event types yet. "
                                {if can_edit { "Create one for each kind of event your systems publish, e.g. order.created." }
                                 else { "An editor or admin can create them." }}
                            </p>
                        }.into_any(),
                        Ok(list) => view! { <EventTypeTable list/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EventTypeTable(list: Vec<EventTypeView>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|t| {
            let href = format!("/event-types/{}", t.name);
            let name = t.name.clone();
            view! {
                <tr data-event-type=t.name.clone()>
                    <td><A href=href><code>{name}</code></A></td>
                    <td>{t.description.clone()}</td>
                    <td>{if t.schema.is_some() { "yes" } else { "any JSON" }}</td>
                    <td>{t.archived.then(|| view! { <span class="status off">"archived"</span> })}</td>
                    <td class="nowrap">{time_fmt::utc(t.updated_at.0)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Name", "Description", "Schema", "Status", "Updated"]/>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// `/event-types/new` and `/event-types/:name`.
#[component]
pub fn EventTypeEditPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let existing = Resource::new(name, |n| async move {
        if n == "new" {
            Ok(None)
        } else {
            get_event_type(n).await.map(Some)
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match existing.await {
                    Ok(current) => view! { <EventTypeForm current/> }.into_any(),
                    Err(e) => {
                        super::set_status(e.status());
                        view! { <h1>"Event type"</h1><p class="form-error" role="alert">{e.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

const SCHEMA_PLACEHOLDER: &str = r#"{
  "type": "object",
  "required": ["id", "total"],
  "properties": {
    "id": { "type": "string" },
    "total": { "type": "number", "minimum": 0 }
  }
}"#;

#[component]
fn EventTypeForm(current: Option<EventTypeView>) -> impl IntoView {
    let me = expect_context::<Me>();
    let can_edit = me.role.allows(Role::Editor);
    let save = ServerAction::<SaveEventType>::new();
    let remove = ServerAction::<DeleteEventType>::new();
    let navigate = use_navigate();
    let is_new = current.is_none();
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Some(Ok(saved)) = save.value().get() {
                navigate(&format!("/event-types/{}", saved.name), Default::default());
            }
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            navigate("/event-types", Default::default());
        }
    });
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let remove_error = Signal::derive(move || remove.value().get().and_then(Result::err));
    let pretty = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let original = current.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let title = current
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "New event type".into());
    let saved_notice = move || {
        save.value()
            .get()
            .and_then(Result::ok)
            .map(|_| view! { <p class="notice" role="status">"Saved."</p> })
    };
    let delete_name = original.clone();

    view! {
        <Title text=title.clone()/>
        <p><A href="/event-types">"← Event types"</A></p>
        <h1>{title}</h1>
        <section class="card">
            <ActionForm action=save attr:class="stack wide" attr:aria-label="Event type">
                <input type="hidden" name="original" value=original.clone()/>
                <label for="et-name">"Name"</label>
                <input id="et-name" name="name" value=current.as_ref().map(|c| c.name.clone()) readonly=!is_new
                       placeholder="order.created" required disabled=!can_edit/>
                <FieldMessage error path="name"/>
                <label for="et-description">"Description"</label>
                <input id="et-description" name="description" value=current.as_ref().map(|c| c.description.clone()) disabled=!can_edit/>
                <FieldMessage error path="description"/>
                <label for="et-schema">"JSON Schema " <span class="muted">"(empty accepts any JSON)"</span></label>
                <textarea id="et-schema" name="schema" class="code" rows="14" spellcheck="false" placeholder=SCHEMA_PLACEHOLDER disabled=!can_edit>
                    {pretty(&current.as_ref().and_then(|c| c.schema.clone()))}
                </textarea>
                <PathErrors error field="schema"/>
                <label for="et-example">"Example payload " <span class="muted">"(the data of a typical event)"</span></label>
                <textarea id="et-example" name="example" class="code" rows="8" spellcheck="false" placeholder=r#"{ "id": "ord_1001", "total": 42.5 }"# disabled=!can_edit>
                    {pretty(&current.as_ref().and_then(|c| c.example.clone()))}
                </textarea>
                <PathErrors error field="example"/>
                <label for="et-sensitive">"Sensitive fields " <span class="muted">"(one path per line, e.g. data.card.number; only admins see their values)"</span></label>
                <textarea id="et-sensitive" name="sensitive_fields" class="code" rows="3" spellcheck="false" placeholder="data.customer.email" disabled=!can_edit>
                    {current.as_ref().map(|c| c.sensitive_fields.join("\n")).unwrap_or_default()}
                </textarea>
                <PathErrors error field="sensitive_fields"/>
                <label class="checkbox">
                    <input type="checkbox" name="archived" checked=current.as_ref().is_some_and(|c| c.archived) disabled=!can_edit/>
                    "Archived (kept for history; hidden from lists)"
                </label>
                <FormMessage error fields=&["name", "description", "schema", "example", "sensitive_fields"]/>
                {saved_notice}
                {can_edit.then(|| view! {
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        {if is_new { "Create event type" } else { "Save changes" }}
                    </button>
                })}
            </ActionForm>
        </section>
        {(can_edit && !is_new).then(|| view! {
            <section class="card danger-zone">
                <h2>"Delete"</h2>
                <FormMessage error=remove_error/>
                <ConfirmButton
                    label="Delete event type…"
                    question=format!("Delete {delete_name} for good?")
                    confirm="Delete"
                    on_confirm=move |_| { remove.dispatch(DeleteEventType { name: delete_name.clone() }); }
                />
            </section>
        })}
    }
}
