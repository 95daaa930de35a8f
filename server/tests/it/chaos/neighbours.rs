//! Unlucky neighbours: a receiver failing at random, a throttled endpoint's backlog beside a
//! healthy one, and outcome writes that fail.

use super::ledger::{Ledger, steady_publisher};
use super::{Scale, db_name, ms, report};
use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::Receiver;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

crate::on_both_backends!(
    chaos_receiver_failing_half_the_time,
    chaos_throttled_backlog_beside_a_healthy_endpoint,
    chaos_outcome_writes_failing,
);

/// Publishes `n` events of `event_type` in batches of 500, recording them as accepted.
async fn backlog(app: &TestApp, key: &str, event_type: &str, n: usize, ledger: &Ledger) {
    for start in (0..n).step_by(500) {
        let events: Vec<Value> = (start..n.min(start + 500))
            .map(|i| json!({"event_type": event_type, "data": {"n": i}}))
            .collect();
        let (status, body) = api(
            Method::POST,
            app.url("/api/v1/events/batch"),
            Some(key),
            Some(json!({"events": events})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        for e in body["events"].as_array().unwrap() {
            ledger.accept(
                e["id"].as_str().unwrap().to_owned(),
                std::time::Instant::now(),
            );
        }
    }
}

async fn chaos_receiver_failing_half_the_time(backend: Backend) {
    let scale = Scale::get();
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    receiver.set_flaky(50);
    endpoint(
        &app,
        &key,
        json!({"name": "flaky", "url": receiver.url, "retry_schedule": vec!["20ms"; 25]}),
    )
    .await;
    let ledger = Ledger::default();
    backlog(&app, &key, "order.created", scale.pick(300, 3000), &ledger).await;
    let t = ledger.settle(&receiver, Duration::from_secs(120)).await;
    let failed = receiver.hits().iter().filter(|h| h.status == 500).count();
    report(
        "receiver failing 50 % at random",
        db_name(backend),
        &t,
        &format!("{failed} requests answered 500"),
    );
    app.stop().await;
}

async fn chaos_throttled_backlog_beside_a_healthy_endpoint(backend: Backend) {
    let scale = Scale::get();
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    for t in ["a.event", "b.event"] {
        event_type(&app, &key, t, json!({"type": "object"})).await;
    }
    let (throttled, healthy) = (Receiver::start().await, Receiver::start().await);
    endpoint(&app, &key, json!({"name": "throttled", "url": throttled.url, "event_types": ["a.event"], "rate_limit_per_minute": 60})).await;
    endpoint(
        &app,
        &key,
        json!({"name": "healthy", "url": healthy.url, "event_types": ["b.event"]}),
    )
    .await;
    let p95 = |ledger: &Ledger, receiver: &Receiver| {
        let mut d = ledger.delays(receiver);
        d.sort();
        d[(d.len() * 95 / 100).min(d.len() - 1)]
    };
    let measure = |ledger: Arc<Ledger>| {
        let (stop, task) = steady_publisher(app.base.clone(), key.clone(), "b.event", 50, ledger);
        async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            stop.store(true, Ordering::Relaxed);
            task.await.unwrap();
        }
    };
    let unloaded = Arc::new(Ledger::default());
    measure(unloaded.clone()).await;
    unloaded.settle(&healthy, Duration::from_secs(10)).await;
    let before = p95(&unloaded, &healthy);

    let since = std::time::Instant::now();
    let waiting = Ledger::default();
    let n = scale.pick(2_000, 10_000);
    backlog(&app, &key, "a.event", n, &waiting).await;
    // Measured once the backlog waits, not while it is being written.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let loaded = Arc::new(Ledger::default());
    measure(loaded.clone()).await;
    let t = loaded.settle(&healthy, Duration::from_secs(10)).await;
    let after = p95(&loaded, &healthy);
    report(
        &format!("throttled endpoint with {n} waiting, beside a healthy one"),
        db_name(backend),
        &t,
        &format!(
            "healthy p95 {} unloaded, {} beside the backlog",
            ms(before),
            ms(after)
        ),
    );
    // The short version runs beside the whole test suite on two cores: more timer noise.
    let slack = scale.pick(Duration::from_millis(50), Duration::from_millis(5));
    assert!(
        after <= before * 2 + slack,
        "p95 {after:?} beside the backlog, {before:?} without"
    );
    let allowed = 2 + since.elapsed().as_secs() as usize;
    assert!(
        throttled.hits().len() <= allowed,
        "the throttled endpoint kept to 1 a second"
    );
    app.stop().await;
}

async fn chaos_outcome_writes_failing(backend: Backend) {
    let scale = Scale::get();
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.delivery_lease = Duration::from_secs(1)
    })
    .await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    endpoint(&app, &key, json!({"name": "r", "url": receiver.url})).await;
    // Enough failed writes that some requests exhaust their retries and must be made again.
    let faults = app.state.shared.faults.clone();
    faults
        .fail_outcome_writes
        .store(scale.pick(6, 12), Ordering::SeqCst);
    let ledger = Ledger::default();
    backlog(&app, &key, "order.created", scale.pick(100, 1000), &ledger).await;
    let t = ledger.settle(&receiver, Duration::from_secs(60)).await;
    let stuck = crate::sql::count(
        &app.state.db,
        "SELECT COUNT(*) FROM deliveries WHERE status <> 'succeeded'",
    )
    .await;
    report(
        "outcome writes failing",
        db_name(backend),
        &t,
        &format!("{stuck} not succeeded"),
    );
    // Every delivery ends recorded, none left in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let open = crate::sql::count(
            &app.state.db,
            "SELECT COUNT(*) FROM deliveries WHERE status <> 'succeeded'",
        )
        .await;
        if open == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{open} deliveries never recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
