//! Diagnostics against real receivers: an endpoint's diagnosis from its attempt log names
//! the cause with its evidence (401, 429 with the rate sent, a timeout with the p95, a
//! refused connection), "check my endpoint" makes one request and explains it (server
//! functions and REST), and the portal gets the same for its tenant's endpoints only.

use crate::events::endpoint;
use crate::helpers::*;
use crate::portal_actions::open_portal;
use crate::receiver::{Receiver, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    a_failing_endpoint_is_diagnosed_from_its_attempts,
    the_portal_diagnoses_its_tenants_endpoints_only
);

async fn event_type(app: &TestApp, key: &str) {
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(key),
        Some(json!({"name": "order.created", "schema": {"type": "object"}, "example": {"id": "o-1"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Publishes one event and waits until its delivery is `status`.
async fn deliver(app: &TestApp, key: &str, status: &str) {
    let (code, e) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "order.created", "data": {"id": "o-2"}})),
    )
    .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{e}");
    wait_for_delivery(
        app,
        key,
        e["id"].as_str().unwrap(),
        status,
        Duration::from_secs(10),
    )
    .await;
}

async fn diagnosis(app: &TestApp, admin: &reqwest::Client, id: &str) -> Value {
    let (status, d) = app.call(admin, "diagnose_endpoint", &[("id", id)]).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    d
}

async fn a_failing_endpoint_is_diagnosed_from_its_attempts(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    event_type(&app, &key).await;
    let receiver = Receiver::start().await;
    let id = endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": receiver.url, "event_types": ["order.created"],
        "timeout": "300ms", "retry_schedule": []}),
    )
    .await;
    assert_eq!(diagnosis(&app, &admin, &id).await["finding"], "no_attempts");

    deliver(&app, &key, "succeeded").await;
    let d = diagnosis(&app, &admin, &id).await;
    assert_eq!(d["finding"], "healthy", "{d}");

    receiver.set_default(Reply::status(401));
    deliver(&app, &key, "dead").await;
    let d = diagnosis(&app, &admin, &id).await;
    assert_eq!(d["finding"], "unauthorized", "{d}");
    assert!(
        d["next_step"].as_str().unwrap().contains("signing secret"),
        "{d}"
    );
    assert_eq!(
        (d["attempts_read"].as_u64(), d["failed"].as_u64()),
        (Some(2), Some(1)),
        "{d}"
    );

    receiver.set_default(Reply::status(429).header("retry-after", "30"));
    deliver(&app, &key, "dead").await;
    deliver(&app, &key, "dead").await;
    let d = diagnosis(&app, &admin, &id).await;
    assert_eq!(d["finding"], "rate_limited", "{d}");
    assert!(
        d["detail"]
            .as_str()
            .unwrap()
            .contains("wait 30 s (Retry-After)"),
        "{d}"
    );
    assert!(
        d["detail"]
            .as_str()
            .unwrap()
            .contains("requests in the minute"),
        "{d}"
    );

    receiver.set_default(Reply::status(200).delayed(Duration::from_millis(800)));
    deliver(&app, &key, "dead").await;
    let d = diagnosis(&app, &admin, &id).await;
    assert_eq!(d["finding"], "timeout", "{d}");
    assert!(
        d["headline"].as_str().unwrap().contains("0.3 s timeout"),
        "{d}"
    );
    assert!(
        d["detail"].as_str().unwrap().contains("p95 response time"),
        "{d}"
    );

    // Nothing listening: the connection is refused, and the diagnosis says where.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = endpoint(
        &app,
        &key,
        json!({"name": "gone", "url": format!("http://127.0.0.1:{port}/hooks"),
        "event_types": ["order.created"], "retry_schedule": []}),
    )
    .await;
    receiver.set_default(Reply::status(200));
    let (code, e) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "order.created", "data": {"id": "o-3"}})),
    )
    .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{e}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let d = loop {
        let d = diagnosis(&app, &admin, &refused).await;
        if d["finding"] != "no_attempts" || std::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(d["finding"], "connection_refused", "{d}");
    assert!(
        d["headline"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}")),
        "{d}"
    );

    // Check my endpoint: one request now, explained.
    let (status, check) = app.call(&admin, "check_endpoint", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["result"]["response_status"], 200, "{check}");
    assert_eq!(check["diagnosis"]["finding"], "healthy", "{check}");
    receiver.set_default(Reply::status(404));
    let (_, check) = app.call(&admin, "check_endpoint", &[("id", &id)]).await;
    assert_eq!(check["diagnosis"]["finding"], "not_found", "{check}");
    let viewer = app
        .user_with_role(&admin, "viewer@example.com", "viewer")
        .await;
    let (status, _) = app.call(&viewer, "check_endpoint", &[("id", &id)]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a check sends a request: editors only"
    );
    let (status, _) = app.call(&viewer, "diagnose_endpoint", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK, "anyone may read a diagnosis");

    // The same over REST, with the same checks.
    let path = |tail: &str| app.url(&format!("/api/v1/endpoints/{id}/{tail}"));
    let (status, check) = api(Method::POST, path("check"), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["result"]["response_status"], 404, "{check}");
    assert_eq!(check["diagnosis"]["finding"], "not_found", "{check}");
    let (status, d) = api(Method::GET, path("diagnosis"), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["finding"], "not_found", "{d}");
    let publisher = app.api_key(app::types::ApiKeyScope::Publish).await;
    let hits = receiver.hits().len();
    for (method, tail) in [(Method::GET, "diagnosis"), (Method::POST, "check")] {
        let (status, e) = api(method, path(tail), Some(&publisher), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a publish-only key: {e}");
    }
    assert_eq!(receiver.hits().len(), hits, "a refused check sends nothing");
    let missing = app.url("/api/v1/endpoints/ep_01K0000000000000000000000/diagnosis");
    let (status, e) = api(Method::GET, missing, Some(&key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    app.stop().await;
}

async fn the_portal_diagnoses_its_tenants_endpoints_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    event_type(&app, &key).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(503));
    let ours = endpoint(
        &app,
        &key,
        json!({"name": "acme-crm", "url": receiver.url, "tenant": "acme", "retry_schedule": []}),
    )
    .await;
    let theirs = endpoint(
        &app,
        &key,
        json!({"name": "globex-crm", "url": receiver.url, "tenant": "globex"}),
    )
    .await;
    let (portal, _) = open_portal(&app, &key, "acme", json!(["test_fire"])).await;
    let (status, check) = app
        .call(&portal, "portal_check_endpoint", &[("id", &ours)])
        .await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["diagnosis"]["finding"], "server_error", "{check}");
    let (status, d) = app.call(&portal, "portal_diagnose", &[("id", &ours)]).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["finding"], "server_error", "{d}");
    assert!(d["headline"].as_str().unwrap().contains("HTTP 503"), "{d}");
    for name in ["portal_diagnose", "portal_check_endpoint"] {
        let (status, _) = app.call(&portal, name, &[("id", &theirs)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
    let (read_only, _) = open_portal(&app, &key, "acme", json!([])).await;
    let (status, refused) = app
        .call(&read_only, "portal_check_endpoint", &[("id", &ours)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, _) = app
        .call(&read_only, "portal_diagnose", &[("id", &ours)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(receiver.hits().len(), 1, "only the one check was sent");
    app.stop().await;
}
