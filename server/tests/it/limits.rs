//! Requests have a time limit; the live stream does not.

use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(a_request_past_the_time_limit_is_stopped_with_503);

/// An endpoint whose receiver takes `delay` to answer; returns it with an admin API key.
pub async fn slow_endpoint(app: &TestApp, delay: Duration) -> (Receiver, String, String) {
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(200).delayed(delay));
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "slow", "url": receiver.url, "event_types": ["order.created"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    (receiver, ep["id"].as_str().unwrap().to_owned(), key)
}

/// The dashboard's test-fire (a server function that waits for the receiver).
pub async fn test_fire_from_dashboard(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url("/api/fn/test_fire_endpoint"))
        .header("origin", &app.base)
        .json(&json!({"id": endpoint, "event_type": null, "data": "{}"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn a_request_past_the_time_limit_is_stopped_with_503(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    // 2 s: signing the first admin in (an argon2 hash) must fit inside the limit even on a
    // starved machine; the receiver's 4 s do not.
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.request_timeout = Duration::from_secs(2)
    })
    .await;
    let admin = app.admin().await;
    let (receiver, endpoint, key) = slow_endpoint(&app, Duration::from_secs(4)).await;

    let (status, body) = api(
        Method::POST,
        app.url(&format!("/api/v1/endpoints/{endpoint}/test")),
        Some(&key),
        Some(json!({"data": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "timeout", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("--request-timeout"),
        "{body}"
    );

    let (status, body) = test_fire_from_dashboard(&app, &admin, &endpoint).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["TimedOut"]["limit_secs"], 2, "{body}");
    assert_eq!(
        receiver.hits().len(),
        2,
        "both reached the receiver before the limit"
    );

    // The live stream is meant to stay open: it outlives the limit.
    let stream = crate::live::open(&app, &admin).await;
    assert_eq!(stream.status(), StatusCode::OK);
    crate::live::stays_open(stream, Duration::from_millis(3000)).await;

    // A quick request is unaffected.
    receiver.set_default(Reply::status(200));
    let (status, body) = test_fire_from_dashboard(&app, &admin, &endpoint).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}
