//! Users page (admins): add users, change roles, remove them. The server enforces every
//! rule (admin only, never the last admin); this page only shows the answers.

use super::forms::{ConfirmButton, FieldMessage, FormMessage, TableHead};
use crate::api::users::{CreateUser, DeleteUser, SetUserRole, list_users};
use crate::error::AppError;
use crate::time_fmt;
use crate::types::{Me, Role, UserView};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let me = expect_context::<Me>();
    if me.role != Role::Admin {
        return super::forbidden("Users", "only admins can manage users.").into_any();
    }

    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                set_role.version().get(),
                delete.version().get(),
            )
        },
        |_| list_users(),
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
    // The latest failure of a row action (role change or removal).
    let row_error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if let Some(Err(e)) = set_role.value().get() {
            row_error.set(Some(e));
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = delete.value().get() {
            row_error.set(Some(e));
        }
    });

    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <section class="card">
            <h2>"Add a user"</h2>
            <ActionForm action=create node_ref=form attr:class="grid-form" attr:aria-label="Add a user">
                <div class="field">
                    <label for="new-email">"Email"</label>
                    <input id="new-email" name="email" type="email" autocomplete="off" required/>
                    <FieldMessage error=create_error path="email"/>
                </div>
                <div class="field">
                    <label for="new-password">"Initial password"</label>
                    <input
                        id="new-password"
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        minlength="10"
                        required
                    />
                    <FieldMessage error=create_error path="password"/>
                </div>
                <div class="field">
                    <label for="new-role">"Role"</label>
                    <select id="new-role" name="role">
                        <option value="viewer">"viewer"</option>
                        <option value="editor">"editor"</option>
                        <option value="admin">"admin"</option>
                    </select>
                    <FieldMessage error=create_error path="role"/>
                </div>
                <div class="field actions">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                        "Add user"
                    </button>
                </div>
            </ActionForm>
            <FormMessage error=create_error fields=&["email", "password", "role"]/>
            {move || create.value().get().and_then(Result::ok).map(|u| view! {
                <p class="notice" role="status">"Added " {u.email} "."</p>
            })}
        </section>
        <section class="card">
            <h2>"Everyone with access"</h2>
            {move || row_error.get().map(|e| view! {
                <p class="form-error" role="alert">
                    {e.to_string()}
                    <button class="link-button" on:click=move |_| row_error.set(None)>"Dismiss"</button>
                </p>
            })}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let me = me.clone();
                    Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! {
                            <UserTable list me set_role delete row_error/>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn UserTable(
    list: Vec<UserView>,
    me: Me,
    set_role: ServerAction<SetUserRole>,
    delete: ServerAction<DeleteUser>,
    row_error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|user| {
            let is_me = user.id == me.id;
            let id_for_role = user.id.clone();
            let id_for_delete = user.id.clone();
            let email = user.email.clone();
            view! {
                <tr data-email=user.email.clone()>
                    <td>{user.email.clone()} {is_me.then(|| view! { <span class="muted">" (you)"</span> })}</td>
                    <td>
                        <select
                            aria-label=format!("Role of {}", user.email)
                            on:change=move |ev| {
                                row_error.set(None);
                                set_role.dispatch(SetUserRole {
                                    id: id_for_role.to_string(),
                                    role: event_target_value(&ev),
                                });
                            }
                        >
                            {Role::ALL
                                .into_iter()
                                .map(|r| view! {
                                    <option value=r.as_str() selected=r == user.role>{r.as_str()}</option>
                                })
                                .collect_view()}
                        </select>
                    </td>
                    <td>{time_fmt::utc(user.created_at)}</td>
                    <td>{user.last_login_at.map(time_fmt::utc).unwrap_or_else(|| "never".into())}</td>
                    <td class="row-actions">
                        {if is_me {
                            view! { <span class="muted">"—"</span> }.into_any()
                        } else {
                            view! {
                                <ConfirmButton
                                    label="Remove"
                                    question=format!("Remove {email}?")
                                    on_confirm=move |_| {
                                        row_error.set(None);
                                        delete.dispatch(DeleteUser { id: id_for_delete.to_string() });
                                    }
                                />
                            }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Email", "Role", "Added", "Last sign-in", ""]/>
            <tbody>{rows}</tbody>
        </table>
    }
}
