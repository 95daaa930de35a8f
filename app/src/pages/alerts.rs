//! Alerts page: every rule with where it is firing now (reloaded every 5 s), and, for
//! admins, making and deleting rules. Each change of state is also an event
//! (`hookline.alert.fired` / `.resolved`) delivered to whoever subscribes.

use super::forms::{ConfirmButton, FieldMessage, FormMessage, TableHead};
use crate::api::alerts::{CreateAlertRule, DeleteAlertRule, list_alert_rules};
use crate::time_fmt;
use crate::types::alerts::{AlertKind, AlertRuleView, NewAlertRule};
use crate::types::{Me, Role};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

#[cfg(feature = "hydrate")]
const EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn kind_label(k: AlertKind) -> &'static str {
    match k {
        AlertKind::FailureRate => "Failure rate (%)",
        AlertKind::ConsecutiveFailures => "Consecutive failures",
        AlertKind::Lag => "Lag: oldest waiting delivery (s)",
        AlertKind::DeadLetters => "Dead letters in the window",
        AlertKind::CircuitWarning => "Circuit about to open",
        AlertKind::QueueDepth => "Queue depth (all endpoints)",
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let me = expect_context::<Me>();
    let admin = me.role == Role::Admin;
    let create = ServerAction::<CreateAlertRule>::new();
    let delete = ServerAction::<DeleteAlertRule>::new();
    let tick = RwSignal::new(0u32);
    let rules = Resource::new(
        move || (create.version().get(), delete.version().get(), tick.get()),
        |_| list_alert_rules(),
    );
    let delete_error = Signal::derive(move || delete.value().get().and_then(Result::err));
    view! {
        <Title text="Alerts"/>
        <h1>"Alerts"</h1>
        <p class="muted">
            "A rule fires once when its condition begins to hold and once when it stops, as the events "
            <code>"hookline.alert.fired"</code> " and " <code>"hookline.alert.resolved"</code>
            ": subscribe an endpoint to " <code>"hookline.alert.*"</code>
            " (with the Slack, Teams or Discord preset) to be told."
        </p>
        {admin.then(|| view! { <NewRule create/> })}
        <section class="card">
            <h2>"Rules"</h2>
            <FormMessage error=delete_error/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let rules = rules.await;
                    #[cfg(feature = "hydrate")]
                    set_timeout(move || tick.update(|t| *t += 1), EVERY);
                    match rules {
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No alert rules yet."</p> }.into_any(),
                        Ok(list) => view! { <RuleTable list delete admin/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn NewRule(create: ServerAction<CreateAlertRule>) -> impl IntoView {
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let (name, kind, endpoint, threshold, window) = (
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Select>::new(),
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text =
            |r: NodeRef<html::Input>| r.get_untracked().map(|i| i.value()).unwrap_or_default();
        let kind = kind
            .get_untracked()
            .and_then(|s| s.value().parse().ok())
            .unwrap_or(AlertKind::ConsecutiveFailures);
        let endpoint_id = Some(text(endpoint))
            .filter(|e| !e.trim().is_empty())
            .and_then(|e| crate::types::ids::EndpointId::parse(e.trim()).ok());
        create.dispatch(CreateAlertRule {
            input: NewAlertRule {
                name: text(name),
                kind,
                endpoint_id,
                threshold: text(threshold).trim().parse().ok(),
                window: Some(text(window)).filter(|w| !w.trim().is_empty()),
            },
        });
    };
    view! {
        <section class="card">
            <h2>"Make a rule"</h2>
            <form class="grid-form" aria-label="Make an alert rule" on:submit=submit>
                <div class="field">
                    <label for="ar-name">"Name"</label>
                    <input id="ar-name" required placeholder="crm failing" node_ref=name/>
                    <FieldMessage error path="name"/>
                </div>
                <div class="field">
                    <label for="ar-kind">"Watch"</label>
                    <select id="ar-kind" node_ref=kind>
                        {AlertKind::ALL.map(|k| view! { <option value=k.as_str()>{kind_label(k)}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="ar-endpoint">"Endpoint id (empty: every endpoint)"</label>
                    <input id="ar-endpoint" placeholder="ep_…" node_ref=endpoint/>
                    <FieldMessage error path="endpoint_id"/>
                </div>
                <div class="field">
                    <label for="ar-threshold">"Threshold"</label>
                    <input id="ar-threshold" inputmode="numeric" node_ref=threshold/>
                    <FieldMessage error path="threshold"/>
                </div>
                <div class="field">
                    <label for="ar-window">"Window (failure rate, dead letters)"</label>
                    <input id="ar-window" placeholder="5m" node_ref=window/>
                    <FieldMessage error path="window"/>
                </div>
                <div class="field actions">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Make rule"</button>
                </div>
            </form>
            <FormMessage error fields=&["name", "endpoint_id", "threshold", "window"]/>
        </section>
    }
}

#[component]
fn RuleTable(
    list: Vec<AlertRuleView>,
    delete: ServerAction<DeleteAlertRule>,
    admin: bool,
) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|r| {
            let id = r.id.to_string();
            let unit = r.kind.unit();
            let threshold = if r.kind == AlertKind::CircuitWarning && r.threshold == 0 {
                "80% of the breaker".to_owned()
            } else {
                format!("{}{unit}", r.threshold)
            };
            let state = if r.firing.is_empty() { "ok" } else { "firing" };
            let firing = r
                .firing
                .iter()
                .map(|f| format!("{} ({}{unit} since {})", f.endpoint_name.clone().unwrap_or_else(|| f.subject.clone()), f.value, time_fmt::utc(f.since.0)))
                .collect::<Vec<_>>()
                .join("; ");
            view! {
                <tr data-rule=r.name.clone() data-state=state>
                    <td>{r.name.clone()}</td>
                    <td>{kind_label(r.kind)}</td>
                    <td>{r.endpoint_id.map(|e| e.to_string()).unwrap_or_else(|| "every endpoint".into())}</td>
                    <td>{threshold}</td>
                    <td><span class=if state == "ok" { "status ok" } else { "status off" }>{state}</span> " " {firing}</td>
                    <td class="row-actions">
                        {admin.then(|| view! {
                            <ConfirmButton label="Delete" question="Delete this rule?"
                                on_confirm=move |_| { delete.dispatch(DeleteAlertRule { id: id.clone() }); }/>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data">
            <TableHead columns=&["Name", "Watch", "Endpoint", "Threshold", "Now", ""]/>
            <tbody>{rows}</tbody>
        </table>
    }
}
