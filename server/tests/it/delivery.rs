use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    delivers_a_signed_envelope,
    retries_follow_the_schedule_then_dead_letter,
    retry_after_is_honoured,
    gone_disables_the_endpoint,
    rotation_signs_with_both_secrets,
    templates_and_xml_bodies,
    fifo_order_holds_through_failures,
    concurrency_limit_holds,
    dead_letters_replay_and_retry,
    test_fire_sends_once_and_answers,
    test_fire_goes_through_the_outbox_past_limits_and_batches,
    circuit_breaker,
    oauth2_tokens_are_fetched_and_cached,
    batches_group_and_retry_together,
    stats_and_health_follow_the_attempts,
);

struct Setup {
    app: TestApp,
    key: String,
    receiver: Receiver,
    endpoint: String,
}

async fn setup(backend: Backend, endpoint: Value) -> Setup {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    let mut body = endpoint;
    body["url"] = json!(receiver.url);
    if body.get("name").is_none() {
        body["name"] = json!("receiver");
    }
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    Setup {
        endpoint: ep["id"].as_str().unwrap().to_owned(),
        app,
        key,
        receiver,
    }
}

async fn publish(s: &Setup, data: Value) -> String {
    let (status, body) = api(
        Method::POST,
        s.app.url("/api/v1/events"),
        Some(&s.key),
        Some(json!({"event_type": "order.created", "data": data})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// The delivery of `event` (to the only endpoint), polled until `status` or a timeout.
async fn delivery(s: &Setup, event: &str, status: &str, within: Duration) -> Value {
    wait_for_delivery(&s.app, &s.key, event, status, within).await
}

async fn attempts(
    s: &Setup,
    delivery_id: &str,
) -> Vec<(i64, Option<i64>, Option<String>, String, String)> {
    crate::sql::rows(
        &s.app.state.db,
        "SELECT attempt, response_status, error_class, request_headers, COALESCE(error, '') FROM attempts WHERE delivery_id = $1 ORDER BY attempt",
        &[delivery_id],
    )
    .await
}

async fn secret(s: &Setup) -> Value {
    api(
        Method::GET,
        s.app
            .url(&format!("/api/v1/endpoints/{}/secret", s.endpoint)),
        Some(&s.key),
        None,
    )
    .await
    .1
}

pub fn verify(secret: &str, hit: &crate::receiver::Hit) {
    let wh =
        standardwebhooks::Webhook::new(secret).expect("secret accepted by the official library");
    wh.verify(&hit.body, &hit.headers)
        .expect("signature verifies with the official Standard Webhooks library");
}

async fn delivers_a_signed_envelope(backend: Backend) {
    let s = setup(backend, json!({"headers": {"X-Team": "sales"}, "auth": {"type": "basic", "username": "hook", "password": "hunter2"}})).await;
    let event = publish(&s, json!({"id": "o-1", "total": 42})).await;
    let hits = s.receiver.wait_for(1, Duration::from_secs(5)).await;
    let hit = &hits[0];
    verify(secret(&s).await["secret"].as_str().unwrap(), hit);
    assert_eq!(hit.path, "/hook");
    assert_eq!(hit.headers["webhook-id"], event.as_str());
    assert_eq!(hit.headers["content-type"], "application/json");
    assert!(
        hit.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("Hookline/")
    );
    assert_eq!(hit.headers["x-team"], "sales");
    assert_eq!(hit.headers["authorization"], "Basic aG9vazpodW50ZXIy");
    let body: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(body["id"], event.as_str());
    assert_eq!(body["event_type"], "order.created");
    assert_eq!(body["data"], json!({"id": "o-1", "total": 42}));
    assert_eq!(body["current_context"], json!({}));

    let d = delivery(&s, &event, "succeeded", Duration::from_secs(5)).await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status_code"], 200);
    let log = attempts(&s, d["id"].as_str().unwrap()).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, Some(200));
    assert!(
        log[0].3.contains("***") && !log[0].3.contains("aG9vazpodW50ZXIy"),
        "auth masked in the log: {}",
        log[0].3
    );
    s.app.stop().await;
}

async fn retries_follow_the_schedule_then_dead_letter(backend: Backend) {
    let s = setup(backend, json!({"retry_schedule": ["1s", "1s"]})).await;
    s.receiver.set_default(Reply::status(500));
    let event = publish(&s, json!({})).await;
    let hits = s.receiver.wait_for(3, Duration::from_secs(8)).await;
    for pair in hits.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(750) && gap < Duration::from_millis(2500),
            "1s ±20% apart: {gap:?}"
        );
        assert_eq!(
            pair[0].headers["webhook-id"], pair[1].headers["webhook-id"],
            "the same webhook-id on every retry"
        );
    }
    let d = delivery(&s, &event, "dead", Duration::from_secs(5)).await;
    assert_eq!(d["attempts"], 3);
    assert!(
        d["last_error"]
            .as_str()
            .unwrap()
            .contains("gave up after 3 attempts"),
        "{d}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.receiver.hits().len(), 3, "nothing after the dead letter");
    let log = attempts(&s, d["id"].as_str().unwrap()).await;
    assert_eq!(
        log.iter().map(|a| (a.0, a.1)).collect::<Vec<_>>(),
        [(1, Some(500)), (2, Some(500)), (3, Some(500))]
    );
    assert!(log.iter().all(|a| a.2.as_deref() == Some("http_status")));
    s.app.stop().await;
}

async fn retry_after_is_honoured(backend: Backend) {
    let s = setup(backend, json!({"retry_schedule": ["1s"]})).await;
    s.receiver
        .script(vec![Reply::status(503).header("retry-after", "3")]);
    let event = publish(&s, json!({})).await;
    let hits = s.receiver.wait_for(2, Duration::from_secs(8)).await;
    let gap = hits[1].at - hits[0].at;
    assert!(
        gap >= Duration::from_millis(2900),
        "waited as Retry-After asked: {gap:?}"
    );
    delivery(&s, &event, "succeeded", Duration::from_secs(5)).await;
    s.app.stop().await;
}

async fn gone_disables_the_endpoint(backend: Backend) {
    let s = setup(backend, json!({})).await;
    s.receiver.set_default(Reply::status(410));
    let event = publish(&s, json!({})).await;
    let d = delivery(&s, &event, "dead", Duration::from_secs(5)).await;
    assert!(d["last_error"].as_str().unwrap().contains("410"), "{d}");
    let (_, ep) = api(
        Method::GET,
        s.app.url(&format!("/api/v1/endpoints/{}", s.endpoint)),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(ep["enabled"], false, "{ep}");
    assert!(ep["disabled_reason"].as_str().unwrap().contains("410"));
    let (_, next) = api(
        Method::POST,
        s.app.url("/api/v1/events"),
        Some(&s.key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    assert_eq!(
        next["deliveries"], 0,
        "a disabled endpoint receives nothing new"
    );
    // Enabling it again clears the reason.
    let (_, ep) = api(
        Method::PATCH,
        s.app.url(&format!("/api/v1/endpoints/{}", s.endpoint)),
        Some(&s.key),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(
        (ep["enabled"].clone(), ep["disabled_reason"].clone()),
        (json!(true), Value::Null)
    );
    s.app.stop().await;
}

async fn rotation_signs_with_both_secrets(backend: Backend) {
    let s = setup(backend, json!({})).await;
    let old = secret(&s).await["secret"].as_str().unwrap().to_owned();
    let (_, rotated) = api(
        Method::POST,
        s.app
            .url(&format!("/api/v1/endpoints/{}/secret/rotate", s.endpoint)),
        Some(&s.key),
        None,
    )
    .await;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    publish(&s, json!({})).await;
    let hits = s.receiver.wait_for(1, Duration::from_secs(5)).await;
    let sig = hits[0].headers["webhook-signature"].to_str().unwrap();
    assert_eq!(sig.split(' ').count(), 2, "{sig}");
    verify(&new, &hits[0]);
    verify(&old, &hits[0]);
    s.app.stop().await;
}

async fn templates_and_xml_bodies(backend: Backend) {
    let s = setup(backend, json!({"format": "xml", "template": {"order": "{{ data.id }}", "amount": "{{ data.total }}"}})).await;
    publish(&s, json!({"id": "o-9", "total": 12.5})).await;
    let hits = s.receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(hits[0].headers["content-type"], "application/xml");
    let body = String::from_utf8(hits[0].body.to_vec()).unwrap();
    assert!(
        body.contains("<order>o-9</order>") && body.contains("<amount>12.5</amount>"),
        "{body}"
    );
    verify(secret(&s).await["secret"].as_str().unwrap(), &hits[0]);
    s.app.stop().await;
}

async fn fifo_order_holds_through_failures(backend: Backend) {
    let s = setup(
        backend,
        json!({"ordered": true, "retry_schedule": ["200ms", "200ms", "200ms"]}),
    )
    .await;
    s.receiver
        .script(vec![Reply::status(500), Reply::status(503)]);
    let mut events = Vec::new();
    for i in 0..4 {
        events.push(publish(&s, json!({"n": i})).await);
    }
    let hits = s.receiver.wait_for(6, Duration::from_secs(10)).await;
    let order: Vec<i64> = hits
        .iter()
        .map(|h| {
            serde_json::from_slice::<Value>(&h.body).unwrap()["data"]["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        order,
        [0, 0, 0, 1, 2, 3],
        "each event waits for the one before it"
    );
    for e in &events {
        delivery(&s, e, "succeeded", Duration::from_secs(5)).await;
    }
    s.app.stop().await;
}

async fn concurrency_limit_holds(backend: Backend) {
    let s = setup(backend, json!({"max_concurrency": 2})).await;
    s.receiver
        .set_default(Reply::status(200).delayed(Duration::from_millis(300)));
    for i in 0..6 {
        publish(&s, json!({"n": i})).await;
    }
    s.receiver.wait_for(6, Duration::from_secs(10)).await;
    assert_eq!(
        s.receiver.max_in_flight(),
        2,
        "never more than 2 at once, and it did use 2"
    );
    s.app.stop().await;
}

async fn dead_letters_replay_and_retry(backend: Backend) {
    let s = setup(backend, json!({"retry_schedule": ["200ms"]})).await;
    s.receiver.set_default(Reply::status(500));
    let first = publish(&s, json!({"n": 1})).await;
    let second = publish(&s, json!({"n": 2})).await;
    let dead = delivery(&s, &first, "dead", Duration::from_secs(5)).await;
    delivery(&s, &second, "dead", Duration::from_secs(5)).await;

    // The log: filters and one delivery with every attempt.
    let (status, page) = api(
        Method::GET,
        s.app.url(&format!(
            "/api/v1/deliveries?endpoint={}&status=dead",
            s.endpoint
        )),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (status, body) = api(
        Method::GET,
        s.app.url("/api/v1/deliveries?status=lost"),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let id = dead["id"].as_str().unwrap();
    let (_, detail) = api(
        Method::GET,
        s.app.url(&format!("/api/v1/deliveries/{id}")),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(detail["event_type"], "order.created");
    let attempts = detail["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{detail}");
    assert_eq!(attempts[0]["response_status"], 500);
    assert_eq!(attempts[0]["response_body"], "receiver says hi");
    assert!(
        attempts[0]["request_headers"]
            .to_string()
            .contains("webhook-signature")
    );

    // The receiver recovers: replay the endpoint's failures and watch the progress.
    s.receiver.set_default(Reply::status(200));
    let (status, replay) = api(
        Method::POST,
        s.app
            .url(&format!("/api/v1/endpoints/{}/replay", s.endpoint)),
        Some(&s.key),
        Some(json!({"status": "failed"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replay}");
    assert_eq!(replay["total"], 2);
    let rid = replay["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, p) = api(
            Method::GET,
            s.app.url(&format!("/api/v1/replays/{rid}")),
            Some(&s.key),
            None,
        )
        .await;
        if p["done"] == true {
            assert_eq!(
                (p["succeeded"].clone(), p["failed"].clone()),
                (json!(2), json!(0)),
                "{p}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    delivery(&s, &first, "succeeded", Duration::from_secs(1)).await;

    // A single delivery can be sent again by hand, even a delivered one.
    let before = s.receiver.hits().len();
    let (status, again) = api(
        Method::POST,
        s.app.url(&format!("/api/v1/deliveries/{id}/retry")),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    s.receiver
        .wait_for(before + 1, Duration::from_secs(5))
        .await;
    let (status, _) = api(
        Method::POST,
        s.app.url("/api/v1/deliveries/dlv_missing/retry"),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = api(
        Method::POST,
        s.app
            .url(&format!("/api/v1/endpoints/{}/replay", s.endpoint)),
        Some(&s.key),
        Some(json!({"status": "everything"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Publish keys cannot read the log or replay.
    let publish_key = s.app.api_key(ApiKeyScope::Publish).await;
    let (status, _) = api(
        Method::GET,
        s.app.url("/api/v1/deliveries"),
        Some(&publish_key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.app.stop().await;
}

async fn test_fire_sends_once_and_answers(backend: Backend) {
    let s = setup(backend, json!({"event_types": ["order.created"]})).await;
    let url = s.app.url(&format!("/api/v1/endpoints/{}/test", s.endpoint));
    let (status, body) = api(Method::POST, url.clone(), Some(&s.key), Some(json!({}))).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no example and no data: {body}"
    );
    assert_eq!(body["errors"][0]["path"], "data");

    let (status, r) = api(
        Method::POST,
        url.clone(),
        Some(&s.key),
        Some(json!({"data": {"id": "t-1"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["response_status"], 200);
    assert_eq!(r["response_body"], "receiver says hi");
    let hits = s.receiver.wait_for(1, Duration::from_secs(2)).await;
    verify(secret(&s).await["secret"].as_str().unwrap(), &hits[0]);
    assert_eq!(
        hits[0].headers["webhook-id"],
        r["event_id"].as_str().unwrap()
    );

    // A failure is reported, not retried.
    s.receiver.set_default(Reply::status(500));
    let (_, r) = api(
        Method::POST,
        url.clone(),
        Some(&s.key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    assert_eq!(
        (r["status"].clone(), r["response_status"].clone()),
        (json!("dead"), json!(500)),
        "{r}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.receiver.hits().len(), 2, "sent once each");

    let (status, _) = api(
        Method::POST,
        url.clone(),
        Some(&s.key),
        Some(json!({"event_type": "stock.low", "data": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not subscribed");
    let publish_key = s.app.api_key(ApiKeyScope::Publish).await;
    let (status, _) = api(
        Method::POST,
        url,
        Some(&publish_key),
        Some(json!({"data": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.app.stop().await;
}

/// Test-fire is written to the outbox and sent by whichever engine claims it: once, on its
/// own, past the endpoint's rate limit and batch, also when the endpoint is disabled and
/// when the node asked runs no engine.
async fn test_fire_goes_through_the_outbox_past_limits_and_batches(backend: Backend) {
    let s = setup(
        backend,
        json!({"event_types": ["order.created"], "rate_limit_per_minute": 1, "max_concurrency": 1,
               "batch": {"max_events": 10, "max_wait": "30s"}}),
    )
    .await;
    // The endpoint's one token goes to a published event, whose batch then waits 30 s.
    let (status, _) = api(
        Method::POST,
        s.app.url("/api/v1/events"),
        Some(&s.key),
        Some(json!({"event_type": "order.created", "data": {"n": 1}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let fire = |app: &TestApp| {
        api(
            Method::POST,
            app.url(&format!("/api/v1/endpoints/{}/test", s.endpoint)),
            Some(&s.key),
            Some(json!({"data": {"test": true}})),
        )
    };
    let (status, r) = fire(&s.app).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r["status"], "succeeded",
        "not held by the limit or the batch: {r}"
    );
    let hits = s.receiver.wait_for(1, Duration::from_secs(2)).await;
    let body: Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(
        body["id"], r["event_id"],
        "sent on its own, not in a batch: {body}"
    );
    assert_eq!(body["data"], json!({"test": true}));

    // Disabled: not routed, but still tested.
    let (status, _) = api(
        Method::PATCH,
        s.app.url(&format!("/api/v1/endpoints/{}", s.endpoint)),
        Some(&s.key),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, r) = fire(&s.app).await;
    assert_eq!(r["status"], "succeeded", "{r}");

    // A node without an engine writes it; the other node's engine sends it.
    let api_only = spawn_app_with(s.app.db_url.clone(), s.app.dir.clone(), |a| {
        a.no_engine = true
    })
    .await;
    let (status, r) = fire(&api_only).await;
    assert_eq!(
        (status, r["status"].clone()),
        (StatusCode::OK, json!("succeeded")),
        "{r}"
    );
    let (_, detail) = api(
        Method::GET,
        s.app.url(&format!(
            "/api/v1/deliveries/{}",
            r["delivery_id"].as_str().unwrap()
        )),
        Some(&s.key),
        None,
    )
    .await;
    assert_eq!(
        detail["attempt_log"].as_array().unwrap().len(),
        1,
        "{detail}"
    );
    assert_eq!(
        s.receiver.hits().len(),
        3,
        "the three tests, nothing else yet"
    );
    api_only.stop().await;
    s.app.stop().await;
}

async fn circuit_breaker(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.breaker_failures = 3;
        a.breaker_window = Duration::ZERO;
    })
    .await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let failing = Receiver::start().await;
    failing.set_default(Reply::status(500));
    let watcher = Receiver::start().await;
    let (_, bad) = api(Method::POST, app.url("/api/v1/endpoints"), Some(&key), Some(json!({
        "name": "flaky", "url": failing.url, "event_types": ["order.created"], "retry_schedule": ["100ms", "100ms", "100ms", "100ms", "100ms"]}))).await;
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({
        "name": "ops", "url": watcher.url, "event_types": ["hookline.*"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let hits = watcher.wait_for(1, Duration::from_secs(10)).await;
    let body: Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(body["event_type"], "hookline.endpoint.disabled");
    assert_eq!(body["data"]["endpoint_id"], bad["id"]);
    assert!(
        body["data"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("circuit breaker: 3 consecutive failures"),
        "{body}"
    );
    assert_eq!(
        failing.hits().len(),
        3,
        "no attempt after the breaker opened"
    );
    let (_, ep) = api(
        Method::GET,
        app.url(&format!(
            "/api/v1/endpoints/{}",
            bad["id"].as_str().unwrap()
        )),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(ep["enabled"], false);
    assert!(
        ep["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("circuit breaker")
    );
    // The platform's own event type cannot be removed.
    let (status, _) = api(
        Method::DELETE,
        app.url("/api/v1/event-types/hookline.endpoint.disabled"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}

/// A client-credentials token endpoint: checks the credentials, counts the calls.
async fn token_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                let ok = form.get("grant_type").map(String::as_str) == Some("client_credentials")
                    && form.get("client_id").map(String::as_str) == Some("hookline")
                    && form.get("client_secret").map(String::as_str) == Some("s3cret")
                    && form.get("scope").map(String::as_str) == Some("webhooks");
                if ok {
                    (StatusCode::OK, axum::Json(json!({"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600})))
                } else {
                    (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_client"})))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

async fn oauth2_tokens_are_fetched_and_cached(backend: Backend) {
    let (token_url, calls) = token_server().await;
    let s = setup(backend, json!({"auth": {"type": "oauth2", "token_url": token_url, "client_id": "hookline", "client_secret": "s3cret", "scope": "webhooks"}})).await;
    for i in 0..3 {
        publish(&s, json!({"n": i})).await;
    }
    let hits = s.receiver.wait_for(3, Duration::from_secs(5)).await;
    assert!(
        hits.iter()
            .all(|h| h.headers["authorization"] == "Bearer tok-123"),
        "the token is sent"
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "fetched once, then cached until it expires"
    );
    s.app.stop().await;
}

async fn batches_group_and_retry_together(backend: Backend) {
    let s = setup(
        backend,
        json!({"batch": {"max_events": 5, "max_wait": "400ms"}, "retry_schedule": ["1s"]}),
    )
    .await;
    // The first request fails: its deliveries go back together and leave together again.
    s.receiver.script(vec![Reply::status(500)]);
    let events: Vec<Value> = (0..12)
        .map(|n| json!({"event_type": "order.created", "data": {"n": n}}))
        .collect();
    let (status, body) = api(
        Method::POST,
        s.app.url("/api/v1/events/batch"),
        Some(&s.key),
        Some(json!({ "events": events })),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let ids: Vec<String> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        delivery(&s, id, "succeeded", Duration::from_secs(10)).await;
    }
    let hits = s.receiver.hits();
    let secret = secret(&s).await["secret"].as_str().unwrap().to_owned();
    // 12 events in batches of at most 5: 5 + 5 + the 2 left over (sent when their wait was
    // over), and the failed 5 once more.
    assert_eq!(hits.len(), 4, "requests: {}", hits.len());
    let mut delivered: Vec<String> = Vec::new();
    for (i, hit) in hits.iter().enumerate() {
        verify(&secret, hit);
        let batch: Vec<Value> = serde_json::from_slice(&hit.body).expect("a JSON array");
        assert!((1..=5).contains(&batch.len()), "{} events", batch.len());
        assert_eq!(
            hit.headers["hookline-batch-size"],
            batch.len().to_string().as_str()
        );
        assert!(
            hit.headers["webhook-id"]
                .to_str()
                .unwrap()
                .starts_with("bat_"),
            "a batch has its own webhook-id"
        );
        for e in &batch {
            assert_eq!(e["event_type"], "order.created", "each item is an envelope");
            if i > 0 {
                delivered.push(e["id"].as_str().unwrap().to_owned());
            }
        }
    }
    let sizes: Vec<usize> = hits
        .iter()
        .map(|h| serde_json::from_slice::<Vec<Value>>(&h.body).unwrap().len())
        .collect();
    assert!(
        sizes.contains(&2),
        "the remainder left after max_wait: {sizes:?}"
    );
    delivered.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(
        delivered, all,
        "every event delivered once after the failure"
    );
    let failed_id = hits[0].headers["webhook-id"].clone();
    let retried = hits
        .iter()
        .skip(1)
        .filter(|h| h.headers["webhook-id"] == failed_id)
        .count();
    assert_eq!(
        retried, 1,
        "the failed batch is retried as the same batch, same webhook-id"
    );
    // Every delivery has its own attempt log; the failed batch's show two attempts.
    let failed: Vec<Value> = serde_json::from_slice(&hits[0].body).unwrap();
    let first = failed[0]["id"].as_str().unwrap();
    let d = delivery(&s, first, "succeeded", Duration::from_secs(1)).await;
    let log = attempts(&s, d["id"].as_str().unwrap()).await;
    assert_eq!(
        log.iter().map(|a| a.1).collect::<Vec<_>>(),
        vec![Some(500), Some(200)]
    );
    assert!(log[0].3.contains("hookline-batch-size"), "{}", log[0].3);
    s.app.stop().await;
}

async fn stats_and_health_follow_the_attempts(backend: Backend) {
    let s = setup(backend, json!({"retry_schedule": []})).await;
    s.receiver.script(vec![Reply::status(500)]);
    let failed = publish(&s, json!({"n": 1})).await;
    delivery(&s, &failed, "dead", Duration::from_secs(5)).await;
    let ok = publish(&s, json!({"n": 2})).await;
    delivery(&s, &ok, "succeeded", Duration::from_secs(5)).await;
    let actor = app::backend::Actor::cli();
    let stats = s
        .app
        .state
        .stats
        .get(&actor, Some(&s.endpoint), "1h")
        .await
        .unwrap();
    assert_eq!(stats.buckets.len(), 12, "5-minute slices over the hour");
    assert_eq!(
        (
            stats.total.attempts,
            stats.total.succeeded,
            stats.total.failed
        ),
        (2, 1, 1)
    );
    assert!(stats.total.p95_ms.is_some() && stats.total.avg_ms.is_some());
    assert_eq!(
        stats.buckets.iter().map(|b| b.attempts).sum::<i64>(),
        2,
        "every attempt falls in a slice"
    );
    assert_eq!(stats.dead_letters, 1);
    let health = stats.health.expect("an endpoint's stats carry its health");
    assert!(health.enabled && health.last_success_at.is_some() && health.last_failure_at.is_some());
    assert_eq!(
        health.consecutive_failures, 0,
        "the success reset the count"
    );
    let all = s.app.state.stats.get(&actor, None, "24h").await.unwrap();
    assert_eq!(all.buckets.len(), 24);
    assert_eq!(all.total.attempts, 2);
    assert!(all.health.is_none());
    let err = s.app.state.stats.get(&actor, None, "2h").await.unwrap_err();
    assert_eq!(err.status(), 422);
    // The delivery list's time range.
    let list = |q: &'static str| {
        let url = s.app.url(&format!("/api/v1/deliveries?{q}"));
        let key = s.key.clone();
        async move { api(Method::GET, url, Some(&key), None).await }
    };
    let (_, page) = list("since=2020-01-01T00:00:00Z").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (_, page) = list("since=2999-01-01T00:00:00Z").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    let (status, body) = list("since=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["path"], "since", "{body}");
    s.app.stop().await;
}

/// On SQLite an open claim commits without syncing (its connection's `synchronous` is
/// lowered for the claim alone): afterwards every connection of the server's pool still
/// syncs every commit, so events, deliveries and outcomes stay durable.
#[tokio::test]
async fn sqlite_claims_leave_every_connection_syncing() {
    let s = setup(Backend::Sqlite, json!({})).await;
    for n in 0..20 {
        let event = publish(&s, json!({"n": n})).await;
        delivery(&s, &event, "succeeded", Duration::from_secs(10)).await;
    }
    let app::backend::Db::Sqlite(pool) = &s.app.state.db else {
        unreachable!()
    };
    // Every connection the pool holds, at once (new ones open as needed).
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(
            mode, 2,
            "a connection left the claim without syncing commits"
        );
    }
    drop(held);
    s.app.stop().await;
}

/// Postgres compiles a statement whose estimated cost passes `jit_above_cost` (JIT) before
/// running it; the claim's FIFO test is estimated that high once the table has statistics,
/// and each claim then spent about 0.5 s compiling (`scripts/claim-jit.sh`). The server's
/// connections turn it off: checked on every connection of its pool but the one the
/// engine's `LISTEN` holds.
#[tokio::test]
async fn postgres_connections_plan_without_jit() {
    let s = setup(Backend::Postgres, json!({})).await;
    let event = publish(&s, json!({"n": 1})).await;
    delivery(&s, &event, "succeeded", Duration::from_secs(10)).await;
    let app::backend::Db::Postgres(pool) = &s.app.state.db else {
        unreachable!()
    };
    let mut held = Vec::new();
    for _ in 1..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(jit, "off", "a connection of the pool plans with JIT");
    }
    drop(held);
    s.app.stop().await;
}
