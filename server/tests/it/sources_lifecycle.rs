//! Inbound webhooks after the first request: replaying a logged request once its mapping
//! is fixed, the rate limit, the duplicate window, the signed sample, the secret's reveal
//! and rotation, the preview, and the log written in the event's own transaction.

use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::Receiver;
use crate::sources::{SECRET, create_source, github, log, now, post, signed};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

crate::on_both_backends!(
    a_replay_reruns_mapping_on_the_stored_request,
    a_rate_limit_answers_429_before_the_body_is_read,
    a_duplicate_window_of_its_own_whatever_the_body,
    signed_samples_and_the_secrets_reveal_rotation_and_retirement,
    the_preview_shows_the_event_or_why_not,
    an_accepted_request_is_logged_in_its_events_transaction,
);

async fn call(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    api(method, app.url(path), Some(key), body).await
}

async fn a_replay_reruns_mapping_on_the_stored_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    event_type(
        &app,
        &key,
        "order.paid",
        json!({"type": "object", "required": ["id"]}),
    )
    .await;
    let receiver = Receiver::start().await;
    endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": receiver.url, "event_types": ["order.paid"]}),
    )
    .await;
    let (id, url) = create_source(
        &app,
        &key,
        json!({"name": "shop", "event_type": "order.created",
               "verification": {"type": "github", "secret": "s3"},
               "event_type_from": {"json_path": "kind", "map": {"created": "order.created"}}}),
    )
    .await;
    let body = br#"{"kind":"paid","id":"o-9"}"#;
    let (status, r) = post(
        &app,
        &format!("{url}?shop=north"),
        &github("s3", "d-1", body),
        body,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(
        r["error"],
        "body kind is \"paid\", which maps to no event type"
    );
    let entries = log(&app, &key, &id).await;
    let first = entries[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            entries[0]["verified"].as_bool(),
            entries[0]["query"].as_str()
        ),
        (Some(true), Some("shop=north"))
    );
    let replay_path = format!("/api/v1/sources/{id}/requests/{first}/replay");

    // Still unmapped: the replay is logged as invalid again, with the same reason.
    let (status, again) = call(&app, &key, Method::POST, &replay_path, None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["verdict"].as_str(), again["via"].as_str()),
        (Some("invalid"), Some("replay"))
    );
    assert_eq!(again["replay_of"], first.as_str());

    // The mapping is fixed; the stored request (long past any signature tolerance, with
    // its signature masked) becomes the event it should have been.
    let (status, r) = call(
        &app,
        &key,
        Method::PATCH,
        &format!("/api/v1/sources/{id}"),
        Some(json!({"event_type_from": {"json_path": "kind", "map": {"created": "order.created", "paid": "order.paid"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (status, fixed) = call(&app, &key, Method::POST, &replay_path, None).await;
    assert_eq!(status, StatusCode::OK, "{fixed}");
    assert_eq!(fixed["verdict"], "accepted", "{fixed}");
    let event_id = fixed["event_id"].as_str().unwrap().to_owned();
    let hits = receiver.wait_for(1, Duration::from_secs(5)).await;
    let delivered: Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(
        (delivered["id"].as_str(), delivered["event_type"].as_str()),
        (Some(event_id.as_str()), Some("order.paid"))
    );
    // Replayed again: the delivery id (X-GitHub-Delivery) was seen, so it is a duplicate.
    let (_, dup) = call(&app, &key, Method::POST, &replay_path, None).await;
    assert_eq!(
        (dup["verdict"].as_str(), dup["event_id"].as_str()),
        (Some("duplicate"), Some(event_id.as_str()))
    );

    // Only a verified request may be replayed; another source's request is not found.
    let (status, _) = post(&app, &url, &github("wrong", "d-2", body), body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let refused = log(&app, &key, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, r) = call(
        &app,
        &key,
        Method::POST,
        &format!("/api/v1/sources/{id}/requests/{refused}/replay"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("signature mismatch"),
        "{r}"
    );
    let (other, _) = create_source(
        &app,
        &key,
        json!({"name": "other", "event_type": "order.created", "verification": {"type": "none"}}),
    )
    .await;
    let (status, _) = call(
        &app,
        &key,
        Method::POST,
        &format!("/api/v1/sources/{other}/requests/{first}/replay"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        &key,
        Method::POST,
        &format!("/api/v1/sources/{id}/requests/nope/replay"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A publish-only key may not replay.
    let publisher = app.api_key(ApiKeyScope::Publish).await;
    let (status, _) = api(Method::POST, app.url(&replay_path), Some(&publisher), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(receiver.hits().len(), 1);
    app.stop().await;
}

async fn a_rate_limit_answers_429_before_the_body_is_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let (status, r) = call(
        &app,
        &key,
        Method::POST,
        "/api/v1/sources",
        Some(json!({
        "name": "x", "event_type": "order.created", "verification": {"type": "none"},
        "rate_limit_per_second": 0})),
    )
    .await;
    assert_eq!(
        (status, error_paths(&r)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["rate_limit_per_second".to_string()]
        )
    );
    let (id, url) = create_source(
        &app,
        &key,
        json!({"name": "burst", "event_type": "order.created",
        "verification": {"type": "none"}, "rate_limit_per_second": 2}),
    )
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..4 {
        let res = reqwest::Client::new()
            .post(app.url(&url))
            .header("content-type", "application/json")
            .body(format!(r#"{{"n":{i}}}"#))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
    }
    assert_eq!(&statuses[..2], [202, 202], "{statuses:?}");
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    let entries = log(&app, &key, &id).await;
    let limited = entries.iter().find(|e| e["status"] == 429).unwrap();
    assert_eq!(limited["verdict"], "refused");
    assert_eq!(
        limited["reason"],
        "over the source's rate limit of 2 requests per second"
    );
    assert_eq!(limited["body"], "", "not read, not kept");
    // A second later the bucket has refilled.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = post(&app, &url, &[], br#"{"n":9}"#).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.stop().await;
}

async fn a_duplicate_window_of_its_own_whatever_the_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let (status, r) = call(
        &app,
        &key,
        Method::POST,
        "/api/v1/sources",
        Some(json!({
        "name": "x", "event_type": "order.created", "verification": {"type": "none"},
        "dedup": {"header": "x-id", "json_path": "id", "window_secs": 59}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(error_paths(&r), ["dedup", "dedup.window_secs"]);
    let (_, url) = create_source(
        &app,
        &key,
        json!({"name": "w", "event_type": "order.created",
        "verification": {"type": "standard_webhooks", "secret": SECRET},
        "dedup": {"window_secs": 60}}),
    )
    .await;
    let body = br#"{"n":1}"#;
    let (status, first) = post(&app, &url, &signed("msg_a", now(), body), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    // The partner's retry of msg_a with another body and timestamp: still a duplicate.
    let changed = br#"{"n":2}"#;
    let (status, dup) = post(&app, &url, &signed("msg_a", now() - 1, changed), changed).await;
    assert_eq!(status, StatusCode::OK, "{dup}");
    assert_eq!(dup["event_id"], first["event_id"]);
    // The key is kept for the source's window (60 s), not the day of the REST API's keys.
    let db = app::backend::Db::connect(&app.db_url).await.unwrap();
    let left: Vec<i64> = crate::sql::column(
        &db,
        "SELECT expires_at FROM idempotency_keys WHERE key = $1",
        &["msg_a"],
    )
    .await;
    let left = left[0] - app::backend::now_ms();
    assert!((50_000..=60_000).contains(&left), "{left} ms left");
    // Once the window has passed, the id is new again.
    crate::sql::execute(
        &db,
        "UPDATE idempotency_keys SET expires_at = 0 WHERE key = $1",
        &["msg_a"],
    )
    .await
    .unwrap();
    let (status, again) = post(&app, &url, &signed("msg_a", now(), body), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_ne!(again["event_id"], first["event_id"]);
    app.stop().await;
}

async fn signed_samples_and_the_secrets_reveal_rotation_and_retirement(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let (status, _) = call(
        &app,
        &key,
        Method::POST,
        "/api/v1/event-types",
        Some(json!({
        "name": "order.created", "schema": {"type": "object", "required": ["id"]},
        "example": {"id": "o-1", "total": 12}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let receiver = Receiver::start().await;
    endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    let (id, url) = create_source(
        &app,
        &key,
        json!({"name": "gh", "event_type": "order.created",
        "verification": {"type": "github", "secret": "first"}, "allowed_ips": ["192.0.2.0/24"]}),
    )
    .await;

    // The sample is signed with the source's secret, as GitHub signs (the allowlist is for
    // posted requests), and delivered; the tampered one is refused with its reason.
    let sample = format!("/api/v1/sources/{id}/sample");
    let (status, ok) = call(&app, &key, Method::POST, &sample, Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_eq!(
        (ok["verdict"].as_str(), ok["via"].as_str()),
        (Some("accepted"), Some("sample")),
        "{ok}"
    );
    assert_eq!(ok["headers"]["x-hub-signature-256"], "***");
    let hits = receiver.wait_for(1, Duration::from_secs(5)).await;
    let delivered: Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(delivered["data"], json!({"id": "o-1", "total": 12}));
    let (_, bad) = call(
        &app,
        &key,
        Method::POST,
        &sample,
        Some(json!({"tampered": true})),
    )
    .await;
    assert_eq!(
        (bad["verdict"].as_str(), bad["reason"].as_str()),
        (Some("refused"), Some("signature mismatch"))
    );

    // Reveal: editors only, audited.
    let (status, s) = call(
        &app,
        &key,
        Method::GET,
        &format!("/api/v1/sources/{id}/secret"),
        None,
    )
    .await;
    assert_eq!(
        (status, s["secret"].as_str()),
        (StatusCode::OK, Some("first"))
    );
    let publisher = app.api_key(ApiKeyScope::Publish).await;
    let (status, _) = api(
        Method::GET,
        app.url(&format!("/api/v1/sources/{id}/secret")),
        Some(&publisher),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Rotate to a secret Hookline makes: both are accepted while GitHub is switched over.
    let (status, rotated) = call(
        &app,
        &key,
        Method::POST,
        &format!("/api/v1/sources/{id}/secret/rotate"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        (new.len(), rotated["previous"].as_str()),
        (64, Some("first"))
    );
    let allowed = |app: &TestApp, secret: &str, delivery: &str| {
        let body = br#"{"id":"o-2"}"#.to_vec();
        let headers = github(secret, delivery, &body);
        let url = app.url(&url);
        async move {
            let mut req = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send().await.unwrap().status()
        }
    };
    // Direct posts come from 127.0.0.1, outside the allowlist: it is widened for this.
    let (status, _) = call(
        &app,
        &key,
        Method::PATCH,
        &format!("/api/v1/sources/{id}"),
        Some(json!({"allowed_ips": ["127.0.0.0/8"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(allowed(&app, "first", "d-1").await, StatusCode::ACCEPTED);
    assert_eq!(allowed(&app, &new, "d-2").await, StatusCode::ACCEPTED);
    let (status, view) = call(
        &app,
        &key,
        Method::POST,
        &format!("/api/v1/sources/{id}/secret/retire"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(
        view["verification"].get("previous_secret").is_none(),
        "{view}"
    );
    assert_eq!(
        allowed(&app, "first", "d-3").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(allowed(&app, &new, "d-4").await, StatusCode::ACCEPTED);

    // Stripe issues its own secrets: a rotation must be given the new one.
    let (stripe, _) = create_source(
        &app,
        &key,
        json!({"name": "st", "event_type": "order.created",
        "verification": {"type": "stripe", "secret": "whsec_a"}}),
    )
    .await;
    let rotate = format!("/api/v1/sources/{stripe}/secret/rotate");
    // Its kind, not the request's shape, is what stands in the way: a conflict.
    let (status, r) = call(&app, &key, Method::POST, &rotate, Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("stripe issues its own"),
        "{r}"
    );
    let (status, r) = call(
        &app,
        &key,
        Method::POST,
        &rotate,
        Some(json!({"secret": "whsec_b"})),
    )
    .await;
    assert_eq!(
        (status, r["secret"].as_str(), r["previous"].as_str()),
        (StatusCode::OK, Some("whsec_b"), Some("whsec_a"))
    );
    let (_, stripe_sample) = call(
        &app,
        &key,
        Method::POST,
        &format!("/api/v1/sources/{stripe}/sample"),
        Some(json!({})),
    )
    .await;
    assert_eq!(stripe_sample["verdict"], "accepted", "{stripe_sample}");

    // Secrets never appear in the audit log; the reveal and the rotations do.
    let (_, audit) = call(&app, &key, Method::GET, "/api/v1/audit?limit=100", None).await;
    let text = audit.to_string();
    assert!(
        !text.contains(&new) && !text.contains("whsec_b") && !text.contains("\"first\""),
        "{text}"
    );
    for action in ["reveal_secret", "rotate_secret", "retire_previous_secret"] {
        assert!(text.contains(action), "{action} in {text}");
    }
    app.stop().await;
}

async fn the_preview_shows_the_event_or_why_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(
        &app,
        &key,
        "order.created",
        json!({"type": "object", "required": ["order"]}),
    )
    .await;
    endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": "https://crm.example", "event_types": ["order.created"]}),
    )
    .await;
    let settings = json!({"name": "erp", "event_type": "order.created", "verification": {"type": "none"},
        "transform": {"data": {"order": "{{ body.Order.Id }}", "via": "{{ headers.x-erp }}"},
                      "context": {"shop": "{{ query.shop }}"}}});
    let preview = |body: &str| {
        json!({"settings": settings, "body": body, "query": "shop=north",
        "headers": {"Content-Type": "application/xml", "X-ERP": "sap"}})
    };
    let (status, p) = call(
        &app,
        &key,
        Method::POST,
        "/api/v1/sources/preview",
        Some(preview("<Order><Id>42</Id></Order>")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["event_type"], "order.created");
    assert_eq!(p["data"], json!({"order": "42", "via": "sap"}));
    assert_eq!(p["context"], json!({"shop": "north"}));
    assert_eq!(
        (
            p["endpoints"].as_u64(),
            p["errors"].as_array().unwrap().len()
        ),
        (Some(1), 0)
    );
    // A field the transform needs is missing: named, and nothing is published or logged.
    let (_, p) = call(
        &app,
        &key,
        Method::POST,
        "/api/v1/sources/preview",
        Some(preview("<Other/>")),
    )
    .await;
    assert!(
        p["errors"][0].as_str().unwrap().contains("transform.data"),
        "{p}"
    );
    let (_, p) = call(
        &app,
        &key,
        Method::POST,
        "/api/v1/sources/preview",
        Some(preview("<Order>")),
    )
    .await;
    assert!(!p["errors"].as_array().unwrap().is_empty(), "{p}");
    let (_, events) = call(&app, &key, Method::GET, "/api/v1/events", None).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

async fn an_accepted_request_is_logged_in_its_events_transaction(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": "https://crm.example"}),
    )
    .await;
    let (id, url) = create_source(
        &app,
        &key,
        json!({"name": "w", "event_type": "order.created",
        "verification": {"type": "standard_webhooks", "secret": SECRET}}),
    )
    .await;
    let faults = &app.state.shared.faults;
    faults.fail_after_event_insert.store(true, Ordering::SeqCst);
    let body = br#"{"n":1}"#;
    let headers = signed("msg_t", now(), body);
    let (status, _) = post(&app, &url, &headers, body).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    faults
        .fail_after_event_insert
        .store(false, Ordering::SeqCst);
    // Nothing of it was kept: no event, no delivery, no duplicate id, no "accepted" entry;
    // the partner's retry is then the first.
    let db = app::backend::Db::connect(&app.db_url).await.unwrap();
    let [counts]: [(i64, i64, i64, i64); 1] = crate::sql::rows(
        &db,
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM deliveries), \
         (SELECT COUNT(*) FROM idempotency_keys), (SELECT COUNT(*) FROM inbound_requests)",
        &[],
    )
    .await
    .try_into()
    .unwrap();
    assert_eq!(counts, (0, 0, 0, 0));
    let (status, first) = post(&app, &url, &headers, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let entries = log(&app, &key, &id).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["event_id"], first["event_id"]);
    app.stop().await;
}
