//! First-run setup: the first admin account, guarded by the setup token the server prints.

use super::forms::{FieldMessage, FormMessage};
use crate::AuthContext;
use crate::api::auth::CreateFirstAdmin;
use crate::types::SessionInfo;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

/// First run: while no user exists, whoever holds the setup token from the server log
/// creates the first admin.
#[component]
pub fn SetupPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let setup = ServerAction::<CreateFirstAdmin>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = setup.value().get() {
            auth.changed();
            navigate("/", Default::default());
        }
    });
    let error = Signal::derive(move || setup.value().get().and_then(Result::err));

    view! {
        <Title text="Create the first admin"/>
        <Suspense>
            {move || Suspend::new(async move {
                match auth.session.await {
                    Ok(SessionInfo { needs_setup: false, me: Some(_) }) => {
                        Some(view! { <Redirect path="/"/> }.into_any())
                    }
                    Ok(SessionInfo { needs_setup: false, me: None }) => {
                        Some(view! { <Redirect path="/login"/> }.into_any())
                    }
                    _ => None,
                }
            })}
        </Suspense>
        <main class="centered">
            <div class="card narrow">
                <h1 class="brand-title">"Welcome to Hookline"</h1>
                <p>
                    "Create the first admin account. The setup token is printed in the "
                    "server's log when it starts (look for "<code>"setup token"</code>")."
                </p>
                <ActionForm action=setup attr:class="stack" attr:aria-label="Create the first admin">
                    <label for="token">"Setup token"</label>
                    <input id="token" name="token" autocomplete="off" spellcheck="false" required/>
                    <FieldMessage error path="token"/>
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required/>
                    <FieldMessage error path="email"/>
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        minlength="10"
                        required
                    />
                    <FieldMessage error path="password"/>
                    <FormMessage error fields=&["token", "email", "password"]/>
                    <button type="submit" class="primary" disabled=move || setup.pending().get()>
                        "Create admin and sign in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
