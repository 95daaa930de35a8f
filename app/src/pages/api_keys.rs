//! API keys page (admins): create a key (shown once), list, revoke.

use super::forms::{ConfirmButton, FieldMessage, FormMessage, TableHead};
use crate::api::api_keys::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::time_fmt;
use crate::types::{ApiKeyView, Me, Role};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let me = expect_context::<Me>();
    if me.role != Role::Admin {
        return super::forbidden("API keys", "only admins can manage API keys.").into_any();
    }
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get()
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));

    view! {
        <Title text="API keys"/>
        <h1>"API keys"</h1>
        <p class="muted">
            "Services call the REST API with " <code>"Authorization: Bearer <key>"</code> ". "
            "A " <strong>"publish"</strong> " key can only publish events; an "
            <strong>"admin"</strong> " key can do everything an admin can."
        </p>
        <section class="card">
            <h2>"Create a key"</h2>
            <ActionForm action=create node_ref=form attr:class="grid-form" attr:aria-label="Create an API key">
                <div class="field">
                    <label for="key-name">"Name"</label>
                    <input id="key-name" name="name" placeholder="orders service" required/>
                    <FieldMessage error=create_error path="name"/>
                </div>
                <div class="field">
                    <label for="key-scope">"Scope"</label>
                    <select id="key-scope" name="scope">
                        <option value="publish">"publish"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </div>
                <div class="field actions">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create key"</button>
                </div>
            </ActionForm>
            <FormMessage error=create_error fields=&["name"]/>
            {move || create.value().get().and_then(Result::ok).map(|created| view! {
                <div class="secret-once" role="status">
                    <p><strong>"Copy this key now: it will not be shown again."</strong></p>
                    <code data-testid="new-api-key">{created.key}</code>
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Keys"</h2>
            <FormMessage error=revoke_error/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No API keys yet. Create one above for each service that publishes events."</p>
                        }.into_any(),
                        Ok(list) => view! { <KeyTable list revoke/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn KeyTable(list: Vec<ApiKeyView>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|k| {
            let id = k.id.clone();
            let active = k.revoked_at.is_none();
            view! {
                <tr data-key=k.name.clone()>
                    <td>{k.name.clone()}</td>
                    <td>{k.scope.as_str()}</td>
                    <td><code>{k.prefix.clone()} "…"</code></td>
                    <td>{time_fmt::utc(k.created_at.0)} <span class="muted">" by " {k.created_by.clone()}</span></td>
                    <td>{k.last_used_at.map(|t| time_fmt::utc(t.0)).unwrap_or_else(|| "never".into())}</td>
                    <td>{if active { view! { <span class="status ok">"active"</span> }.into_any() } else { view! { <span class="status off">"revoked"</span> }.into_any() }}</td>
                    <td class="row-actions">
                        {if active {
                            view! {
                                <ConfirmButton
                                    label="Revoke"
                                    question="Revoke this key?"
                                    on_confirm=move |_| { revoke.dispatch(RevokeApiKey { id: id.to_string() }); }
                                />
                            }.into_any()
                        } else {
                            view! { <span class="muted">"—"</span> }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Name", "Scope", "Key", "Created", "Last used", "Status", ""]/>
            <tbody>{rows}</tbody>
        </table>
    }
}
