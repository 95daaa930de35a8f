//! An endpoint's diagnosis, shown the same way in the dashboard and the portal: what is
//! wrong in a sentence, the evidence, and the next step; and "check my endpoint", which
//! makes one request now and explains its answer.

use crate::api::diagnostics::CheckEndpoint;
use crate::pages::forms::FormMessage;
use crate::types::diagnostics::{Diagnosis, EndpointCheck};
use crate::types::{Me, Role};
use leptos::prelude::*;

/// One diagnosis.
#[component]
pub fn DiagnosisView(d: Diagnosis) -> impl IntoView {
    let class = if d.finding.is_problem() {
        "diagnosis problem"
    } else {
        "diagnosis"
    };
    view! {
        <div class=class data-testid="diagnosis" data-finding=d.finding.as_str() role="status">
            <p><strong>{d.headline}</strong></p>
            <p class="muted">{d.detail}</p>
            <p><strong>"Next step: "</strong> {d.next_step}</p>
        </div>
    }
}

/// What "check my endpoint" got: the answer, then what it means.
#[component]
pub fn CheckView(c: EndpointCheck) -> impl IntoView {
    let answer = crate::types::events::answer(c.result.response_status, c.result.error.as_deref())
        .unwrap_or_else(|| "no answer yet".into());
    view! {
        <div data-testid="endpoint-check">
            <p>"Sent one " <code>{c.result.event_id.to_string()}</code> ": " <strong data-testid="endpoint-check-answer">{answer}</strong> " in " {c.result.duration_ms} " ms"</p>
            <DiagnosisView d=c.diagnosis/>
        </div>
    }
}

/// The endpoint page's diagnosis card (read with the page, in its one server call), with
/// "check my endpoint" for editors.
#[component]
pub fn DiagnosisPanel(id: String, initial: Diagnosis) -> impl IntoView {
    let me = expect_context::<Me>();
    let check = ServerAction::<CheckEndpoint>::new();
    let error = Signal::derive(move || check.value().get().and_then(Result::err));
    // Effects run only in the browser, once this panel is hydrated and its button works.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <section class="card" aria-labelledby="diagnosis-title" data-testid="diagnosis-panel" data-ready=move || ready.get().to_string()>
            <h2 id="diagnosis-title">"Diagnosis"</h2>
            <DiagnosisView d=initial/>
            {me.role.allows(Role::Editor).then(|| view! {
                <div class="tf-actions">
                    <FormMessage error/>
                    <button data-testid="check-endpoint" disabled=move || check.pending().get()
                        on:click=move |_| { check.dispatch(CheckEndpoint { id: id.clone() }); }>
                        {move || if check.pending().get() { "Checking…" } else { "Check my endpoint" }}
                    </button>
                </div>
                <div class="tf-result">
                    {move || check.value().get().and_then(Result::ok).map(|c| view! { <CheckView c/> })}
                </div>
            })}
        </section>
    }
    .into_any()
}
