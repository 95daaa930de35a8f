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
