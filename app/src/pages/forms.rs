//! Small pieces shared by the forms: a field's inline error and the form-level message.

use crate::error::AppError;
use leptos::prelude::*;

/// The server's message for `path`, shown under the field.
#[component]
pub fn FieldMessage(
    #[prop(into)] error: Signal<Option<AppError>>,
    path: &'static str,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field(path))
            .map(|m| view! { <p class="field-error" id=format!("{path}-error")>{m}</p> })
    }
}

/// A form-level error unless the server tied it to one of the fields on screen.
#[component]
pub fn FormMessage(
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !fields.iter().any(|f| e.field(f).is_some()))
            .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
    }
}

/// A destructive action behind a second click: `label` opens "`question` Confirm / Cancel".
#[component]
pub fn ConfirmButton(
    label: &'static str,
    #[prop(into)] question: String,
    #[prop(default = "Confirm")] confirm: &'static str,
    #[prop(into)] on_confirm: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    move || {
        if open.get() {
            view! {
                <span class="confirm">
                    {question.clone()} " "
                    <button class="danger" on:click=move |_| {
                        open.set(false);
                        on_confirm.run(());
                    }>{confirm}</button>
                    <button class="link-button" on:click=move |_| open.set(false)>"Cancel"</button>
                </span>
            }
            .into_any()
        } else {
            view! { <button class="secondary" on:click=move |_| open.set(true)>{label}</button> }
                .into_any()
        }
    }
}

/// A table header; an empty name is an actions column, labelled for screen readers only.
#[component]
pub fn TableHead(columns: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead>
            <tr>
                {columns
                    .iter()
                    .map(|c| {
                        if c.is_empty() {
                            view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any()
                        } else {
                            view! { <th scope="col">{*c}</th> }.into_any()
                        }
                    })
                    .collect_view()}
            </tr>
        </thead>
    }
}
