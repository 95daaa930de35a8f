//! The page for an unknown address (answered with 404).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    super::set_status(404);
    view! {
        <Title text="Not found"/>
        <main class="centered">
            <div class="card narrow">
                <h1>"Not found"</h1>
                <p>"There is no page at this address."</p>
                <A href="/">"Back to the dashboard"</A>
            </div>
        </main>
    }
}
