//! Standard Webhooks v1a (ed25519) signatures, verified by PyPI's `cryptography`
//! (scripts/verify_v1a.py) with the `whpk_` public key the API shows: through a rotation
//! (both keys sign), a tampered body or a wrong key fails, and a scheme change replaces
//! the secret with no overlap.

use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::{Hit, Receiver};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

crate::on_both_backends!(v1a_signatures_verify_with_the_public_key);

fn case(hit: &Hit, public_key: &str, body: Option<&str>) -> Value {
    let h = |n: &str| hit.headers[n].to_str().unwrap().to_owned();
    json!({
        "public_key": public_key,
        "id": h("webhook-id"),
        "timestamp": h("webhook-timestamp"),
        "signature": h("webhook-signature"),
        "body": body.map(str::to_owned).unwrap_or_else(|| String::from_utf8(hit.body.to_vec()).unwrap()),
    })
}

/// What `cryptography` says of each case.
fn python_verifies(cases: &[Value]) -> Vec<bool> {
    let tools = std::env::var("HOOKLINE_TOOLS_DIR")
        .unwrap_or_else(|_| format!("{}/.cache/hookline-tools", std::env::var("HOME").unwrap()));
    let python = format!("{tools}/crypto-venv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/verify_v1a.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} (scripts/install-test-deps.sh installs it): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(cases).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn secret(app: &TestApp, key: &str, id: &str) -> Value {
    let (s, b) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{id}/secret")),
        Some(key),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b
}

async fn publish(app: &TestApp, key: &str) {
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "order.created", "data": {"total": 12.5, "note": "é ✓"}})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
}

async fn v1a_signatures_verify_with_the_public_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    let id = endpoint(
        &app,
        &key,
        json!({"name": "ed", "url": receiver.url, "signature_scheme": "v1a"}),
    )
    .await;
    let first = secret(&app, &key, &id).await;
    let pk1 = first["public_key"].as_str().unwrap().to_owned();
    assert!(pk1.starts_with("whpk_"), "{first}");
    assert!(
        first["secret"].as_str().unwrap().starts_with("whsk_"),
        "{first}"
    );

    publish(&app, &key).await;
    let hit1 = receiver
        .wait_for(1, Duration::from_secs(10))
        .await
        .remove(0);
    let sig = hit1.headers["webhook-signature"].to_str().unwrap();
    assert!(sig.starts_with("v1a,") && !sig.contains(' '), "{sig}");

    // A rotation: the new key and the previous one both sign for the overlap.
    let (s, rotated) = api(
        Method::POST,
        app.url(&format!("/api/v1/endpoints/{id}/secret/rotate")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    let pk2 = rotated["public_key"].as_str().unwrap().to_owned();
    assert_eq!(rotated["previous_public_key"], pk1.as_str());
    assert_ne!(pk1, pk2);
    publish(&app, &key).await;
    let hit2 = receiver
        .wait_for(2, Duration::from_secs(10))
        .await
        .remove(1);
    assert_eq!(
        hit2.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );

    let other = "whpk_".to_string() + &"A".repeat(43) + "=";
    let verdicts = python_verifies(&[
        case(&hit1, &pk1, None),
        case(&hit2, &pk2, None),
        case(&hit2, &pk1, None),
        case(&hit1, &pk1, Some("{\"tampered\":true}")),
        case(&hit1, &pk2, None),
        case(&hit1, &other, None),
    ]);
    assert_eq!(verdicts, [true, true, true, false, false, false]);

    // Back to v1: a new whsec_ secret at once, none of the ed25519 keys kept.
    let (s, b) = api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(&key),
        Some(json!({"signature_scheme": "v1"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let now = secret(&app, &key, &id).await;
    let whsec = now["secret"].as_str().unwrap().to_owned();
    assert!(
        whsec.starts_with("whsec_")
            && now.get("public_key").is_none()
            && now.get("previous_secret").is_none(),
        "{now}"
    );
    assert_ne!(
        whsec.trim_start_matches("whsec_"),
        rotated["secret"]
            .as_str()
            .unwrap()
            .trim_start_matches("whsk_")
    );
    publish(&app, &key).await;
    let hit3 = receiver
        .wait_for(3, Duration::from_secs(10))
        .await
        .remove(2);
    crate::delivery::verify(&whsec, &hit3);
    assert_eq!(
        python_verifies(&[case(&hit3, &pk2, None)]),
        [false],
        "a v1 request has no v1a signature"
    );

    let (s, b) = api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(&key),
        Some(json!({"signature_scheme": "v2"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_paths(&b), ["signature_scheme"]);
    app.stop().await;
}
