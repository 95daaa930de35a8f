//! One delivery attempt as the attempt log shows it, on the dashboard's delivery page and
//! in the portal: outcome, duration, node, the rule that decided it, and the request and
//! response with their headers and pretty-printed bodies.

use super::endpoint_test_fire::pretty;
use crate::time_fmt;
use crate::types::events::{AttemptView, Redaction};
use leptos::prelude::*;

fn headers(list: Vec<(String, String)>) -> impl IntoView {
    view! {
        <table class="data headers">
            <tbody>
                {list.into_iter().map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td><code>{v}</code></td></tr> }).collect_view()}
            </tbody>
        </table>
    }
}

/// One attempt as a card: its outcome, the rule that decided it, the request (headers and
/// body, masked for whoever may not see sensitive fields) and the response.
pub fn attempt_card(a: AttemptView) -> impl IntoView {
    let outcome = match (a.response_status, &a.error_class) {
        (Some(s), _) => format!("HTTP {s}"),
        (None, Some(c)) => c.clone(),
        (None, None) => "no answer".into(),
    };
    let ok = a.delivered();
    view! {
        <section class="card attempt" data-testid="attempt">
            <h3>
                "#" {a.attempt} " · " <span class=if ok { "status ok" } else { "status off" }>{outcome}</span>
                " · " {a.duration_ms} " ms · " {time_fmt::utc(a.started_at.0)}
                <span class="muted">" · node " {a.node.clone()}</span>
            </h3>
            <p><code>"POST " {a.url.clone()}</code></p>
            {a.error.clone().map(|e| view! { <p class="form-error">{e}</p> })}
            {a.decided_by.clone().map(|by| view! { <p class="muted" data-testid="decided-by">"Decided by the response rule " <code>{by}</code></p> })}
            <div class="split">
                <div>
                    <h4>"Request"</h4>
                    {headers(a.request_headers.clone())}
                    {match a.request_body_redaction {
                        Redaction::None => None,
                        Redaction::Masked => Some(view! { <p class="muted" data-testid="body-redaction">"Sensitive fields are shown as ***; only admins see their values."</p> }),
                        Redaction::Withheld => Some(view! { <p class="muted" data-testid="body-redaction">"Withheld: recorded before some of this event type's fields were marked sensitive. Admins can see it."</p> }),
                    }}
                    <pre class="json small" aria-label="Request body">{pretty(&a.request_body)}</pre>
                </div>
                <div>
                    <h4>"Response"</h4>
                    {a.response_headers.clone().map(headers)}
                    {a.response_body.clone().map(|b| view! { <pre class="json small" aria-label="Response body">{pretty(&b)}</pre> })}
                </div>
            </div>
        </section>
    }
}
