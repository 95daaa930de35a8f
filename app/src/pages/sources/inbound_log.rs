//! A source's inbound log, live: the first page comes with the page, then requests arrive
//! from `/live/sources/{id}` as they come in (newest on top). Each row shows its verdict,
//! status and reason, the event it became, and for editors a Replay button on a request
//! that passed verification.

use crate::api::sources::ReplayInbound;
use crate::pages::forms::{FormMessage, TableHead};
use crate::time_fmt;
use crate::types::sources::{InboundRequestView, Verdict, Via};
use crate::types::{Me, Role};
use leptos::prelude::*;
use leptos_router::components::A;

/// Rows kept on screen at most.
const MAX_ROWS: usize = 200;

/// Adds requests not shown yet (replays and samples included), newest first.
fn merge(rows: &mut Vec<InboundRequestView>, new: Vec<InboundRequestView>) {
    for r in new {
        if !rows.iter().any(|x| x.id == r.id) {
            rows.push(r);
        }
    }
    // Ids sort by time of arrival: newest first.
    rows.sort_by(|a, b| b.id.cmp(&a.id));
    rows.truncate(MAX_ROWS);
}

#[component]
pub fn InboundLog(source: String, initial: Vec<InboundRequestView>) -> AnyView {
    let can_replay = expect_context::<Me>().role.allows(Role::Editor);
    let rows = RwSignal::new(initial);
    let live = RwSignal::new(false);
    let url = Signal::derive({
        let source = source.clone();
        move || format!("/live/sources/{source}")
    });
    super::super::live::follow(
        url,
        "requests",
        move |new: Vec<InboundRequestView>| rows.update(|r| merge(r, new)),
        live,
    );
    let replay = ServerAction::<ReplayInbound>::new();
    Effect::new(move |_| {
        if let Some(Ok(r)) = replay.value().get() {
            rows.update(|rows| merge(rows, vec![r]));
        }
    });
    let error = Signal::derive(move || replay.value().get().and_then(Result::err));
    let source = StoredValue::new(source);
    view! {
        <p class="muted live-state" data-testid="live-state">
            {move || if live.get() { "● Live: requests appear here as they come in." } else { "Requests appear here live once the page has loaded." }}
        </p>
        <FormMessage error/>
        <Show when=move || !rows.with(Vec::is_empty) fallback=|| view! {
            <p class="empty">"Nothing received yet: give the URL to the partner, or send a signed sample."</p>
        }>
            <table class="data">
                <TableHead columns=&["Received", "Verdict", "Status", "Why", "Event", "From", ""]/>
                <tbody>
                    <For each=move || rows.get() key=|r| r.id.clone() let:r>
                        {row(r, can_replay, replay, source.get_value())}
                    </For>
                </tbody>
            </table>
        </Show>
    }
    .into_any()
}

fn row(
    r: InboundRequestView,
    can_replay: bool,
    replay: ServerAction<ReplayInbound>,
    source: String,
) -> impl IntoView {
    let class = match r.verdict {
        Verdict::Accepted | Verdict::Duplicate => "status ok",
        Verdict::Refused | Verdict::Invalid => "status off",
    };
    let from = match r.via {
        Via::Http => r.remote_addr.clone(),
        Via::Sample => "signed sample".into(),
        Via::Replay => format!(
            "replay of {}",
            r.replay_of.as_ref().map(|i| i.as_str()).unwrap_or("?")
        ),
    };
    let request = r.id.to_string();
    view! {
        <tr data-testid="inbound-row" data-verdict=r.verdict.as_str() data-via=r.via.as_str()>
            <td class="nowrap">{time_fmt::utc(r.received_at.0)}</td>
            <td><span class=class>{r.verdict.as_str()}</span></td>
            <td>{r.status}</td>
            <td data-testid="inbound-reason">{r.reason.clone().unwrap_or_default()}</td>
            <td>{r.event_id.clone().map(|e| view! { <A href=format!("/events/{e}")><code>{e}</code></A> })}</td>
            <td><code>{from}</code></td>
            <td>{(can_replay && r.verified).then(|| view! {
                <button class="secondary" title="Run mapping and the schema again on this request, with the current settings"
                    on:click=move |_| { replay.dispatch(ReplayInbound { id: source.clone(), request: request.clone() }); }>
                    "Replay"
                </button>
            })}</td>
        </tr>
    }
}
