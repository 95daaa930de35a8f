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

/// Every server error at `field` or below it (`example.total`, `headers.X-Team`), with its
/// path: for fields whose errors come in several.
#[component]
pub fn PathErrors(
    #[prop(into)] error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl IntoView {
    move || {
        let mine = errors_under(error.get().as_ref(), field);
        (!mine.is_empty()).then(|| {
            view! {
                <ul class="field-error-list" id=format!("{field}-errors")>
                    {mine
                        .into_iter()
                        .map(|e| view! { <li><code>{e.path}</code> " " {e.message}</li> })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// The validation errors at `field` or below it.
pub fn errors_under(error: Option<&AppError>, field: &str) -> Vec<crate::types::FieldError> {
    match error {
        Some(AppError::Validation { errors, .. }) => errors
            .iter()
            .filter(|e| {
                e.path == field
                    || e.path.starts_with(&format!("{field}."))
                    || e.path.starts_with(&format!("{field}["))
            })
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// Time windows offered by search forms (the value is a duration, empty for all time).
pub const WINDOWS: [(&str, &str); 5] = [
    ("", "any time"),
    ("1h", "last hour"),
    ("24h", "last day"),
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
];

/// A whole number typed into `field`, or nothing if it is blank; a typing mistake is
/// pushed onto `errors` under `field`.
pub fn typed_number<T: std::str::FromStr>(
    errors: &mut Vec<crate::types::FieldError>,
    field: &str,
    s: &str,
) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    s.parse()
        .map_err(|_| {
            errors.push(crate::types::FieldError::new(
                field,
                "must be a whole number",
            ))
        })
        .ok()
}

/// JSON typed into `field`, or nothing if it is blank; a syntax error is pushed onto
/// `errors` under `field`.
pub fn typed_json(
    errors: &mut Vec<crate::types::FieldError>,
    field: &str,
    s: &str,
) -> Option<serde_json::Value> {
    if s.trim().is_empty() {
        return None;
    }
    serde_json::from_str(s)
        .map_err(|e| {
            errors.push(crate::types::FieldError::new(
                field,
                format!("is not valid JSON: {e}"),
            ))
        })
        .ok()
}
