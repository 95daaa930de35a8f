//! Crash safety and scale-out, with real processes and a real receiver.

use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

crate::on_both_backends!(sigkill_mid_delivery_loses_nothing);

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn serve(db_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--allow-private-targets",
            "--delivery-lease",
            "2s",
        ])
        .env("DATABASE_URL", db_url)
        .env("HOOKLINE_MASTER_KEY", crate::helpers::TEST_PG_MASTER_KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Migrates a fresh database and makes an admin API key in it (for a server started as a
/// child process).
pub(crate) async fn migrated_with_key(db_url: &str) -> String {
    hookline::startup::open_database(db_url)
        .await
        .unwrap()
        .close()
        .await;
    let db = app::backend::Db::connect(db_url).await.unwrap();
    let key = app::backend::access::api_keys::ApiKeys::new(db.clone())
        .create(&app::backend::Actor::cli(), "t", ApiKeyScope::Admin)
        .await
        .unwrap()
        .key;
    db.close().await;
    key
}

pub(crate) async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status() != StatusCode::OK)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn statuses(db_url: &str) -> HashMap<String, i64> {
    let db = app::backend::Db::connect(db_url).await.unwrap();
    let rows: Vec<(String, i64)> = crate::sql::rows(
        &db,
        "SELECT status, COUNT(*) FROM deliveries GROUP BY status",
        &[],
    )
    .await;
    db.close().await;
    rows.into_iter().collect()
}

async fn sigkill_mid_delivery_loses_nothing(backend: Backend) {
    let dir = TempDir::new();
    let db_url = fresh_db_url(backend, &dir);
    let key = migrated_with_key(&db_url).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(200).delayed(Duration::from_millis(700)));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(&db_url, port);
    wait_ready(&base).await;

    let (status, _) = api(
        Method::POST,
        format!("{base}/api/v1/event-types"),
        Some(&key),
        Some(json!({"name": "order.created"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api(
        Method::POST,
        format!("{base}/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "r", "url": receiver.url, "retry_schedule": ["1s", "1s", "1s"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let events: Vec<serde_json::Value> = (0..30)
        .map(|i| json!({"event_type": "order.created", "data": {"n": i}}))
        .collect();
    let (status, published) = api(
        Method::POST,
        format!("{base}/api/v1/events/batch"),
        Some(&key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{published}");

    // Some requests are in flight at the receiver: kill -9 now.
    receiver.wait_for(1, Duration::from_secs(10)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let before = statuses(&db_url).await;
    assert!(
        before.get("in_flight").copied().unwrap_or(0) > 0,
        "the crash left deliveries in flight: {before:?}"
    );

    receiver.set_default(Reply::status(200));
    let mut child = serve(&db_url, port);
    wait_ready(&base).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = statuses(&db_url).await;
        if now.get("succeeded") == Some(&30) {
            break;
        }
        assert!(Instant::now() < deadline, "after the restart: {now:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for h in receiver.hits() {
        *seen
            .entry(h.headers["webhook-id"].to_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), 30, "every accepted event reached the receiver");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_deliver_each_delivery_once() {
    let dir = std::sync::Arc::new(TempDir::new());
    let db_url = fresh_db_url(Backend::Postgres, &dir);
    // Each node may hold fewer requests than a round brings (150), so neither can take a
    // whole round alone: the test needs them to share, rather than hoping they do.
    let a = spawn_app_with(db_url.clone(), dir.clone(), |x| x.max_in_flight = 40).await;
    let b = spawn_app_with(db_url.clone(), dir.clone(), |x| x.max_in_flight = 40).await;
    let key = a.api_key(ApiKeyScope::Admin).await;
    event_type(&a, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(200).delayed(Duration::from_millis(5)));
    for i in 0..3 {
        let (status, _) = api(
            Method::POST,
            a.url("/api/v1/endpoints"),
            Some(&key),
            Some(json!({"name": format!("r{i}"), "url": receiver.url})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // Both nodes take events and both deliver.
    for round in 0..4 {
        let node = if round % 2 == 0 { &a } else { &b };
        let events: Vec<serde_json::Value> = (0..50)
            .map(|i| json!({"event_type": "order.created", "data": {"round": round, "n": i}}))
            .collect();
        let (status, body) = api(
            Method::POST,
            node.url("/api/v1/events/batch"),
            Some(&key),
            Some(json!({"events": events})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let hits = receiver.wait_for(600, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = if receiver.hits().len() > hits.len() {
        receiver.hits()
    } else {
        hits
    };
    assert_eq!(
        hits.len(),
        600,
        "200 events x 3 endpoints, each exactly once"
    );
    let nodes: Vec<String> =
        crate::sql::column(&a.state.db, "SELECT DISTINCT node FROM attempts", &[]).await;
    assert_eq!(nodes.len(), 2, "both nodes delivered: {nodes:?}");
    let dup = crate::sql::count(
        &a.state.db,
        "SELECT COUNT(*) FROM (SELECT delivery_id FROM attempts GROUP BY delivery_id HAVING COUNT(*) > 1) t",
    )
    .await;
    assert_eq!(dup, 0, "no delivery was attempted twice");
    a.stop().await;
    b.stop().await;
}

/// A node without an engine takes the event; another node, which would otherwise sleep for
/// 30 s, is woken through Postgres LISTEN/NOTIFY and delivers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notify_wakes_other_nodes() {
    let dir = std::sync::Arc::new(TempDir::new());
    let db_url = fresh_db_url(Backend::Postgres, &dir);
    let api_node = spawn_app_with(db_url.clone(), dir.clone(), |a| a.no_engine = true).await;
    let worker = spawn_app_with(db_url.clone(), dir.clone(), |a| {
        a.engine_idle_poll = Duration::from_secs(30)
    })
    .await;
    let key = api_node.api_key(ApiKeyScope::Admin).await;
    event_type(&api_node, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    let (status, _) = api(
        Method::POST,
        api_node.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "r", "url": receiver.url})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // Let the worker settle into its long idle sleep first.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = Instant::now();
    let (status, _) = api(
        Method::POST,
        api_node.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    receiver.wait_for(1, Duration::from_secs(2)).await;
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "woken by NOTIFY, not by its 30 s poll"
    );
    let (_, ready) = api(Method::GET, api_node.url("/readyz"), None, None).await;
    assert_eq!(
        ready["status"], "ready",
        "an API-only node is ready without an engine"
    );
    api_node.stop().await;
    worker.stop().await;
}

/// A node started before its Postgres is up (as in a compose file) waits for it, then
/// serves, instead of exiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_waits_for_a_database_that_is_not_up_yet() {
    let cluster = crate::chaos::cluster::Cluster::start();
    let db_url = cluster.url("hookline");
    cluster.down();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(&db_url, port);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "still waiting for the database, not exited"
    );
    cluster.up();
    wait_ready(&base).await;
    let _ = child.kill();
    let _ = child.wait();
}
