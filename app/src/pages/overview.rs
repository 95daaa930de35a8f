//! The overview: the first page after sign-in, with this installation's facts, delivery
//! metrics, and the next steps for a fresh setup.

use super::metrics::{MetricsPanel, stats_resource};
use crate::api::system::get_system_info;
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn Overview() -> impl IntoView {
    let me = expect_context::<Me>();
    let info = Resource::new(|| (), |_| get_system_info());
    let window = RwSignal::new("1h".to_string());
    let stats = stats_resource(Signal::stored(None), window);
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <p>"Signed in as " <strong>{me.email.clone()}</strong> " (" {me.role.as_str()} ")."</p>
        <MetricsPanel stats window title="Deliveries, all endpoints"/>
        <section class="card">
            <h2>"This installation"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(info) => view! {
                            <dl class="facts">
                                <dt>"Version"</dt><dd>{info.version}</dd>
                                <dt>"Storage"</dt><dd data-testid="db-backend">{info.database}</dd>
                                <dt>"Users"</dt><dd>{info.users}</dd>
                            </dl>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        {(me.role == Role::Admin).then(|| view! {
            <section class="card">
                <h2>"Next steps"</h2>
                <p>"Invite your team on the " <A href="/users">"Users"</A> " page: "
                   "admins manage everything, editors change configuration, viewers only look."</p>
            </section>
        })}
    }
}
