use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::Receiver;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

crate::on_both_backends!(private_targets_are_refused_and_logged);

async fn private_targets_are_refused_and_logged(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.allow_private_targets = false
    })
    .await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    // By IP literal, and by a name that resolves to loopback: both refused.
    let named = receiver.url.replace("127.0.0.1", "localhost");
    for url in [receiver.url.clone(), named] {
        let (status, ep) = api(
            Method::POST,
            app.url("/api/v1/endpoints"),
            Some(&key),
            Some(json!({"name": url, "url": url, "retry_schedule": ["1h"]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{ep}");
    }
    let (_, published) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    let event = published["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, e) = api(
            Method::GET,
            app.url(&format!("/api/v1/events/{event}")),
            Some(&key),
            None,
        )
        .await;
        let done: Vec<_> = e["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] == "failed")
            .collect();
        if done.len() == 2 {
            for d in done {
                assert!(d["last_error"].as_str().unwrap().contains("SSRF"), "{d}");
            }
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let classes: Vec<String> =
        crate::sql::column(&app.state.db, "SELECT error_class FROM attempts", &[]).await;
    assert_eq!(
        classes,
        ["ssrf_blocked", "ssrf_blocked"],
        "a recorded attempt, not a silent drop"
    );
    assert!(receiver.hits().is_empty(), "nothing reached the receiver");
    app.stop().await;
}
