//! The body template's live preview: renders the endpoint's template on an event type's
//! example (or a pasted payload), the way the filter builder's preview evaluates a filter.

use super::filter_builder::SampleChooser;
use crate::api::tools::PreviewTemplate;
use crate::types::EventTypeView;
use leptos::prelude::*;

#[component]
pub fn TemplatePreviewPanel(
    template: RwSignal<String>,
    types: Vec<EventTypeView>,
) -> impl IntoView {
    let names: Vec<String> = types
        .iter()
        .filter(|t| t.example.is_some())
        .map(|t| t.name.clone())
        .collect();
    let event_type = RwSignal::new(String::new());
    let payload = RwSignal::new(String::new());
    let run = ServerAction::<PreviewTemplate>::new();
    Effect::new(move |_| {
        let t = template.get();
        if !t.trim().is_empty() {
            run.dispatch(PreviewTemplate {
                template: t,
                event_type: event_type.get(),
                payload: payload.get(),
            });
        }
    });
    view! {
        <div class="preview" data-testid="template-preview" aria-live="polite">
            <h4>"Preview of the body"</h4>
            <SampleChooser names event_type payload id="tp"/>
            {move || if template.get().trim().is_empty() {
                view! { <p class="muted">"No template: receivers get the envelope."</p> }.into_any()
            } else {
                match run.value().get() {
                    None => view! { <p class="muted">"Rendering…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    Some(Ok(body)) => view! { <pre class="json small" data-testid="template-rendered">{body}</pre> }.into_any(),
                }
            }}
        </div>
    }
}
