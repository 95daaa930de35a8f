//! The signing secret of an endpoint: revealed on request, rotated with a confirmation
//! (the previous secret keeps signing for 24 hours). Editors and admins only.

use super::forms::{ConfirmButton, FormMessage};
use crate::api::endpoints::{RevealEndpointSecret, RotateEndpointSecret};
use crate::time_fmt;
use crate::types::endpoints::EndpointSecret;
use crate::types::{Me, Role};
use leptos::prelude::*;

#[component]
pub fn SecretPanel(id: String) -> impl IntoView {
    let me = expect_context::<Me>();
    if !me.role.allows(Role::Editor) {
        return ().into_any();
    }
    let reveal = ServerAction::<RevealEndpointSecret>::new();
    let rotate = ServerAction::<RotateEndpointSecret>::new();
    let shown = RwSignal::new(None::<EndpointSecret>);
    Effect::new(move |_| {
        if let Some(Ok(s)) = reveal.value().get() {
            shown.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(s)) = rotate.value().get() {
            shown.set(Some(s));
        }
    });
    let error = Signal::derive(move || {
        rotate
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| reveal.value().get().and_then(Result::err))
    });
    let reveal_id = id.clone();
    view! {
        <section class="card">
            <h2>"Signing secret"</h2>
            <p class="muted">
                "Receivers verify the " <code>"webhook-signature"</code> " header with this secret "
                "(Standard Webhooks). Keep it out of source control."
            </p>
            {move || match shown.get() {
                Some(s) => view! {
                    <div class="secret-once">
                        {s.public_key.clone().map(|k| view! {
                            <p>"Public key (v1a: give receivers this one; the private key below stays here)"</p>
                            <code data-testid="endpoint-public-key">{k}</code>
                        })}
                        <code data-testid="endpoint-secret">{s.secret.clone()}</code>
                        {s.previous_secret.clone().map(|p| view! {
                            <p class="muted">
                                "The previous secret " <code>{p}</code> " also signs until "
                                {s.previous_expires_at.map(|t| time_fmt::utc(t.0)).unwrap_or_default()} "."
                            </p>
                        })}
                    </div>
                }.into_any(),
                None => {
                    let id = reveal_id.clone();
                    view! {
                        <button class="secondary" on:click=move |_| { reveal.dispatch(RevealEndpointSecret { id: id.clone() }); }>
                            "Reveal secret"
                        </button>
                    }.into_any()
                }
            }}
            <div class="row-gap">
                <ConfirmButton
                    label="Rotate secret…"
                    question="Make a new secret? The current one keeps signing beside it for 24 hours."
                    confirm="Rotate"
                    on_confirm=move |_| { rotate.dispatch(RotateEndpointSecret { id: id.clone() }); }
                />
            </div>
            <FormMessage error/>
        </section>
    }
    .into_any()
}
