//! The sign-in page.

use super::forms::FormMessage;
use crate::AuthContext;
use crate::api::auth::Login;
use crate::types::SessionInfo;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<AuthContext>();
    let login = ServerAction::<Login>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            auth.changed();
            navigate("/", Default::default());
        }
    });
    let error = Signal::derive(move || login.value().get().and_then(Result::err));

    view! {
        <Title text="Sign in"/>
        // Already signed in (or nobody can sign in yet): go where it makes sense.
        <Suspense>
            {move || Suspend::new(async move {
                match auth.session.await {
                    Ok(SessionInfo { needs_setup: true, .. }) => {
                        Some(view! { <Redirect path="/setup"/> }.into_any())
                    }
                    Ok(SessionInfo { me: Some(_), .. }) => {
                        Some(view! { <Redirect path="/"/> }.into_any())
                    }
                    _ => None,
                }
            })}
        </Suspense>
        <main class="centered">
            <div class="card narrow">
                <h1 class="brand-title">"Hookline"</h1>
                <p class="muted">"Sign in to manage webhooks."</p>
                <ActionForm action=login attr:class="stack" attr:aria-label="Sign in">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required/>
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                    />
                    <FormMessage error/>
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
