//! The portal's endpoints: the tenant's list, and (as the link grants) adding, turning
//! off or deleting one, test-firing it, and replaying its dead letters.

use super::Portal;
use crate::api::portal::{
    PortalCheckEndpoint, PortalDeleteEndpoint, PortalDiagnose, PortalReplayDead,
    PortalRotateSecret, PortalSaveEndpoint, PortalSecret, PortalTestFire,
};
use crate::pages::diagnosis::{CheckView, DiagnosisView};
use crate::pages::forms::{ConfirmButton, FieldMessage, FormMessage};
use crate::types::endpoints::subscribes;
use crate::types::events::{DeliveryStatus, TestFire};
use crate::types::portal::{PortalCapability, PortalEndpoint, PortalEndpointInput};
use leptos::prelude::*;

#[component]
pub fn Endpoints(
    portal: Portal,
    endpoints: Vec<PortalEndpoint>,
    event_types: Vec<String>,
) -> impl IntoView {
    let manage = portal.may(PortalCapability::ManageEndpoints);
    let test = portal.may(PortalCapability::TestFire);
    let replay = portal.may(PortalCapability::Replay);
    let secrets = portal.may(PortalCapability::Secrets);
    let secret = ServerAction::<PortalSecret>::new();
    let rotate = ServerAction::<PortalRotateSecret>::new();
    // The endpoint whose secret is shown below.
    let secret_of = RwSignal::new(String::new());
    let fire = ServerAction::<PortalTestFire>::new();
    let delete = ServerAction::<PortalDeleteEndpoint>::new();
    let replay_dead = ServerAction::<PortalReplayDead>::new();
    let diagnose = ServerAction::<PortalDiagnose>::new();
    let check = ServerAction::<PortalCheckEndpoint>::new();
    // Which endpoint the diagnosis or check below is about.
    let about = RwSignal::new(String::new());
    // A deletion changes the list; test-fires and replays show in the deliveries, which
    // reload on their own (reloading here would also clear the answers shown below).
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            portal.reload();
        }
    });
    let failed = Signal::derive(move || {
        [
            fire.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
            replay_dead.value().get().and_then(Result::err),
            diagnose.value().get().and_then(Result::err),
            check.value().get().and_then(Result::err),
            secret.value().get().and_then(Result::err),
            rotate.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    });
    let types = StoredValue::new(event_types.clone());
    view! {
        <section class="card" aria-labelledby="portal-endpoints">
            <h2 id="portal-endpoints">"Endpoints"</h2>
            <FormMessage error=failed/>
            {if endpoints.is_empty() {
                view! { <p class="empty">"No endpoints yet."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr><th>"Name"</th><th>"URL"</th><th>"Events"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>
                            {endpoints.into_iter().map(|e| {
                                let id = e.id.to_string();
                                // Test-fire sends the first event type it subscribes to, with that type's example.
                                let sample = types.with_value(|t| t.iter().find(|t| subscribes(&e.event_types, t)).cloned());
                                let (fire_id, delete_id, replay_id, check_id) = (id.clone(), id.clone(), id.clone(), id.clone());
                                let (name, check_name) = (e.name.clone(), e.name.clone());
                                let secret_id = id.clone();
                                view! {
                                <tr data-endpoint=e.name.clone()>
                                    <td>{e.name.clone()}</td>
                                    <td><code>{e.url.clone()}</code></td>
                                    <td>{e.event_types.join(", ")}</td>
                                    <td>{if e.enabled { "enabled".to_owned() } else { format!("disabled{}", e.disabled_reason.map(|r| format!(": {r}")).unwrap_or_default()) }}</td>
                                    <td class="actions">
                                        <button data-testid="portal-diagnose" disabled=move || diagnose.pending().get()
                                            on:click=move |_| { about.set(name.clone()); diagnose.dispatch(PortalDiagnose { id: id.clone() }); }>
                                            "Diagnose"
                                        </button>
                                        {test.then(|| view! {
                                            <button data-testid="portal-check" disabled=move || check.pending().get()
                                                on:click=move |_| { about.set(check_name.clone()); check.dispatch(PortalCheckEndpoint { id: check_id.clone() }); }>
                                                "Check my endpoint"
                                            </button>
                                        })}
                                        {(test && sample.is_some()).then(|| view! {
                                            <button data-testid="portal-test-fire" disabled=move || fire.pending().get()
                                                on:click=move |_| { fire.dispatch(PortalTestFire { id: fire_id.clone(), input: TestFire { event_type: sample.clone(), data: None } }); }>
                                                "Send test event"
                                            </button>
                                        })}
                                        {secrets.then(|| view! {
                                            <button data-testid="portal-show-secret" disabled=move || secret.pending().get()
                                                on:click=move |_| { secret_of.set(secret_id.clone()); secret.dispatch(PortalSecret { id: secret_id.clone() }); }>
                                                "Signing secret"
                                            </button>
                                        })}
                                        {replay.then(|| view! {
                                            <button data-testid="portal-replay-dead" disabled=move || replay_dead.pending().get()
                                                on:click=move |_| { replay_dead.dispatch(PortalReplayDead { id: replay_id.clone() }); }>
                                                "Replay dead letters"
                                            </button>
                                        })}
                                        {manage.then(|| view! {
                                            <ConfirmButton label="Delete" question="Delete this endpoint?"
                                                on_confirm=move |_| { delete.dispatch(PortalDeleteEndpoint { id: delete_id.clone() }); }/>
                                        })}
                                    </td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <div class="tf-result">
                {move || fire.value().get().and_then(Result::ok).map(|r| {
                    let ok = r.status == DeliveryStatus::Succeeded;
                    let answer = crate::types::events::answer(r.response_status, r.error.as_deref())
                        .unwrap_or_else(|| "no answer yet".into());
                    view! {
                        <p class="test-fire-result" data-testid="portal-test-result" role="status">
                            <span class=if ok { "status ok" } else { "status off" }>{if ok { "Delivered" } else { "Failed" }}</span>
                            " " <strong>{answer}</strong> " in " {r.duration_ms} " ms"
                        </p>
                    }
                })}
                {move || diagnose.value().get().and_then(Result::ok).map(|d| view! {
                    <h3>"Diagnosis: " {about.get()}</h3>
                    <DiagnosisView d/>
                })}
                {move || check.value().get().and_then(Result::ok).map(|c| view! {
                    <h3>"Check: " {about.get()}</h3>
                    <CheckView c/>
                })}
                {move || {
                    // The newest of a reveal and a rotation is what is shown.
                    let shown = match (rotate.value().get(), secret.value().get()) {
                        (Some(Ok(r)), _) if rotate.version().get() > 0 => Some(r),
                        (_, Some(Ok(s))) => Some(s),
                        _ => None,
                    };
                    shown.map(|s| view! {
                        <div class="secret-once" role="status" data-testid="portal-secret">
                            <p><strong>"Signing secret"</strong> " (verify each delivery's " <code>"webhook-signature"</code> " with it)"</p>
                            <code>{s.secret}</code>
                            {s.previous_expires_at.map(|t| view! { <p class="muted">"The previous secret also signs until " {crate::time_fmt::utc(t.0)} "."</p> })}
                            <button data-testid="portal-rotate-secret" disabled=move || rotate.pending().get()
                                on:click=move |_| { rotate.dispatch(PortalRotateSecret { id: secret_of.get_untracked() }); }>
                                "Rotate"
                            </button>
                        </div>
                    })
                }}
                {move || replay_dead.value().get().and_then(Result::ok).map(|r| view! {
                    <p role="status" data-testid="portal-replay-result">{format!("{} dead letters sent again", r.total)}</p>
                })}
            </div>
            {manage.then(|| view! { <NewEndpoint portal event_types/> })}
        </section>
    }
    .into_any()
}

/// Adding an endpoint: name, URL and event types; everything else keeps the defaults.
#[component]
fn NewEndpoint(portal: Portal, event_types: Vec<String>) -> impl IntoView {
    let save = ServerAction::<PortalSaveEndpoint>::new();
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let (name, url, types) = (
        NodeRef::<leptos::html::Input>::new(),
        NodeRef::<leptos::html::Input>::new(),
        NodeRef::<leptos::html::Input>::new(),
    );
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            portal.reload();
        }
    });
    let hint = if event_types.is_empty() {
        "Event types, comma-separated; * is every one".to_owned()
    } else {
        format!(
            "Event types, comma-separated; * is every one (e.g. {})",
            event_types.join(", ")
        )
    };
    let value =
        |r: NodeRef<leptos::html::Input>| r.get_untracked().map(|i| i.value()).unwrap_or_default();
    view! {
        <h3>"Add an endpoint"</h3>
        <form class="stack" on:submit=move |ev| {
            ev.prevent_default();
            let event_types = value(types).split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
            save.dispatch(PortalSaveEndpoint {
                id: None,
                input: PortalEndpointInput { name: value(name), url: value(url), description: String::new(), enabled: true, event_types },
            });
        }>
            <div class="field">
                <label for="pe-name">"Name"</label>
                <input id="pe-name" name="name" node_ref=name required/>
                <FieldMessage error path="name"/>
            </div>
            <div class="field">
                <label for="pe-url">"URL"</label>
                <input id="pe-url" name="url" type="url" node_ref=url placeholder="https://…" required/>
                <FieldMessage error path="url"/>
            </div>
            <div class="field">
                <label for="pe-types">{hint}</label>
                <input id="pe-types" name="event_types" node_ref=types value="*"/>
                <FieldMessage error path="event_types"/>
            </div>
            <FormMessage error fields=&["name", "url", "event_types"]/>
            <button class="primary" type="submit" data-testid="portal-add-endpoint" disabled=move || save.pending().get()>"Add endpoint"</button>
        </form>
    }
    .into_any()
}
