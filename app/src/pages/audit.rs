//! Audit log page (admins): who changed what and when, newest first.

use crate::api::audit::list_audit;
use crate::time_fmt;
use crate::types::{AuditEntryView, Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let me = expect_context::<Me>();
    if me.role != Role::Admin {
        return super::forbidden("Audit log", "only admins can read the audit log.").into_any();
    }
    let resource = RwSignal::new(String::new());
    // Pages already shown, and the cursor for the next one.
    let cursor = RwSignal::new(None::<String>);
    let first = Resource::new(move || resource.get(), |r| list_audit(Some(r), None));
    let more = RwSignal::new(Vec::<AuditEntryView>::new());
    let next = RwSignal::new(None::<String>);
    let load_more = Action::new(move |c: &String| {
        let (r, c) = (resource.get_untracked(), c.clone());
        async move { list_audit(Some(r), Some(c)).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = load_more.value().get() {
            more.update(|m| m.extend(page.items.clone()));
            next.set(page.next_cursor.clone());
        }
    });
    Effect::new(move |_| {
        resource.track();
        more.set(Vec::new());
        cursor.set(None);
    });

    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <div class="toolbar">
            <label for="audit-resource">"Show"</label>
            <select id="audit-resource" on:change=move |ev| resource.set(event_target_value(&ev))>
                <option value="">"everything"</option>
                <option value="user">"users"</option>
                <option value="api_key">"API keys"</option>
                <option value="event_type">"event types"</option>
                <option value="endpoint">"endpoints"</option>
            </select>
        </div>
        <section class="card">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(page) if page.items.is_empty() => view! {
                            <p class="empty">"Nothing recorded yet. Changes to users, API keys, event types and endpoints appear here."</p>
                        }.into_any(),
                        Ok(page) => {
                            next.set(page.next_cursor.clone());
                            view! {
                                <table class="data audit">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"What"</th>
                                            <th scope="col">"Changes"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.items.into_iter().map(audit_row).collect_view()}
                                        {move || more.get().into_iter().map(audit_row).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || next.get().map(|c| view! {
                <button class="secondary" disabled=move || load_more.pending().get() on:click=move |_| { load_more.dispatch(c.clone()); }>
                    "Load older entries"
                </button>
            })}
        </section>
    }
    .into_any()
}

fn audit_row(e: AuditEntryView) -> impl IntoView {
    let changes = serde_json::to_string_pretty(&e.changes).unwrap_or_default();
    view! {
        <tr>
            <td class="nowrap">{time_fmt::utc(e.at.0)}</td>
            <td>{e.actor}</td>
            <td>{e.action} " " {e.resource.replace('_', " ")} " " <code>{e.resource_id}</code></td>
            <td><pre class="json small">{changes}</pre></td>
        </tr>
    }
}
