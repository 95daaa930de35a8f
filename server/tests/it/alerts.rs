//! Alerts end to end: a rule fires once when its receiver starts failing and once when it
//! recovers, delivered through the normal pipeline to a receiver as the Slack preset's
//! body, with no repeat while the condition holds; on two nodes sharing one Postgres each
//! change is announced once; bad rules are refused naming the field.

use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    an_alert_fires_once_and_resolves_once_as_a_slack_message,
    bad_alert_rules_are_refused_naming_the_field
);

async fn publish_n(app: &TestApp, key: &str, n: usize) {
    for i in 0..n {
        let (status, e) = api(
            Method::POST,
            app.url("/api/v1/events"),
            Some(key),
            Some(json!({"event_type": "order.created", "data": {"id": format!("o-{i}")}})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{e}");
    }
}

/// What the Slack receiver got, as texts.
fn texts(slack: &Receiver) -> Vec<String> {
    slack
        .hits()
        .iter()
        .map(|h| {
            let body: Value = serde_json::from_slice(&h.body).unwrap();
            assert_eq!(body.as_object().unwrap().len(), 1, "only `text`: {body}");
            body["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn wait_for_texts(slack: &Receiver, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let t = texts(slack);
        if t.len() >= n {
            return t;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} messages expected, got {t:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A failing `crm` endpoint, a Slack endpoint on `hookline.alert.*` with the preset's
/// template, and a rule on crm's consecutive failures.
async fn world(app: &TestApp, key: &str) -> (Receiver, Receiver, String) {
    crate::endpoints::event_type(app, key, "order.created", json!({"type": "object"})).await;
    let crm = Receiver::start().await;
    crm.set_default(Reply::status(500));
    let slack = Receiver::start().await;
    let crm_id = endpoint(app, key, json!({"name": "crm", "url": crm.url, "event_types": ["order.created"], "retry_schedule": []})).await;
    let (status, presets) = api(
        Method::GET,
        app.url("/api/v1/endpoint-presets"),
        Some(key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{presets}");
    let template = presets
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "slack")
        .unwrap()["alerts_template"]
        .clone();
    assert_eq!(template, json!({"text": "{{ data.text }}"}));
    endpoint(app, key, json!({"name": "ops-slack", "url": slack.url, "event_types": ["hookline.alert.*"], "template": template})).await;
    let (status, rule) = api(Method::POST, app.url("/api/v1/alert-rules"), Some(key),
        Some(json!({"name": "crm failing", "kind": "consecutive_failures", "endpoint_id": crm_id, "threshold": 3}))).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    (crm, slack, crm_id)
}

async fn an_alert_fires_once_and_resolves_once_as_a_slack_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let (crm, slack, crm_id) = world(&app, &key).await;
    let (status, _) = api(Method::POST, app.url("/api/v1/alert-rules"), Some(&key),
        Some(json!({"name": "crm dead letters", "kind": "dead_letters", "endpoint_id": crm_id, "threshold": 2, "window": "10m"}))).await;
    assert_eq!(status, StatusCode::CREATED);

    publish_n(&app, &key, 4).await;
    let fired = wait_for_texts(&slack, 2).await;
    let mut sorted = fired.clone();
    sorted.sort();
    assert!(
        sorted[0].starts_with("Alert: crm dead letters. crm had "),
        "{fired:?}"
    );
    assert!(
        sorted[1].starts_with("Alert: crm failing. crm has failed "),
        "{fired:?}"
    );
    assert!(
        sorted[1].ends_with("times in a row (threshold 3)."),
        "{fired:?}"
    );
    let (_, rules) = api(
        Method::GET,
        app.url("/api/v1/alert-rules"),
        Some(&key),
        None,
    )
    .await;
    for rule in rules.as_array().unwrap() {
        assert_eq!(rule["firing"][0]["subject"], crm_id.as_str(), "{rule}");
        assert_eq!(rule["firing"][0]["endpoint_name"], "crm", "{rule}");
    }

    // Still failing: no storm, however many rounds pass and failures pile up.
    publish_n(&app, &key, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(texts(&slack).len(), 2, "{:?}", texts(&slack));

    // Recovered: one resolution for the rule whose condition ended (the dead letters stay
    // in the window, so that rule keeps firing, silently).
    crm.set_default(Reply::status(200));
    publish_n(&app, &key, 1).await;
    let all = wait_for_texts(&slack, 3).await;
    assert!(
        all[2].starts_with("Resolved: crm failing. crm has failed 0 times in a row"),
        "{all:?}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(texts(&slack).len(), 3, "{:?}", texts(&slack));
    let (_, events) = api(
        Method::GET,
        app.url("/api/v1/events?event_type=hookline.alert.resolved"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(events["items"].as_array().unwrap().len(), 1, "{events}");
    app.stop().await;
}

#[tokio::test]
async fn on_two_postgres_nodes_each_change_is_announced_once() {
    let first = spawn_app(Backend::Postgres).await;
    let second = spawn_app_on(
        first.db_url.clone(),
        first.dir.clone(),
        Duration::from_secs(3600),
    )
    .await;
    let key = first.api_key(app::types::ApiKeyScope::Admin).await;
    let (crm, slack, _) = world(&first, &key).await;
    publish_n(&second, &key, 4).await;
    wait_for_texts(&slack, 1).await;
    crm.set_default(Reply::status(200));
    publish_n(&first, &key, 1).await;
    wait_for_texts(&slack, 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = texts(&slack);
    assert_eq!(
        t.len(),
        2,
        "one alert and one resolution between both nodes: {t:?}"
    );
    assert!(
        t[0].starts_with("Alert: ") && t[1].starts_with("Resolved: "),
        "{t:?}"
    );
    second.stop().await;
    first.stop().await;
}

async fn bad_alert_rules_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let ep = endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": "https://crm.example/hooks"}),
    )
    .await;
    let cases = [
        (
            json!({"name": "x", "kind": "consecutive_failures"}),
            "threshold",
        ),
        (
            json!({"name": "x", "kind": "failure_rate", "threshold": 150}),
            "threshold",
        ),
        (json!({"name": "", "kind": "lag", "threshold": 60}), "name"),
        (
            json!({"name": "x", "kind": "queue_depth", "threshold": 10, "endpoint_id": ep}),
            "endpoint_id",
        ),
        (
            json!({"name": "x", "kind": "lag", "threshold": 60, "endpoint_id": "ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAB"}),
            "endpoint_id",
        ),
        (
            json!({"name": "x", "kind": "dead_letters", "threshold": 1, "window": "10s"}),
            "window",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = api(
            Method::POST,
            app.url("/api/v1/alert-rules"),
            Some(&key),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(error_paths(&answer), [field], "{body}: {answer}");
    }
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/alert-rules"),
        Some(&key),
        Some(json!({"name": "x", "kind": "loudness", "threshold": 1})),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    let publisher = app.api_key(app::types::ApiKeyScope::Publish).await;
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/alert-rules"),
        Some(&publisher),
        Some(json!({"name": "x", "kind": "lag", "threshold": 60})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, made) = api(
        Method::POST,
        app.url("/api/v1/alert-rules"),
        Some(&key),
        Some(json!({"name": "warn", "kind": "circuit_warning"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["threshold"], 0, "0: 80% of the breaker's limit");
    let id = made["id"].as_str().unwrap();
    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/alert-rules/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/alert-rules/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = api(
        Method::GET,
        app.url("/api/v1/audit?limit=100"),
        Some(&key),
        None,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"] == "alert_rule")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.len(), 2, "{audit}");
    app.stop().await;
}
