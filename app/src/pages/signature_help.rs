//! "Verify your signature": the exact content Hookline signed for a real attempt, and how
//! to verify it in each language with the Standard Webhooks libraries. The signed content
//! is `webhook-id`, `.`, `webhook-timestamp`, `.`, and the raw body as sent; receivers most
//! often break verification by parsing and re-serialising the body first.

use crate::types::events::{AttemptView, Redaction};
use leptos::prelude::*;

/// Bodies are logged up to this many bytes (as the engine does).
const LOGGED_BODY: usize = 64 * 1024;

const SAMPLES: [(&str, &str); 4] = [
    (
        "Python (pip install standardwebhooks)",
        r#"from standardwebhooks.webhooks import Webhook

wh = Webhook("whsec_...")  # this endpoint's signing secret
# raw_body: the request body exactly as received (bytes), before any JSON parsing
payload = wh.verify(raw_body, {
    "webhook-id": headers["webhook-id"],
    "webhook-timestamp": headers["webhook-timestamp"],
    "webhook-signature": headers["webhook-signature"],
})"#,
    ),
    (
        "Node.js (npm install standardwebhooks)",
        r#"import { Webhook } from "standardwebhooks";

const wh = new Webhook("whsec_..."); // this endpoint's signing secret
// rawBody: the body as received (e.g. express.raw({ type: "application/json" }))
const payload = wh.verify(rawBody, {
  "webhook-id": req.headers["webhook-id"],
  "webhook-timestamp": req.headers["webhook-timestamp"],
  "webhook-signature": req.headers["webhook-signature"],
});"#,
    ),
    (
        "Go (github.com/standard-webhooks/standard-webhooks/libraries/go)",
        r#"wh, err := standardwebhooks.NewWebhook("whsec_...")
// body: io.ReadAll(r.Body), before any decoding
err = wh.Verify(body, r.Header)"#,
    ),
    (
        "Any language (HMAC-SHA256 by hand)",
        r#"key       = base64_decode(secret without its "whsec_" prefix)
content   = webhook_id + "." + webhook_timestamp + "." + raw_body
expected  = "v1," + base64(hmac_sha256(key, content))
accept if expected equals one of the space-separated webhook-signature entries
(constant-time compare), and webhook_timestamp is within 5 minutes of now"#,
    ),
];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The help for one attempt, when it was signed the Standard Webhooks way.
#[component]
pub fn SignatureHelp(attempt: AttemptView) -> impl IntoView {
    let headers = &attempt.request_headers;
    let (Some(id), Some(timestamp), Some(signature)) = (
        header(headers, "webhook-id"),
        header(headers, "webhook-timestamp"),
        header(headers, "webhook-signature"),
    ) else {
        return ().into_any();
    };
    let content = format!("{id}.{timestamp}.{}", attempt.request_body);
    let caveat = match attempt.request_body_redaction {
        Redaction::None if attempt.request_body.len() >= LOGGED_BODY => {
            Some("The body was longer than the log keeps (64 KiB): the content below is cut short.")
        }
        Redaction::None => None,
        Redaction::Masked => Some(
            "Sensitive fields are masked here (***), so this is not byte for byte what was signed; the receiver got the real values.",
        ),
        Redaction::Withheld => {
            Some("The body is withheld here, so the signed content cannot be shown.")
        }
    };
    view! {
        <section class="card" aria-labelledby="verify-title" data-testid="signature-help">
            <h2 id="verify-title">"Verify your signature"</h2>
            <p class="muted">
                "Hookline signed this attempt with the endpoint's secret (HMAC-SHA256, Standard Webhooks). "
                "The signed content is the " <code>"webhook-id"</code> ", a dot, the " <code>"webhook-timestamp"</code>
                ", a dot, and the raw body exactly as sent: verify before parsing the JSON, and with the clock within 5 minutes."
            </p>
            {caveat.map(|c| view! { <p class="form-error">{c}</p> })}
            <dl class="facts">
                <dt>"webhook-id"</dt><dd><code>{id.to_owned()}</code></dd>
                <dt>"webhook-timestamp"</dt><dd><code>{timestamp.to_owned()}</code></dd>
                <dt>"webhook-signature"</dt>
                <dd>{if signature == crate::types::endpoints::MASK {
                    view! { <span class="muted">"masked in the log: compare with the header your receiver got"</span> }.into_any()
                } else {
                    view! { <code>{signature.to_owned()}</code> }.into_any()
                }}</dd>
            </dl>
            <h3>"Signed content"</h3>
            <pre class="json small" data-testid="signed-content">{content}</pre>
            {SAMPLES.iter().map(|(title, code)| view! {
                <details>
                    <summary>{*title}</summary>
                    <pre class="json small">{*code}</pre>
                </details>
            }).collect_view()}
        </section>
    }
    .into_any()
}
