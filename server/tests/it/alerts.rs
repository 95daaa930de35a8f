//! Alerts end to end: a rule fires once when its receiver starts failing and once when it
//! recovers, delivered through the normal pipeline to a receiver as the Slack preset's
//! body, with no repeat while the condition holds; on two nodes sharing one Postgres each
//! change is announced once; an announcement a node died before publishing is published
//! by the next round, once; bad rules are refused naming the field.

use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    an_alert_fires_once_and_resolves_once_as_a_slack_message,
    an_announcement_left_by_a_stopped_node_is_published_once,
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

/// No storm: after more rounds than a storm needs, still `n` messages.
async fn still(slack: &Receiver, n: usize) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(texts(slack).len(), n, "{:?}", texts(slack));
}

/// How many events of `event_type` there are.
async fn events_of(app: &TestApp, key: &str, event_type: &str) -> usize {
    let url = app.url(&format!("/api/v1/events?event_type={event_type}"));
    let (status, events) = api(Method::GET, url, Some(key), None).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    events["items"].as_array().unwrap().len()
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
    still(&slack, 2).await;

    // Recovered: one resolution for the rule whose condition ended (the dead letters stay
    // in the window, so that rule keeps firing, silently).
    crm.set_default(Reply::status(200));
    publish_n(&app, &key, 1).await;
    let all = wait_for_texts(&slack, 3).await;
    assert!(
        all[2].starts_with("Resolved: crm failing. crm has failed 0 times in a row"),
        "{all:?}"
    );
    still(&slack, 3).await;
    assert_eq!(events_of(&app, &key, "hookline.alert.resolved").await, 1);
    app.stop().await;
}

/// A node that flipped a rule's state and stopped before publishing leaves the state row
/// with its announcement (the transition writes both in one statement). The next round, on
/// any node, publishes it, and on two Postgres nodes trying at once it is still one event;
/// then the condition (crm never failed) resolves it as usual.
async fn an_announcement_left_by_a_stopped_node_is_published_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let second = match backend {
        Backend::Postgres => Some(
            spawn_app_on(
                app.db_url.clone(),
                app.dir.clone(),
                Duration::from_secs(3600),
            )
            .await,
        ),
        Backend::Sqlite => None,
    };
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let (_crm, slack, crm_id) = world(&app, &key).await;
    let (_, rules) = api(
        Method::GET,
        app.url("/api/v1/alert-rules"),
        Some(&key),
        None,
    )
    .await;
    let rule_id = rules[0]["id"].as_str().unwrap().to_owned();
    let text = "Alert: crm failing. crm has failed 3 times in a row (threshold 3).";
    let announcement = json!({"fired": true, "data": {
        "rule_id": rule_id, "rule": "crm failing", "kind": "consecutive_failures", "subject": crm_id,
        "endpoint_id": crm_id, "endpoint_name": "crm", "value": 3, "threshold": 3, "text": text}});
    let changed_at = app::backend::now_ms() - 5_000;
    crate::sql::execute(
        &app.state.db,
        &format!("INSERT INTO alert_states (rule_id, subject, firing, value, changed_at, announcement) VALUES ($1, $2, TRUE, 3, {changed_at}, $3)"),
        &[&rule_id, &crm_id, &announcement.to_string()],
    )
    .await
    .unwrap();

    let mut got = wait_for_texts(&slack, 2).await;
    still(&slack, 2).await;
    got.sort();
    assert_eq!(
        got[0], text,
        "the waiting announcement, as it was stored: {got:?}"
    );
    assert!(
        got[1].starts_with("Resolved: crm failing. crm has failed 0 times"),
        "{got:?}"
    );
    assert_eq!(events_of(&app, &key, "hookline.alert.fired").await, 1);
    let waiting = crate::sql::count(
        &app.state.db,
        "SELECT COUNT(*) FROM alert_states WHERE announcement IS NOT NULL",
    )
    .await;
    assert_eq!(waiting, 0, "every announcement published and cleared");
    if let Some(second) = second {
        second.stop().await;
    }
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
