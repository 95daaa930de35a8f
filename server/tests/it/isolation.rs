//! Isolation and leases (issue #9, findings 1, 2 and 9): no endpoint's backlog, limit or
//! slowness holds up the others; every outbound request goes through the SSRF guard; a
//! lease belongs to its claim, renewed only while live work holds it.

use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use hookline::config::ServeArgs;
use hookline::engine::store::claims::OpenClaim;
use hookline::engine::store::{AttemptRecord, Breaker, EngineStore, Finished, NextState};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

crate::on_both_backends!(
    finding_1_a_throttled_backlog_does_not_hold_up_other_endpoints,
    finding_1_a_slow_endpoint_does_not_take_every_slot,
    finding_2_token_fetches_go_through_the_ssrf_guard,
    finding_9_an_outcome_write_that_fails_once_is_retried,
    finding_9_an_outcome_write_that_keeps_failing_lets_the_lease_lapse,
    finding_9_a_panicking_task_hands_its_delivery_back,
    finding_9_a_stale_claim_cannot_renew_or_complete_a_newer_one,
    ten_megabyte_payloads_work_when_the_operator_allows_them,
);

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) key: String,
}

pub(crate) async fn world(backend: Backend, tweak: impl FnOnce(&mut ServeArgs)) -> World {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, tweak).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    for t in ["a.event", "b.event"] {
        event_type(&app, &key, t, json!({"type": "object"})).await;
    }
    World { app, key }
}

pub(crate) async fn endpoint(w: &World, event_type: &str, url: &str, extra: Value) -> String {
    let mut body = json!({"name": event_type, "url": url, "event_types": [event_type]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, ep) = api(
        Method::POST,
        w.app.url("/api/v1/endpoints"),
        Some(&w.key),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    ep["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn publish(w: &World, event_type: &str, n: usize) -> Vec<String> {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"event_type": event_type, "data": {"n": i}}))
        .collect();
    let (status, body) = api(
        Method::POST,
        w.app.url("/api/v1/events/batch"),
        Some(&w.key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn delivery_in(w: &World, event: &str, status: &str, within: Duration) -> Value {
    wait_for_delivery(&w.app, &w.key, event, status, within).await
}

async fn in_flight_rows(app: &TestApp) -> i64 {
    crate::sql::count(
        &app.state.db,
        "SELECT COUNT(*) FROM deliveries WHERE status = 'in_flight'",
    )
    .await
}

async fn finding_1_a_throttled_backlog_does_not_hold_up_other_endpoints(backend: Backend) {
    // As probed: 5 slots, one endpoint at 1 request a minute with 20 waiting.
    let w = world(backend, |a| a.max_in_flight = 5).await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    endpoint(
        &w,
        "a.event",
        &slow.url,
        json!({"rate_limit_per_minute": 1}),
    )
    .await;
    endpoint(&w, "b.event", &fast.url, json!({})).await;
    publish(&w, "a.event", 20).await;
    slow.wait_for(1, Duration::from_secs(5)).await;
    let started = Instant::now();
    let b = publish(&w, "b.event", 1).await;
    fast.wait_for(1, Duration::from_secs(3)).await;
    delivery_in(&w, &b[0], "succeeded", Duration::from_secs(3)).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        slow.hits().len(),
        1,
        "the throttled endpoint got its one a minute"
    );
    // Its backlog waits in the queue, not in a slot or a lease.
    assert_eq!(in_flight_rows(&w.app).await, 0);
    w.app.stop().await;
}

async fn finding_1_a_slow_endpoint_does_not_take_every_slot(backend: Backend) {
    // 4 slots, so an endpoint's default share is 1.
    let w = world(backend, |a| a.max_in_flight = 4).await;
    let (slow, fast) = (Receiver::start().await, Receiver::start().await);
    slow.set_default(Reply::status(200).delayed(Duration::from_secs(3)));
    endpoint(&w, "a.event", &slow.url, json!({})).await;
    endpoint(&w, "b.event", &fast.url, json!({})).await;
    publish(&w, "a.event", 10).await;
    slow.wait_for(1, Duration::from_secs(5)).await;
    let started = Instant::now();
    publish(&w, "b.event", 3).await;
    fast.wait_for(3, Duration::from_secs(2)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        slow.max_in_flight(),
        1,
        "the slow endpoint kept to its share"
    );
    w.app.stop().await;
}

/// A token endpoint that counts the requests it gets.
async fn token_server(addr: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(move || {
            c.fetch_add(1, Ordering::SeqCst);
            async { axum::Json(json!({"access_token": "tok", "expires_in": 3600})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

async fn finding_2_token_fetches_go_through_the_ssrf_guard(backend: Backend) {
    // The endpoint's address is allowed; the token endpoint's (127.0.0.2) is not.
    let w = world(backend, |a| {
        a.allow_private_targets = false;
        a.allow_targets =
            vec![hookline::engine::outbound::ssrf::Cidr::parse("127.0.0.1/32").unwrap()];
    })
    .await;
    let receiver = Receiver::start().await;
    let (token_url, calls) = token_server("127.0.0.2:0").await;
    endpoint(
        &w,
        "a.event",
        &receiver.url,
        json!({"retry_schedule": ["1h"], "auth": {"type": "oauth2", "token_url": token_url,
               "client_id": "hookline", "client_secret": "s3cret"}}),
    )
    .await;
    let event = publish(&w, "a.event", 1).await;
    let d = delivery_in(&w, &event[0], "failed", Duration::from_secs(5)).await;
    assert!(d["last_error"].as_str().unwrap().contains("SSRF"), "{d}");
    let classes: Vec<String> =
        crate::sql::column(&w.app.state.db, "SELECT error_class FROM attempts", &[]).await;
    assert_eq!(classes, ["ssrf_blocked"]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the client secret never left"
    );
    assert!(receiver.hits().is_empty());
    w.app.stop().await;
}

async fn finding_9_an_outcome_write_that_fails_once_is_retried(backend: Backend) {
    let w = world(backend, |_| {}).await;
    let receiver = Receiver::start().await;
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    let faults = w.app.state.shared.faults.clone();
    faults.fail_outcome_writes.store(1, Ordering::SeqCst);
    let event = publish(&w, "a.event", 1).await;
    delivery_in(&w, &event[0], "succeeded", Duration::from_secs(5)).await;
    assert_eq!(faults.fail_outcome_writes.load(Ordering::SeqCst), 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.hits().len(),
        1,
        "the write was retried, not the delivery"
    );
    w.app.stop().await;
}

async fn finding_9_an_outcome_write_that_keeps_failing_lets_the_lease_lapse(backend: Backend) {
    let w = world(backend, |a| a.delivery_lease = Duration::from_secs(1)).await;
    let receiver = Receiver::start().await;
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    let faults = w.app.state.shared.faults.clone();
    // Every try of the first outcome write fails.
    faults.fail_outcome_writes.store(4, Ordering::SeqCst);
    let event = publish(&w, "a.event", 1).await;
    receiver.wait_for(1, Duration::from_secs(3)).await;
    // While it retries the write, the lease is kept and nobody else sends it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.hits().len(), 1);
    // Then it lets go: the lease lapses, another claim delivers it, and it is not stuck.
    let d = delivery_in(&w, &event[0], "succeeded", Duration::from_secs(10)).await;
    assert_eq!(receiver.hits().len(), 2, "made again after the lease: {d}");
    assert_eq!(leases_held_after(&w.app, Duration::from_secs(2)).await, 0);
    w.app.stop().await;
}

async fn finding_9_a_panicking_task_hands_its_delivery_back(backend: Backend) {
    // A 30 s lease: delivered within a few seconds means handed back, not lapsed.
    let w = world(backend, |_| {}).await;
    let receiver = Receiver::start().await;
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    w.app
        .state
        .shared
        .faults
        .panic_deliveries
        .store(1, Ordering::SeqCst);
    let event = publish(&w, "a.event", 1).await;
    let d = delivery_in(&w, &event[0], "succeeded", Duration::from_secs(5)).await;
    assert_eq!(receiver.hits().len(), 1, "{d}");
    assert_eq!(leases_held_after(&w.app, Duration::from_secs(2)).await, 0);
    w.app.stop().await;
}

async fn finding_9_a_stale_claim_cannot_renew_or_complete_a_newer_one(backend: Backend) {
    // No engine: this test plays two claims of the same row by hand.
    let w = world(backend, |a| a.no_engine = true).await;
    endpoint(&w, "a.event", "http://127.0.0.1:9/", json!({})).await;
    publish(&w, "a.event", 1).await;
    let store = EngineStore {
        db: w.app.state.db.clone(),
        node: "test-node".into(),
        gate: w.app.state.shared.write_gate.clone(),
    };
    let plan = OpenClaim {
        limit: 10,
        scan: 40,
        default_cap: 10,
        ..Default::default()
    };
    let old = store.claim_open(&plan, "lt_old", 60_000).await.unwrap();
    assert_eq!(old.len(), 1);
    // Its lease runs out (a stalled task) and another claim takes the row.
    crate::sql::execute(
        &w.app.state.db,
        "UPDATE deliveries SET lease_expires_at = 0",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(store.recover_expired().await.unwrap(), 1);
    let new = store.claim_open(&plan, "lt_new", 60_000).await.unwrap();
    assert_eq!(new.len(), 1);
    let held = |c: &hookline::engine::store::Claimed| (c.id.clone(), c.lease_token.clone());
    assert_eq!(store.renew(&[held(&old[0])], 60_000).await.unwrap(), 0);
    assert_eq!(store.renew(&[held(&new[0])], 60_000).await.unwrap(), 1);
    let finished = |claims: Vec<hookline::engine::store::Claimed>| Finished {
        deliveries: claims,
        attempt: AttemptRecord::default(),
        next: NextState::Succeeded,
    };
    let breaker = Breaker {
        failures: 0,
        window_ms: 0,
    };
    let answers = store.finish(&[finished(old)], breaker).await.unwrap();
    assert_eq!(answers[0].0, 1, "the stale claim lost its lease");
    let status: String =
        crate::sql::scalar(&w.app.state.db, "SELECT status FROM deliveries", &[]).await;
    assert_eq!(status, "in_flight", "the newer claim still holds it");
    let answers = store.finish(&[finished(new)], breaker).await.unwrap();
    assert_eq!(answers[0].0, 0);
    w.app.stop().await;
}

/// Two nodes serving one limited endpoint keep to its limits between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_across_two_nodes_on_postgres() {
    let dir = std::sync::Arc::new(TempDir::new());
    let db_url = fresh_db_url(Backend::Postgres, &dir);
    let a = spawn_app_with(db_url.clone(), dir.clone(), |_| {}).await;
    let b = spawn_app_with(db_url.clone(), dir.clone(), |_| {}).await;
    let w = World {
        key: a.api_key(ApiKeyScope::Admin).await,
        app: a,
    };
    for t in ["a.event", "b.event"] {
        event_type(&w.app, &w.key, t, json!({"type": "object"})).await;
    }
    let (rated, single) = (Receiver::start().await, Receiver::start().await);
    single.set_default(Reply::status(200).delayed(Duration::from_millis(100)));
    // 120 a minute: two a second, the bucket holding one second's worth.
    endpoint(
        &w,
        "a.event",
        &rated.url,
        json!({"rate_limit_per_minute": 120}),
    )
    .await;
    endpoint(&w, "b.event", &single.url, json!({"max_concurrency": 1})).await;
    publish(&w, "a.event", 40).await;
    publish(&w, "b.event", 12).await;
    let started = Instant::now();
    single.wait_for(12, Duration::from_secs(20)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let sent = rated.hits().len() as f64;
    // A full bucket (2) plus 2 a second; one node's limit each would allow twice that.
    assert!(
        sent <= 2.0 + 2.0 * elapsed + 1.0,
        "{sent} requests in {elapsed:.1} s at 120/min"
    );
    assert!(
        sent >= elapsed,
        "it was not starved either: {sent} in {elapsed:.1} s"
    );
    assert_eq!(single.max_in_flight(), 1, "one at a time across both nodes");
    let nodes =
        crate::sql::count(&w.app.state.db, "SELECT COUNT(DISTINCT node) FROM attempts").await;
    assert_eq!(nodes, 2, "both nodes took part");
    w.app.stop().await;
    b.stop().await;
}

async fn ten_megabyte_payloads_work_when_the_operator_allows_them(backend: Backend) {
    let w = world(backend, |a| a.max_body_bytes = 12 * 1024 * 1024).await;
    let receiver = Receiver::start().await;
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    let blob = "x".repeat(10 * 1024 * 1024);
    let (status, body) = api(
        Method::POST,
        w.app.url("/api/v1/events"),
        Some(&w.key),
        Some(json!({"event_type": "a.event", "data": {"blob": blob}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let hit = receiver
        .wait_for(1, Duration::from_secs(30))
        .await
        .remove(0);
    let got: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(got["data"]["blob"].as_str().map(str::len), Some(blob.len()));
    w.app.stop().await;
}
