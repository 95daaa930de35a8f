//! Portal links page (admins): give one tenant a link to its portal (shown once), see the
//! links made, revoke one.

use super::forms::{ConfirmButton, FieldMessage, FormMessage, TableHead};
use crate::api::portal_links::{CreatePortalLink, RevokePortalLink, list_portal_links};
use crate::time_fmt;
use crate::types::portal::{NewPortalLink, PortalCapability, PortalLinkView};
use crate::types::{Me, Role};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

/// What an admin can grant besides `view`, with how the form says it.
const GRANTS: [(PortalCapability, &str); 4] = [
    (PortalCapability::ManageEndpoints, "Manage endpoints"),
    (PortalCapability::Secrets, "See and rotate signing secrets"),
    (PortalCapability::Replay, "Retry and replay"),
    (PortalCapability::TestFire, "Test-fire"),
];

#[component]
pub fn PortalLinksPage() -> impl IntoView {
    let me = expect_context::<Me>();
    if me.role != Role::Admin {
        return super::forbidden("Portal links", "only admins can make portal links.").into_any();
    }
    let create = ServerAction::<CreatePortalLink>::new();
    let revoke = ServerAction::<RevokePortalLink>::new();
    let links = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_portal_links(),
    );
    let tenant = NodeRef::<html::Input>::new();
    let expires = NodeRef::<html::Select>::new();
    let boxes: [NodeRef<html::Input>; 4] = std::array::from_fn(|_| NodeRef::new());
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let capabilities = GRANTS
            .iter()
            .zip(boxes.iter())
            .filter(|(_, b)| b.get_untracked().is_some_and(|b| b.checked()))
            .map(|((c, _), _)| *c)
            .collect();
        create.dispatch(CreatePortalLink {
            input: NewPortalLink {
                tenant: tenant
                    .get_untracked()
                    .map(|t| t.value())
                    .unwrap_or_default(),
                capabilities,
                expires_in: expires
                    .get_untracked()
                    .map(|e| e.value())
                    .unwrap_or_default(),
            },
        });
    };
    view! {
        <Title text="Portal links"/>
        <h1>"Portal links"</h1>
        <p class="muted">
            "A portal link opens the tenant portal for one tenant, in a browser, with no other credentials: "
            "its endpoints, deliveries and attempts, and what the link grants. It works until it expires or is revoked."
        </p>
        <section class="card">
            <h2>"Make a link"</h2>
            <form class="grid-form" aria-label="Make a portal link" on:submit=submit>
                <div class="field">
                    <label for="pl-tenant">"Tenant"</label>
                    <input id="pl-tenant" name="tenant" placeholder="acme" required node_ref=tenant/>
                    <FieldMessage error=create_error path="tenant"/>
                </div>
                <div class="field">
                    <label for="pl-expires">"Expires in"</label>
                    <select id="pl-expires" name="expires_in" node_ref=expires>
                        <option value="1h">"1 hour"</option>
                        <option value="1d">"1 day"</option>
                        <option value="7d" selected>"7 days"</option>
                        <option value="30d">"30 days"</option>
                    </select>
                </div>
                <fieldset class="field">
                    <legend>"Also allow (viewing is always allowed)"</legend>
                    {GRANTS.iter().zip(boxes).map(|((c, label), node)| view! {
                        <label class="check"><input type="checkbox" name="capabilities" value=c.as_str() node_ref=node/> {*label}</label>
                    }).collect_view()}
                </fieldset>
                <div class="field actions">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Make link"</button>
                </div>
            </form>
            <FormMessage error=create_error fields=&["tenant"]/>
            {move || create.value().get().and_then(Result::ok).map(|made| view! {
                <div class="secret-once" role="status">
                    <p><strong>"Copy this link now: it will not be shown again."</strong></p>
                    <code data-testid="new-portal-link">{made.url}</code>
                </div>
            })}
        </section>
        <section class="card">
            <h2>"Links"</h2>
            <FormMessage error=revoke_error/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(page) if page.items.is_empty() => view! { <p class="empty">"No portal links yet."</p> }.into_any(),
                        Ok(page) => view! { <LinkTable list=page.items revoke/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn LinkTable(list: Vec<PortalLinkView>, revoke: ServerAction<RevokePortalLink>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|l| {
            let id = l.id.to_string();
            let row = id.clone();
            // Whether it has expired is the expiry column's to say: the page must render
            // the same on the server and in the browser.
            let state = if l.revoked_at.is_some() { "revoked" } else { "active" };
            let granted = l.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
            view! {
                <tr data-link=row data-state=state>
                    <td>{l.tenant.clone()}</td>
                    <td>{if l.read_only { "read-only".to_owned() } else { granted }}</td>
                    <td>{time_fmt::utc(l.created_at.0)} <span class="muted">" by " {l.created_by.clone()}</span></td>
                    <td>{time_fmt::utc(l.expires_at.0)}</td>
                    <td><span class=if state == "active" { "status ok" } else { "status off" }>{state}</span></td>
                    <td class="row-actions">
                        {(state == "active").then(|| view! {
                            <ConfirmButton label="Revoke" question="Revoke this link?"
                                on_confirm=move |_| { revoke.dispatch(RevokePortalLink { id: id.clone() }); }/>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Tenant", "Grants", "Created", "Expires", "State", ""]/>
            <tbody>{rows}</tbody>
        </table>
    }
}
