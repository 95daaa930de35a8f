//! Custom response handling against a real receiver: a 200 answering `{"ok": false}` is a
//! failure and is retried until the body says `ok: true`; a status in `no_retry` is a dead
//! letter at once; a status in `success` is delivered; the attempt log says which rule
//! decided, and bad rules are refused naming the field.

use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    response_rules_decide_what_counts_as_delivered,
    bad_response_rules_are_refused_naming_the_field
);

async fn publish(app: &TestApp, key: &str) -> String {
    let (status, e) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "order.created", "data": {"id": "o-1"}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

async fn attempts(app: &TestApp, key: &str, delivery: &str) -> Vec<Value> {
    let (_, d) = api(
        Method::GET,
        app.url(&format!("/api/v1/deliveries/{delivery}")),
        Some(key),
        None,
    )
    .await;
    d["attempt_log"].as_array().unwrap().clone()
}

async fn response_rules_decide_what_counts_as_delivered(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    crate::endpoints::event_type(&app, &key, "order.created", json!({"type": "object"})).await;

    // 200 {"ok": false} is a failure, retried; 200 {"ok": true} is delivered.
    let receiver = Receiver::start().await;
    receiver.script(vec![Reply::status(200).body(r#"{"ok": false}"#)]);
    receiver.set_default(Reply::status(200).body(r#"{"ok": true}"#));
    let ep = endpoint(
        &app,
        &key,
        json!({"name": "strict", "url": receiver.url, "event_types": ["order.created"],
        "retry_schedule": ["100ms"], "response_rules": {"body": {"path": "ok", "equals": true}}}),
    )
    .await;
    let (_, stored) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{ep}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(
        stored["response_rules"],
        json!({"success": [], "no_retry": [], "body": {"path": "ok", "equals": true}}),
        "{stored}"
    );
    let event = publish(&app, &key).await;
    let d = wait_for_delivery(&app, &key, &event, "succeeded", Duration::from_secs(10)).await;
    let log = attempts(&app, &key, d["id"].as_str().unwrap()).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["error_class"], "response_rule", "{log:?}");
    assert_eq!(
        log[0]["decided_by"], "body: ok is false, not true",
        "{log:?}"
    );
    assert_eq!(log[1]["error_class"], Value::Null);
    assert_eq!(log[1]["decided_by"], "body: ok == true");
    let (_, diagnosis) = {
        let admin = app.admin().await;
        app.call(&admin, "diagnose_endpoint", &[("id", &ep)]).await
    };
    assert_eq!(diagnosis["finding"], "healthy", "{diagnosis}");

    // A status in no_retry: a dead letter after one attempt; one in success: delivered.
    let picky = Receiver::start().await;
    picky.set_default(Reply::status(422));
    let ep2 = endpoint(&app, &key, json!({"name": "picky", "url": picky.url, "event_types": ["order.created"],
        "retry_schedule": ["100ms", "100ms"], "response_rules": {"success": ["2xx", "304"], "no_retry": ["4xx"]}})).await;
    let (status, _) = api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{ep}")),
        Some(&key),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let event = publish(&app, &key).await;
    let d = wait_for_delivery(&app, &key, &event, "dead", Duration::from_secs(10)).await;
    assert_eq!(d["attempts"], 1, "not retried: {d}");
    let log = attempts(&app, &key, d["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["decided_by"], "no_retry: 4xx", "{log:?}");
    assert!(
        d["last_error"].as_str().unwrap().contains("not retried"),
        "{d}"
    );
    picky.set_default(Reply::status(304));
    let event = publish(&app, &key).await;
    let d = wait_for_delivery(&app, &key, &event, "succeeded", Duration::from_secs(10)).await;
    let log = attempts(&app, &key, d["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["decided_by"], "success: 304", "{log:?}");
    let _ = ep2;
    app.stop().await;
}

async fn bad_response_rules_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let cases = [
        (
            json!({"success": ["200", "abc"]}),
            vec!["response_rules.success[1]"],
        ),
        (
            json!({"no_retry": ["6xx", "99"]}),
            vec!["response_rules.no_retry[0]", "response_rules.no_retry[1]"],
        ),
        (
            json!({"body": {"path": "a..b", "equals": 1}}),
            vec!["response_rules.body.path"],
        ),
    ];
    for (rules, paths) in cases {
        let (status, answer) = api(
            Method::POST,
            app.url("/api/v1/endpoints"),
            Some(&key),
            Some(json!({"name": "x", "url": "https://x.example/hooks", "response_rules": rules})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(error_paths(&answer), paths, "{answer}");
    }
    let (status, _) = api(Method::POST, app.url("/api/v1/endpoints"), Some(&key),
        Some(json!({"name": "x", "url": "https://x.example/hooks", "response_rules": {"sucess": ["2xx"]}}))).await;
    assert!(
        status.is_client_error(),
        "an unknown field is refused: {status}"
    );
    app.stop().await;
}
