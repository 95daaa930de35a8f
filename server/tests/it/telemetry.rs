//! `/metrics` after known traffic (values, labels, the cardinality cap, the token), and the
//! access log of a real `hookline serve --log-format json`.

use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

crate::on_both_backends!(a_scrape_counts_known_traffic);

const TOKEN: &str = "scrape-token-0123456789";

async fn publish(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let (status, out) = api(Method::POST, app.url(path), Some(key), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    out
}

async fn scrape(app: &TestApp, auth: Option<&str>) -> reqwest::Response {
    let mut req = client().get(app.url("/metrics"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

/// The value of the sample line that starts with `series ` (labels included, exactly).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

async fn wait_all(app: &TestApp, key: &str, events: &[String], status: &str) {
    for e in events {
        wait_for_delivery(app, key, e, status, Duration::from_secs(15)).await;
    }
}

async fn a_scrape_counts_known_traffic(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let url = fresh_db_url(backend, &dir);
    let app = spawn_app_with(url, dir, |a| {
        a.telemetry.metrics_token =
            Some(hookline::telemetry::args::MetricsToken::parse(TOKEN).unwrap());
        // One endpoint and one tenant of their own; the rest share `_other`.
        a.telemetry.metrics_label_values = 1;
    })
    .await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let ok = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.set_default(Reply::status(500));
    let acme = endpoint(
        &app,
        &key,
        json!({"name": "acme", "url": ok.url, "tenant": "acme"}),
    )
    .await;
    let beta = endpoint(
        &app,
        &key,
        json!({"name": "beta", "url": failing.url, "tenant": "beta", "retry_schedule": ["1s"]}),
    )
    .await;

    // acme first, so its endpoint and tenant are the ones with series of their own.
    let mut acme_events = Vec::new();
    for i in 0..3 {
        let e = publish(
            &app,
            &key,
            "/api/v1/events",
            json!({"event_type": "order.created", "data": {"n": i}, "tenant": "acme"}),
        )
        .await;
        acme_events.push(e["id"].as_str().unwrap().to_owned());
    }
    let batch = publish(
        &app,
        &key,
        "/api/v1/events/batch",
        json!({"events": [
            {"event_type": "order.created", "data": {"n": 3}, "tenant": "acme"},
            {"event_type": "order.created", "data": {"n": 4}, "tenant": "acme"},
        ]}),
    )
    .await;
    for e in batch["events"].as_array().unwrap() {
        acme_events.push(e["id"].as_str().unwrap().to_owned());
    }
    wait_all(&app, &key, &acme_events, "succeeded").await;
    let beta_event = publish(
        &app,
        &key,
        "/api/v1/events",
        json!({"event_type": "order.created", "data": {}, "tenant": "beta"}),
    )
    .await;
    let beta_event = beta_event["id"].as_str().unwrap().to_owned();
    // Two attempts: the first is retried in 1 s, the second dead-letters it.
    wait_all(&app, &key, std::slice::from_ref(&beta_event), "dead").await;

    // The token: absent, wrong or of another scheme is 401 with the JSON error body.
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some(&format!("Basic {TOKEN}")[..]),
    ] {
        let res = scrape(&app, auth).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized", "{body}");
    }
    let res = scrape(&app, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    let v =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));

    assert_eq!(v("hookline_events_accepted_total"), 6.0);
    assert_eq!(v("hookline_deliveries_total{outcome=\"succeeded\"}"), 5.0);
    assert_eq!(v("hookline_deliveries_total{outcome=\"retry\"}"), 1.0);
    assert_eq!(v("hookline_deliveries_total{outcome=\"dead\"}"), 1.0);
    assert!(
        !text.contains("hookline_retries_total") && !text.contains("hookline_dead_letters_total")
    );

    let own = format!("endpoint=\"{acme}\",tenant=\"acme\"");
    let other = "endpoint=\"_other\",tenant=\"_other\"";
    assert_eq!(
        v(&format!("hookline_attempt_duration_seconds_count{{{own}}}")),
        5.0
    );
    assert_eq!(
        v(&format!(
            "hookline_attempt_duration_seconds_bucket{{le=\"+Inf\",{own}}}"
        )),
        5.0
    );
    assert_eq!(
        v(&format!(
            "hookline_attempt_duration_seconds_count{{{other}}}"
        )),
        2.0
    );
    assert!(
        !text.contains(&beta),
        "beta is past the label budget: {text}"
    );
    // Acceptance to 2xx: five deliveries, each within the time the test took.
    assert_eq!(
        v(&format!("hookline_delivery_latency_seconds_count{{{own}}}")),
        5.0
    );
    let sum = v(&format!("hookline_delivery_latency_seconds_sum{{{own}}}"));
    assert!(sum > 0.0 && sum < 5.0 * 30.0, "{sum}");
    assert_eq!(
        sample(
            &text,
            &format!("hookline_delivery_latency_seconds_count{{{other}}}")
        ),
        None,
        "nothing delivered there"
    );

    assert_eq!(
        v("hookline_publish_duration_seconds_count{tenant=\"acme\",kind=\"single\"}"),
        3.0
    );
    assert_eq!(
        v("hookline_publish_duration_seconds_count{tenant=\"acme\",kind=\"batch\"}"),
        1.0
    );
    assert_eq!(
        v("hookline_publish_duration_seconds_count{tenant=\"_other\",kind=\"single\"}"),
        1.0
    );

    assert_eq!(v("hookline_queue_depth{scope=\"database\"}"), 0.0);
    assert_eq!(v("hookline_waiting_retry{scope=\"database\"}"), 0.0);
    assert_eq!(v("hookline_in_flight"), 0.0);
    let database = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert!(
        text.contains(&format!("database=\"{database}\"")) && text.contains("hookline_build_info{"),
        "{text}"
    );
    assert!(v("process_resident_memory_bytes") > 1e6);
    assert!(v("process_open_fds") > 0.0);
    assert!(text.ends_with("# EOF\n"));
    // No series twice.
    let mut names: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all, "{text}");
    app.stop().await;
}

/// The lines a child process writes, read on a thread as they come.
fn lines_of(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first JSON log line `pick` accepts, waiting up to 10 s.
fn wait_line(rx: &std::sync::mpsc::Receiver<String>, pick: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("the log line came");
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if pick(&v) {
            return v;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_access_line_per_request_with_its_id() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("h.db").display());
    let port = crate::resilience::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "json",
        ])
        .env("DATABASE_URL", &url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = lines_of(child.stdout.take().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    crate::resilience::wait_ready(&base).await;

    // The caller's id is kept and echoed; a hostile one is replaced by a fresh id.
    let res = client()
        .get(format!(
            "{base}/api/v1/event-types?limit=5&token=secret-in-query"
        ))
        .header("x-request-id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["x-request-id"], "trace-abc.123");
    let line = wait_line(&rx, |v| v["span"]["request_id"] == "trace-abc.123");
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["fields"]["message"], "request");
    assert_eq!(line["fields"]["method"], "GET");
    assert_eq!(
        line["fields"]["path"], "/api/v1/event-types",
        "the query string stays out: {line}"
    );
    assert_eq!(line["fields"]["status"], 401);
    assert_eq!(line["fields"]["peer"], "127.0.0.1");
    assert!(line["fields"]["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(!line.to_string().contains("secret-in-query"));

    let res = client()
        .get(format!("{base}/healthz"))
        .header("x-request-id", "two words")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id.starts_with("req_") && id.len() == 30, "{id}");
    let line = wait_line(&rx, |v| v["span"]["request_id"] == id.as_str());
    assert_eq!(line["fields"]["path"], "/healthz");
    assert_eq!(line["fields"]["status"], 200);

    let _ = child.kill();
    let _ = child.wait();
}
