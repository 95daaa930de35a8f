//! OpenTelemetry traces from a real `hookline serve --otlp-endpoint` to a local collector:
//! one trace runs from the caller's `traceparent` through the request and the publish to
//! each attempt, retries included, and each attempt's `traceparent` reaches the receiver.

use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use crate::resilience::{free_port, migrated_with_key, wait_ready};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every span the collector got so far.
fn spans(collector: &Receiver) -> Vec<Span> {
    collector
        .hits()
        .iter()
        .filter(|h| h.path == "/v1/traces")
        .flat_map(|h| {
            ExportTraceServiceRequest::decode(h.body.clone())
                .expect("OTLP protobuf")
                .resource_spans
        })
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect()
}

fn attr(span: &Span, key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    span.attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            Value::IntValue(i) => Some(i.to_string()),
            other => Some(format!("{other:?}")),
        }
    })
}

struct Node {
    base: String,
    key: String,
    child: std::process::Child,
    _dir: TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server exporting to `otlp`, with an event type and one endpoint at `receiver`
/// (retried once after 1 s).
async fn node(otlp: &str, receiver: &Receiver) -> Node {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("h.db").display());
    let key = migrated_with_key(&url).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--allow-private-targets",
        ])
        .args(["--otlp-endpoint", otlp])
        .env("DATABASE_URL", &url)
        // Export within a tenth of a second instead of every 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = Node {
        base,
        key,
        child,
        _dir: dir,
    };
    wait_ready(&node.base).await;
    let call = |method, path: &str, body| {
        api(
            method,
            format!("{}{path}", node.base),
            Some(&node.key),
            Some(body),
        )
    };
    let (s, b) = call(
        Method::POST,
        "/api/v1/event-types",
        json!({"name": "order.created", "schema": {"type": "object"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = call(
        Method::POST,
        "/api/v1/endpoints",
        json!({"name": "r", "url": receiver.url, "retry_schedule": ["1s"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    node
}

async fn publish(node: &Node, traceparent: &str) {
    let res = client()
        .post(format!("{}/api/v1/events", node.base))
        .bearer_auth(&node.key)
        .header("traceparent", traceparent)
        .json(&json!({"event_type": "order.created", "data": {"id": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_runs_from_the_publish_through_each_attempt() {
    let collector = Receiver::start().await;
    let receiver = Receiver::start().await;
    receiver.script(vec![Reply::status(500)]);
    let node = node(collector.url.trim_end_matches("/hook"), &receiver).await;
    publish(&node, &format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01")).await;

    // The 500, then the retry's 200: each carries a traceparent of the caller's trace.
    let hits = receiver.wait_for(2, Duration::from_secs(10)).await;
    let sent: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            let tp = h.headers["traceparent"].to_str().unwrap().to_owned();
            let parts: Vec<&str> = tp.split('-').collect();
            assert_eq!(parts.len(), 4, "{tp}");
            assert_eq!(parts[0], "00");
            assert_eq!(parts[3], "01", "sampled, as the caller's was");
            (parts[1].to_owned(), parts[2].to_owned())
        })
        .collect();
    assert!(sent.iter().all(|(t, _)| t == CALLER_TRACE), "{sent:?}");
    assert_ne!(sent[0].1, sent[1].1, "each attempt is a span of its own");

    // The collector gets the request, publish and attempt spans, linked parent to child.
    let deadline = Instant::now() + Duration::from_secs(10);
    let all = loop {
        let all = spans(&collector);
        if all.iter().filter(|s| s.name == "webhook attempt").count() >= 2
            && all.iter().any(|s| s.name == "publish")
        {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "spans so far: {:?}",
            all.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ours: Vec<&Span> = all
        .iter()
        .filter(|s| hex(&s.trace_id) == CALLER_TRACE)
        .collect();
    let publish = ours
        .iter()
        .find(|s| s.name == "publish")
        .expect("a publish span in the caller's trace");
    let request = ours
        .iter()
        .find(|s| s.span_id == publish.parent_span_id)
        .expect("the publish is a child of its request's span");
    assert_eq!(
        hex(&request.parent_span_id),
        CALLER_SPAN,
        "the request continues the caller's span"
    );
    assert_eq!(request.name, "HTTP POST");
    let attempts: Vec<&&Span> = ours
        .iter()
        .filter(|s| s.name == "webhook attempt")
        .collect();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for (a, (_, span_id)) in attempts.iter().zip(&sent) {
        assert_eq!(
            a.parent_span_id, publish.span_id,
            "each attempt is a child of the publish"
        );
        assert!(
            sent.iter().any(|(_, s)| *s == hex(&a.span_id)),
            "the receiver got this attempt's id: {span_id}"
        );
    }
    let statuses: Vec<Option<String>> = attempts
        .iter()
        .map(|a| attr(a, "http.response.status_code"))
        .collect();
    assert!(
        statuses.contains(&Some("500".into())) && statuses.contains(&Some("200".into())),
        "{statuses:?}"
    );
    let failed = attempts
        .iter()
        .find(|a| attr(a, "http.response.status_code").as_deref() == Some("500"))
        .unwrap();
    assert_eq!(
        failed.status.as_ref().map(|s| s.code),
        Some(2),
        "the 500 is an error span"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_collector_or_a_bad_traceparent_stops_no_delivery() {
    // Nothing listens at the collector's address: exports fail, deliveries go on.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let receiver = Receiver::start().await;
    let node = node(&closed, &receiver).await;
    for bad in [
        "00-zzzz-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        &"9".repeat(4096),
    ] {
        publish(&node, bad).await;
    }
    let hits = receiver.wait_for(3, Duration::from_secs(10)).await;
    for h in &hits {
        let tp = h.headers["traceparent"].to_str().unwrap();
        let sc =
            app::backend::trace::parse(tp).unwrap_or_else(|| panic!("a valid traceparent: {tp}"));
        assert_ne!(
            sc.trace_id().to_string(),
            "0".repeat(32),
            "a trace of its own: {tp}"
        );
    }
    let (_, health) = api(Method::GET, format!("{}/readyz", node.base), None, None).await;
    assert_eq!(health["status"], "ready");
}
