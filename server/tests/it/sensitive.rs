//! Sensitive payload fields (issue 9, seed 001): an event type marks paths whose values
//! only admins see; everyone else gets `***` in events and attempt logs, through both
//! doors. Each endpoint receives them as they are, masked, or removed, signed as sent.

use crate::delivery::verify;
use crate::helpers::*;
use crate::receiver::Receiver;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    sensitive_fields_reach_each_endpoint_as_it_chose_and_only_admins_see_them,
    sensitive_paths_are_checked_and_marking_more_withholds_older_attempt_logs,
);

const CARD: &str = "4242424242424242";
const EMAIL: &str = "jo@customer.example";

async fn get_ok(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, body) = api(Method::GET, app.url(path), Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// Creates or replaces `card.charged` with these sensitive fields.
async fn card_type(app: &TestApp, key: &str, sensitive: Value) -> (StatusCode, Value) {
    let body = json!({"schema": {"type": "object"}, "sensitive_fields": sensitive});
    let url = app.url("/api/v1/event-types/card.charged");
    let (status, answer) = api(Method::PUT, url, Some(key), Some(body.clone())).await;
    if status != StatusCode::NOT_FOUND {
        return (status, answer);
    }
    let mut body = body;
    body["name"] = json!("card.charged");
    api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(key),
        Some(body),
    )
    .await
}

async fn endpoint(app: &TestApp, key: &str, receiver: &Receiver, extra: Value) -> String {
    let mut body = json!({"name": "ep", "url": receiver.url, "event_types": ["card.charged"]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(key),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    ep["id"].as_str().unwrap().to_owned()
}

async fn publish(app: &TestApp, key: &str) -> String {
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "card.charged", "data": {
            "card": {"number": CARD, "brand": "visa"},
            "customers": [{"email": EMAIL, "name": "Jo"}],
            "amount": 1250
        }})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Every delivery of `event` once all have succeeded, by endpoint id.
async fn delivered(app: &TestApp, key: &str, event: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let e = get_ok(app, key, &format!("/api/v1/events/{event}")).await;
        let ds = e["deliveries"].as_array().unwrap();
        if ds.len() == n && ds.iter().all(|d| d["status"] == "succeeded") {
            return ds.clone();
        }
        assert!(std::time::Instant::now() < deadline, "not delivered: {e}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn delivery_of<'a>(ds: &'a [Value], endpoint: &str) -> &'a str {
    ds.iter()
        .find(|d| d["endpoint_id"] == endpoint)
        .and_then(|d| d["id"].as_str())
        .unwrap()
}

async fn secret(app: &TestApp, key: &str, id: &str) -> String {
    let s = get_ok(app, key, &format!("/api/v1/endpoints/{id}/secret")).await;
    s["secret"].as_str().unwrap().to_owned()
}

async fn sensitive_fields_reach_each_endpoint_as_it_chose_and_only_admins_see_them(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let (status, t) = card_type(
        &app,
        &key,
        json!(["data.card.number", "data.customers[*].email"]),
    )
    .await;
    assert!(status.is_success(), "{t}");
    assert_eq!(
        t["sensitive_fields"],
        json!(["data.card.number", "data.customers[*].email"])
    );
    let (to_send, to_mask, to_remove) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let send = endpoint(&app, &key, &to_send, json!({})).await;
    let mask = endpoint(&app, &key, &to_mask, json!({"sensitive_data": "mask"})).await;
    let remove = endpoint(
        &app,
        &key,
        &to_remove,
        json!({"sensitive_data": "remove", "format": "xml"}),
    )
    .await;
    let got = get_ok(&app, &key, &format!("/api/v1/endpoints/{remove}")).await;
    assert_eq!(got["sensitive_data"], "remove");
    let event = publish(&app, &key).await;
    let ds = delivered(&app, &key, &event, 3).await;

    // What each endpoint received, signed as it was sent.
    let hit = |r: &Receiver| r.hits().into_iter().next().expect("one request");
    let (sent, masked, removed) = (hit(&to_send), hit(&to_mask), hit(&to_remove));
    verify(&secret(&app, &key, &send).await, &sent);
    verify(&secret(&app, &key, &mask).await, &masked);
    verify(&secret(&app, &key, &remove).await, &removed);
    let sent: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(sent["data"]["card"]["number"], CARD);
    assert_eq!(sent["data"]["customers"][0]["email"], EMAIL);
    let masked: Value = serde_json::from_slice(&masked.body).unwrap();
    assert_eq!(
        masked["data"]["card"],
        json!({"number": "***", "brand": "visa"})
    );
    assert_eq!(
        masked["data"]["customers"][0],
        json!({"email": "***", "name": "Jo"})
    );
    assert_eq!(masked["data"]["amount"], 1250);
    let removed = String::from_utf8(removed.body.to_vec()).unwrap();
    assert!(
        !removed.contains(CARD) && !removed.contains(EMAIL),
        "{removed}"
    );
    assert!(
        !removed.contains("<number>") && !removed.contains("<email>"),
        "{removed}"
    );
    assert!(
        removed.contains("<brand>visa</brand>") && removed.contains("<name>Jo</name>"),
        "{removed}"
    );

    // Admins (an admin key, an admin user) see the values; viewers and editors see ***.
    let admin = app.admin().await;
    let viewer = app
        .user_with_role(&admin, "viewer@example.com", "viewer")
        .await;
    let editor = app
        .user_with_role(&admin, "editor@example.com", "editor")
        .await;
    let by_key = get_ok(&app, &key, &format!("/api/v1/events/{event}")).await;
    let (_, by_admin) = app.call(&admin, "get_event", &[("id", &event)]).await;
    for shown in [&by_key, &by_admin] {
        assert_eq!(shown["envelope"]["data"]["card"]["number"], CARD, "{shown}");
    }
    for who in [&viewer, &editor] {
        let (status, shown) = app.call(who, "get_event", &[("id", &event)]).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!(
            shown["envelope"]["data"]["card"]["number"], "***",
            "{shown}"
        );
        assert_eq!(shown["envelope"]["data"]["customers"][0]["email"], "***");
        assert_eq!(shown["envelope"]["data"]["card"]["brand"], "visa");
        assert!(!shown.to_string().contains(CARD) && !shown.to_string().contains(EMAIL));
    }

    // Attempt logs: the admin sees what was sent; the others see it masked.
    let attempt = |d: &Value| d["attempt_log"][0].clone();
    let id = delivery_of(&ds, &send).to_owned();
    let full = attempt(&get_ok(&app, &key, &format!("/api/v1/deliveries/{id}")).await);
    assert!(
        full["request_body"].as_str().unwrap().contains(CARD),
        "{full}"
    );
    assert_eq!(full["request_body_redaction"], "none");
    let (_, seen) = app.call(&viewer, "get_delivery", &[("id", &id)]).await;
    let seen = attempt(&seen);
    assert_eq!(seen["request_body_redaction"], "masked", "{seen}");
    let body: Value = serde_json::from_str(seen["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(body["data"]["card"]["number"], "***");
    assert_eq!(body["data"]["amount"], 1250);
    for ep in [&mask, &remove] {
        let id = delivery_of(&ds, ep).to_owned();
        let (_, seen) = app.call(&viewer, "get_delivery", &[("id", &id)]).await;
        let seen = attempt(&seen);
        assert_eq!(
            seen["request_body_redaction"], "none",
            "sent safe already: {seen}"
        );
        let body = seen["request_body"].as_str().unwrap();
        assert!(!body.is_empty() && !body.contains(CARD), "{seen}");
    }
    // Routing still saw the real values: a filter on a sensitive field matches.
    let to_filtered = Receiver::start().await;
    endpoint(
        &app,
        &key,
        &to_filtered,
        json!({"filter": {"field": "data.card.number", "op": "starts_with", "value": "4242"}}),
    )
    .await;
    let second = publish(&app, &key).await;
    delivered(&app, &key, &second, 4).await;
}

async fn sensitive_paths_are_checked_and_marking_more_withholds_older_attempt_logs(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let (status, body) = card_type(
        &app,
        &key,
        json!([
            "data.card.number",
            "card.number",
            "data..x",
            "data.card.number"
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        error_paths(&body),
        [
            "sensitive_fields[1]",
            "sensitive_fields[2]",
            "sensitive_fields[3]"
        ]
    );
    let many: Vec<String> = (0..33).map(|i| format!("data.f{i}")).collect();
    let (status, body) = card_type(&app, &key, json!(many)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "x", "url": "https://x.example/", "sensitive_data": "hide"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Delivered while only the card number was sensitive…
    let (status, body) = card_type(&app, &key, json!(["data.card.number"])).await;
    assert!(status.is_success(), "{body}");
    let receiver = Receiver::start().await;
    let plain = endpoint(&app, &key, &receiver, json!({})).await;
    let event = publish(&app, &key).await;
    let ds = delivered(&app, &key, &event, 1).await;
    let id = delivery_of(&ds, &plain).to_owned();
    let admin = app.admin().await;
    let viewer = app
        .user_with_role(&admin, "viewer@example.com", "viewer")
        .await;
    let shown = |d: Value| d["attempt_log"][0].clone();
    let (_, seen) = app.call(&viewer, "get_delivery", &[("id", &id)]).await;
    assert_eq!(shown(seen)["request_body_redaction"], "masked");

    // …then the e-mail is marked too: the masked copy does not cover it, so it is withheld.
    let (status, body) = card_type(
        &app,
        &key,
        json!(["data.card.number", "data.customers[*].email"]),
    )
    .await;
    assert!(status.is_success(), "{body}");
    let (_, seen) = app.call(&viewer, "get_delivery", &[("id", &id)]).await;
    let seen = shown(seen);
    assert_eq!(seen["request_body_redaction"], "withheld", "{seen}");
    assert_eq!(seen["request_body"], "");
    let (_, by_admin) = app.call(&admin, "get_delivery", &[("id", &id)]).await;
    let by_admin = shown(by_admin);
    assert!(by_admin["request_body"].as_str().unwrap().contains(EMAIL));
    // The event itself is masked by today's paths, for every event old or new.
    let (_, e) = app.call(&viewer, "get_event", &[("id", &event)]).await;
    assert_eq!(e["envelope"]["data"]["customers"][0]["email"], "***", "{e}");

    // Unmarking: the masked copy covers today's paths (none) again.
    let (status, body) = card_type(&app, &key, json!([])).await;
    assert!(status.is_success(), "{body}");
    let (_, seen) = app.call(&viewer, "get_delivery", &[("id", &id)]).await;
    assert_eq!(shown(seen)["request_body_redaction"], "masked");
}
