//! Crashes and outages under a steady publish load: the server killed with SIGKILL, the
//! Postgres server restarted, the database locked or gone.

use super::cluster::Cluster;
use super::ledger::{Ledger, steady_publisher};
use super::{Scale, db_name, ms, report};
use crate::helpers::*;
use crate::receiver::Receiver;
use crate::resilience::{free_port, serve, wait_ready};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

crate::on_both_backends!(chaos_kill_9_under_load, chaos_database_outage);

/// An event type and one endpoint (retrying every second) to `receiver`.
async fn catalog(base: &str, key: &str, receiver: &Receiver) {
    let (status, body) = api(
        Method::POST,
        format!("{base}/api/v1/event-types"),
        Some(key),
        Some(json!({"name": "order.created"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = api(
        Method::POST,
        format!("{base}/api/v1/endpoints"),
        Some(key),
        Some(json!({"name": "r", "url": receiver.url, "retry_schedule": vec!["1s"; 20]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// An in-process server on `db_url` with the catalog, a receiver, and a steady publisher.
struct Loaded {
    app: TestApp,
    receiver: Receiver,
    ledger: Arc<Ledger>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    publisher: tokio::task::JoinHandle<()>,
}

async fn loaded(db_url: String, dir: Arc<TempDir>, per_second: u32, lease: Duration) -> Loaded {
    let app = spawn_app_with(db_url, dir, |a| a.delivery_lease = lease).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let receiver = Receiver::start().await;
    catalog(&app.base, &key, &receiver).await;
    let ledger = Arc::new(Ledger::default());
    let (stop, publisher) = steady_publisher(
        app.base.clone(),
        key,
        "order.created",
        per_second,
        ledger.clone(),
    );
    Loaded {
        app,
        receiver,
        ledger,
        stop,
        publisher,
    }
}

impl Loaded {
    /// Stops publishing and waits until everything accepted arrived (or a minute passed).
    async fn settle(&mut self) -> super::ledger::Tally {
        self.stop.store(true, Ordering::Relaxed);
        (&mut self.publisher).await.unwrap();
        self.ledger
            .settle(&self.receiver, Duration::from_secs(60))
            .await
    }
}

async fn chaos_kill_9_under_load(backend: Backend) {
    let scale = Scale::get();
    let dir = TempDir::new();
    let db_url = fresh_db_url(backend, &dir);
    let db = hookline::startup::open_database(&db_url).await.unwrap();
    let key = app::backend::access::api_keys::ApiKeys::new(db.clone())
        .create(&app::backend::Actor::cli(), "chaos", ApiKeyScope::Admin)
        .await
        .unwrap()
        .key;
    db.close().await;
    let receiver = Receiver::start().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(&db_url, port);
    wait_ready(&base).await;
    catalog(&base, &key, &receiver).await;
    let ledger = Arc::new(Ledger::default());
    let (stop, publisher) = steady_publisher(
        base.clone(),
        key.clone(),
        "order.created",
        scale.pick(40, 100),
        ledger.clone(),
    );
    for _ in 0..5 {
        tokio::time::sleep(scale.pick(Duration::from_millis(800), Duration::from_secs(3))).await;
        child.kill().unwrap();
        child.wait().unwrap();
        child = serve(&db_url, port);
        wait_ready(&base).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    publisher.await.unwrap();
    let t = ledger.settle(&receiver, Duration::from_secs(60)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let refused = ledger.unreachable.load(Ordering::Relaxed);
    report(
        "kill -9 five times under load",
        db_name(backend),
        &t,
        &format!("{refused} publishes found the server down"),
    );
    assert!(
        ledger.unexpected.lock().unwrap().is_empty(),
        "{:?}",
        ledger.unexpected
    );
}

/// Postgres restarted under load: nothing lost, deliveries resume within one lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_postgres_restart_under_load() {
    let scale = Scale::get();
    let cluster = Cluster::start();
    let lease = Duration::from_secs(2);
    let mut l = loaded(
        cluster.url("hookline"),
        Arc::new(TempDir::new()),
        scale.pick(40, 100),
        lease,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.down();
    tokio::time::sleep(scale.pick(Duration::from_secs(1), Duration::from_secs(5))).await;
    cluster.up();
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t = l.settle().await;
    let resumed = l
        .receiver
        .hits()
        .iter()
        .filter(|h| h.at >= back)
        .map(|h| h.at - back)
        .min()
        .expect("deliveries resumed after the restart");
    report(
        "Postgres restarted under load",
        "postgres",
        &t,
        &format!("deliveries resumed {} after it was back", ms(resumed)),
    );
    assert!(
        resumed <= lease + Duration::from_secs(1),
        "resumed after {resumed:?}"
    );
    l.app.stop().await;
}

/// Holds SQLite's write lock from another connection, or stops Postgres, for a while.
async fn chaos_database_outage(backend: Backend) {
    let scale = Scale::get();
    let outage = scale.pick(Duration::from_secs(3), Duration::from_secs(15));
    let dir = Arc::new(TempDir::new());
    let cluster = (backend == Backend::Postgres).then(Cluster::start);
    let db_url = match &cluster {
        Some(c) => c.url("hookline"),
        None => fresh_db_url(Backend::Sqlite, &dir),
    };
    let mut l = loaded(
        db_url.clone(),
        dir,
        scale.pick(20, 50),
        Duration::from_secs(30),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    match &cluster {
        Some(c) => {
            c.down();
            tokio::time::sleep(outage).await;
            c.up();
        }
        None => {
            use sqlx::Connection;
            let path = db_url.trim_start_matches("sqlite://");
            let mut lock = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
                .await
                .unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut lock)
                .await
                .unwrap();
            tokio::time::sleep(outage).await;
            sqlx::query("COMMIT").execute(&mut lock).await.unwrap();
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = l.settle().await;
    let (app, ledger) = (&l.app, &l.ledger);
    let half_written = crate::sql::count(
        &app.state.db,
        "SELECT COUNT(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)",
    )
    .await;
    let refused = ledger.unavailable.load(Ordering::Relaxed);
    let slowest =
        Duration::from_millis(ledger.slowest_unavailable_ms.load(Ordering::Relaxed) as u64);
    report(
        &format!("database unavailable for {} s", outage.as_secs()),
        db_name(backend),
        &t,
        &format!(
            "{refused} publishes answered 503 + Retry-After, the slowest in {}",
            ms(slowest)
        ),
    );
    assert_eq!(half_written, 0, "an event without its deliveries");
    assert!(refused > 0, "publishes during the outage were refused");
    assert!(slowest <= Duration::from_secs(3), "a 503 took {slowest:?}");
    assert!(
        ledger.unexpected.lock().unwrap().is_empty(),
        "{:?}",
        ledger.unexpected
    );
    l.app.stop().await;
}
