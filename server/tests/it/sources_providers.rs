//! The presets the npm libraries do not cover end to end, on both databases: Slack (its
//! `url_verification` challenge answered by Hookline, a signed slash command as a form)
//! and Shopify (base64 HMAC of the raw body, its webhook id as the duplicate id), signed
//! per the providers' documented algorithms.

use crate::endpoints::event_type;
use crate::helpers::*;
use crate::sources::{create_source, log, now, post_as};
use app::types::ApiKeyScope;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

crate::on_both_backends!(
    slack_answers_its_challenge_and_takes_a_signed_form,
    shopify_verifies_the_raw_body_and_dedups_by_its_webhook_id,
);

fn mac(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

async fn source(app: &TestApp, key: &str, verification: Value) -> (String, String) {
    let body = json!({"name": "p", "event_type": "chat.command", "verification": verification});
    create_source(app, key, body).await
}

async fn slack_answers_its_challenge_and_takes_a_signed_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(
        &app,
        &key,
        "chat.command",
        json!({"type": "object", "required": ["command"]}),
    )
    .await;
    let secret = "8f742231b10e8888abcd99yyyzzz85a5";
    let (id, url) = source(
        &app,
        &key,
        json!({"type": "slack", "signing_secret": secret}),
    )
    .await;
    let signed = |body: &[u8], ts: i64| {
        let sig: String = mac(secret, &[format!("v0:{ts}:").as_bytes(), body])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        vec![
            ("x-slack-request-timestamp", ts.to_string()),
            ("x-slack-signature", format!("v0={sig}")),
        ]
    };
    // Slack checks a new URL with a signed challenge: answered here, not published.
    let challenge = br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let (status, r) = post_as(
        &app,
        &url,
        "application/json",
        &signed(challenge, now()),
        challenge,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r,
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    // An unsigned challenge is refused like anything else.
    let (status, _) = post_as(&app, &url, "application/json", &[], challenge).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A slash command: form-encoded, signed over the raw bytes.
    let form = b"command=%2Fdeploy&text=web+now&user_name=roadrunner";
    let (status, r) = post_as(
        &app,
        &url,
        "application/x-www-form-urlencoded",
        &signed(form, now()),
        form,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    let (_, event) = api(
        Method::GET,
        app.url(&format!(
            "/api/v1/events/{}",
            r["event_id"].as_str().unwrap()
        )),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(
        event["envelope"]["data"],
        json!({"command": "/deploy", "text": "web now", "user_name": "roadrunner"}),
        "{event}"
    );
    let (status, r) = post_as(
        &app,
        &url,
        "application/x-www-form-urlencoded",
        &signed(form, now() - 400),
        form,
    )
    .await;
    assert_eq!(
        (status, r["error"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("timestamp 6 min old (tolerance 300 s)")
        )
    );
    let entries = log(&app, &key, &id).await;
    let verdicts: Vec<_> = entries
        .iter()
        .map(|e| e["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["refused", "accepted", "refused", "accepted"]);
    assert_eq!(
        entries[3]["reason"],
        "Slack url_verification challenge answered"
    );
    assert!(entries[3]["event_id"].is_null());
    app.stop().await;
}

async fn shopify_verifies_the_raw_body_and_dedups_by_its_webhook_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "chat.command", json!({"type": "object"})).await;
    let (id, url) = source(&app, &key, json!({"type": "shopify", "secret": "hush"})).await;
    let b64 = |body: &[u8], secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(mac(secret, &[body]))
    };
    // Shopify signs the bytes as sent: whitespace and key order are part of it.
    let body = b"{\"id\": 820982911946154508,  \"email\":\"jon@example.com\"}";
    let headers = |sig: String, hook: &str| {
        vec![
            ("x-shopify-hmac-sha256", sig),
            ("x-shopify-webhook-id", hook.to_string()),
        ]
    };
    let (status, first) = post_as(
        &app,
        &url,
        "application/json",
        &headers(b64(body, "hush"), "wh-1"),
        body,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let (status, again) = post_as(
        &app,
        &url,
        "application/json",
        &headers(b64(body, "hush"), "wh-1"),
        body,
    )
    .await;
    assert_eq!(
        (status, &again["event_id"]),
        (StatusCode::OK, &first["event_id"])
    );
    let reformatted = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
    let (status, r) = post_as(
        &app,
        &url,
        "application/json",
        &headers(b64(body, "hush"), "wh-2"),
        reformatted,
    )
    .await;
    assert_eq!(
        (status, r["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature mismatch"))
    );
    let (status, _) = post_as(
        &app,
        &url,
        "application/json",
        &headers(b64(body, "hash"), "wh-3"),
        body,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, r) = post_as(
        &app,
        &url,
        "application/json",
        &[("x-shopify-webhook-id", "wh-4".into())],
        body,
    )
    .await;
    assert_eq!(
        r["error"], "missing header x-shopify-hmac-sha256",
        "{status}"
    );
    let entries = log(&app, &key, &id).await;
    let verdicts: Vec<_> = entries
        .iter()
        .map(|e| e["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        ["refused", "refused", "refused", "duplicate", "accepted"]
    );
    assert_eq!(entries[4]["dedup_key"], "wh-1");
    assert_eq!(entries[4]["headers"]["x-shopify-hmac-sha256"], "***");
    app.stop().await;
}
