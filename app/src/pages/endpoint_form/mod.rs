//! The endpoint editor. Every field is a signal; saving builds an `EndpointInput` and the
//! server validates it, answering with paths (`headers.X-Team`, `filter.all[0].op`) that
//! land next to the right field. Credentials are never shown: left blank, they stay.
//!
//! `draft` holds the state and its conversions; `fieldsets` the parts of the form.

mod draft;
mod fieldsets;

use crate::api::endpoints::{DeleteEndpoint, SaveEndpoint};
use crate::error::AppError;
use crate::pages::forms::{ConfirmButton, FormMessage};
use crate::types::endpoints::EndpointView;
use crate::types::{Me, Role};
use draft::Draft;
use fieldsets::{DeliveryFields, EventFields, RequestFields, WhereFields};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
/// `catalog`: the event types with their schemas and examples (field paths and previews).
pub fn EndpointForm(
    current: Option<EndpointView>,
    event_types: Vec<String>,
    catalog: Vec<crate::types::EventTypeView>,
) -> AnyView {
    let me = expect_context::<Me>();
    let ro = !me.role.allows(Role::Editor);
    let id = current.as_ref().map(|c| c.id.clone());
    let is_new = id.is_none();
    let d = Draft::new(current.as_ref().map(|c| &c.settings), &event_types);
    let save = ServerAction::<SaveEndpoint>::new();
    let remove = ServerAction::<DeleteEndpoint>::new();
    let local_errors = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || {
        local_errors
            .get()
            .or_else(|| save.value().get().and_then(Result::err))
    });
    let navigate = use_navigate();
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Some(Ok(saved)) = save.value().get() {
                navigate(&format!("/endpoints/{}", saved.id), Default::default());
            }
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            navigate("/endpoints", Default::default());
        }
    });
    let save_id = id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match d.build() {
            Ok(input) => {
                local_errors.set(None);
                save.dispatch(SaveEndpoint {
                    id: save_id.as_ref().map(ToString::to_string),
                    input,
                });
            }
            Err(errors) => local_errors.set(Some(AppError::invalid_many(errors))),
        }
    };
    let secret_hint = if is_new {
        ""
    } else {
        "(leave blank to keep the stored one)"
    };
    let known = event_types.clone();

    view! {
        <form class="card endpoint-form" on:submit=submit aria-label="Endpoint settings">
            <WhereFields d error ro/>
            <EventFields d error ro known catalog=catalog.clone()/>
            <RequestFields d error ro secret_hint catalog/>
            <DeliveryFields d error ro/>
            <FormMessage error fields=&["name", "url", "description", "event_types", "tenant", "filter", "headers", "auth.header", "auth.value", "auth.token", "auth.username", "auth.password", "auth.token_url", "auth.client_id", "auth.client_secret", "template", "timeout", "retry_schedule", "rate_limit_per_minute", "max_concurrency", "batch", "batch.max_events", "batch.max_wait"]/>
            {(!ro).then(|| view! {
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {if is_new { "Create endpoint" } else { "Save changes" }}
                </button>
            })}
        </form>
        {(!ro && !is_new).then(|| {
            let id = id.as_ref().map(ToString::to_string).unwrap_or_default();
            view! {
                <section class="card danger-zone">
                    <h2>"Delete"</h2>
                    <p class="muted">"Undelivered events to this endpoint are cancelled (and stay visible)."</p>
                    <ConfirmButton label="Delete endpoint…" question="Delete this endpoint?" confirm="Delete"
                        on_confirm=move |_| { remove.dispatch(DeleteEndpoint { id: id.clone() }); }/>
                    <FormMessage error=Signal::derive(move || remove.value().get().and_then(Result::err))/>
                </section>
            }
        })}
    }
    .into_any()
}
