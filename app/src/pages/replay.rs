//! Bulk replay from the dead-letter view: re-queue an endpoint's dead (or retrying)
//! deliveries at once and follow the progress until every one has an outcome again.

use super::forms::FormMessage;
use crate::api::deliveries::{ReplayEndpoint, replay_progress};
use crate::types::events::ReplayView;
use crate::types::{Me, Role};
use leptos::prelude::*;

#[component]
pub fn ReplayPanel(
    #[prop(into)] endpoint: Signal<String>,
    #[prop(into)] status: Signal<String>,
) -> impl IntoView {
    let me = expect_context::<Me>();
    let start = ServerAction::<ReplayEndpoint>::new();
    let progress = RwSignal::new(None::<ReplayView>);
    let error = Signal::derive(move || start.value().get().and_then(Result::err));
    // Follow the replay once a second until it is done.
    Effect::new(move |_| {
        if let Some(Ok(r)) = start.value().get() {
            progress.set(Some(r));
        }
    });
    Effect::new(move |_| {
        let Some(r) = progress.get() else { return };
        if r.done {
            return;
        }
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(now) = replay_progress(r.id.to_string()).await {
                        progress.set(Some(now));
                    }
                });
            },
            std::time::Duration::from_millis(1000),
        );
    });
    let replayable = move || matches!(status.get().as_str(), "dead" | "failed");
    view! {
        <Show when=move || me.role.allows(Role::Editor) && replayable()>
            <div class="replay" data-testid="replay">
                {move || if endpoint.get().is_empty() {
                    view! { <p class="muted">"Choose an endpoint above to replay its " {status.get()} " deliveries in bulk."</p> }.into_any()
                } else {
                    view! {
                        <button class="primary" data-testid="replay-start" disabled=move || start.pending().get()
                            on:click=move |_| { start.dispatch(ReplayEndpoint { endpoint: endpoint.get_untracked(), status: status.get_untracked() }); }>
                            "Replay all " {move || status.get()} " deliveries of this endpoint"
                        </button>
                    }.into_any()
                }}
                <FormMessage error/>
                {move || progress.get().map(|r| {
                    let finished = r.succeeded + r.failed;
                    view! {
                        <p role="status" data-testid="replay-progress">
                            {if r.done { "Replay finished: " } else { "Replaying: " }}
                            {r.total} " re-queued · " {r.succeeded} " delivered · " {r.failed} " failed again · " {r.pending} " waiting"
                        </p>
                        <progress max=r.total.max(1) value=finished aria-label="Replay progress"></progress>
                    }
                })}
            </div>
        </Show>
    }
}
