//! The bench's scenarios beside the plain bursts, each on its own event type so it reaches
//! only its own endpoints: one event fanned out to ten endpoints, a receiver that takes
//! 50 ms, a throttled endpoint's backlog beside a quiet endpoint (the noisy neighbour of
//! the hardening issue), and two nodes sharing one Postgres.

use super::{Bench, now_us, percentile, report::Run};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Creates an event type and an endpoint subscribed to it alone; answers the endpoint's id.
async fn endpoint_for(
    b: &Bench,
    event_type: &str,
    path: &str,
    extra: serde_json::Value,
) -> anyhow::Result<String> {
    let _ = b
        .post(
            "/api/v1/event-types",
            &serde_json::json!({"name": event_type}),
        )
        .await;
    let mut body = serde_json::json!({"name": format!("{event_type} {path}"),
        "url": format!("{}{path}", b.sink_base), "event_types": [event_type]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let v = b
        .send(
            reqwest::Method::POST,
            &b.base,
            "/api/v1/endpoints",
            Some(&body),
        )
        .await?;
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the created endpoint has no id"))
}

/// Publishes `events` events of `event_type` (untimed: they leave the latency record alone)
/// in batches of `size` from 4 publishers, through the nodes at `bases` in turn; answers
/// when the last was accepted.
async fn publish_batches(
    b: &std::sync::Arc<Bench>,
    bases: &[String],
    event_type: &'static str,
    events: usize,
    size: usize,
) -> anyhow::Result<()> {
    let batches = events.div_ceil(size);
    let bases = std::sync::Arc::new(bases.to_vec());
    super::closed_loop(batches, 4, {
        let b = b.clone();
        move |i| {
            let (b, bases) = (b.clone(), bases.clone());
            async move {
                let batch: Vec<_> = (0..size.min(events - i * size))
                    .map(|j| serde_json::json!({"event_type": event_type, "data": {"n": i * size + j}}))
                    .collect();
                let body = serde_json::json!({"events": batch});
                let base = &bases[i % bases.len()];
                b.send(reqwest::Method::POST, base, "/api/v1/events/batch", Some(&body))
                    .await
                    .map(drop)
            }
        }
    })
    .await?;
    Ok(())
}

/// A burst of `events` events of `event_type` through the first node, in batches of `size`,
/// each delivered `fan` times: the deliveries per second from the first publish to the last
/// arrival, as the figure `name`.
async fn burst(
    b: &std::sync::Arc<Bench>,
    (event_type, events, size, fan): (&'static str, usize, usize, usize),
    name: &str,
    out: &mut Run,
) -> anyhow::Result<()> {
    b.reset();
    let start = Instant::now();
    publish_batches(b, std::slice::from_ref(&b.base), event_type, events, size).await?;
    let all = b
        .wait_received(events * fan, Duration::from_secs(300))
        .await;
    out.rate(
        name,
        b.sink.received.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
        "/s",
    );
    if !all {
        out.notes
            .push(format!("{name}: not every delivery arrived within 300 s"));
    }
    Ok(())
}

/// One event to ten endpoints: `events` deliveries from a tenth as many events.
pub(super) async fn fan_out(
    b: &std::sync::Arc<Bench>,
    events: usize,
    out: &mut Run,
) -> anyhow::Result<()> {
    for i in 0..10 {
        let path = format!("/fan/{i}");
        endpoint_for(b, "bench.fanout", &path, serde_json::json!({})).await?;
    }
    let name = "fan-out, 1 event to 10 endpoints: deliveries/s";
    burst(b, ("bench.fanout", events / 10, 100, 10), name, out).await
}

/// A burst to a receiver that answers after 50 ms: how many deliveries per second one
/// node keeps going (the bench allows 1,000 in flight: at most 20,000/s).
pub(super) async fn slow_receiver(
    b: &std::sync::Arc<Bench>,
    events: usize,
    out: &mut Run,
) -> anyhow::Result<()> {
    endpoint_for(b, "bench.slow", "/slow/50", serde_json::json!({})).await?;
    let name = "a receiver taking 50 ms: deliveries/s (cap 20,000)";
    burst(b, ("bench.slow", events, 500, 1), name, out).await
}

/// The noisy neighbour: endpoint A is throttled to 60 requests a minute with 1,000 events
/// waiting; meanwhile endpoint B gets `rate` events a second for `secs`. B's latency should
/// be what it is alone. A is deleted afterwards (its backlog is cancelled).
pub(super) async fn noisy_neighbour(
    b: &std::sync::Arc<Bench>,
    rate: u64,
    secs: u64,
    out: &mut Run,
) -> anyhow::Result<()> {
    let a = endpoint_for(
        b,
        "bench.noisy",
        "/noisy",
        serde_json::json!({"rate_limit_per_minute": 60}),
    )
    .await?;
    endpoint_for(b, "bench.quiet", "/quiet", serde_json::json!({})).await?;
    publish_batches(b, std::slice::from_ref(&b.base), "bench.noisy", 1000, 500).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.reset();
    let (total, _) = b.offer("bench.quiet", rate, secs).await?;
    // A's throttled deliveries arrive meanwhile (about one a second): wait for B's.
    let deadline = Instant::now() + Duration::from_secs(60);
    while b.sink.latency_count() < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut lat = b.sink.latencies();
    lat.sort_unstable();
    if lat.len() < total {
        out.notes.push(format!(
            "noisy neighbour: {} of B's {total} events arrived within 60 s",
            lat.len()
        ));
    }
    for (name, p) in [("p50", 0.50), ("p95", 0.95)] {
        out.add(
            format!("noisy neighbour: {rate} ev/s beside a backlog, {name}"),
            percentile(&lat, p),
            "ms",
        );
    }
    let path = format!("/api/v1/endpoints/{a}");
    b.send(reqwest::Method::DELETE, &b.base, &path, None)
        .await
        .map(drop)
}

/// Two nodes on one Postgres: a burst published through both; every delivery arrives once,
/// and both nodes send (their shares come from the attempt log).
pub(super) async fn two_nodes(
    b: &std::sync::Arc<Bench>,
    second: &str,
    db_url: &str,
    events: usize,
    out: &mut Run,
) -> anyhow::Result<()> {
    endpoint_for(b, "bench.nodes", "/nodes", serde_json::json!({})).await?;
    b.reset();
    b.sink.count_ids(true);
    let since_ms = (now_us() / 1000) as i64;
    let start = Instant::now();
    let bases = [b.base.clone(), second.to_owned()];
    publish_batches(b, &bases, "bench.nodes", events, 500).await?;
    let all = b.wait_received(events, Duration::from_secs(300)).await;
    let elapsed = start.elapsed();
    let (received, distinct) = b.sink.count_ids(false);
    out.rate(
        "2 nodes on one Postgres: deliveries/s",
        received as f64 / elapsed.as_secs_f64(),
        "/s",
    );
    out.add(
        "  duplicates received",
        received.saturating_sub(distinct) as f64,
        "",
    );
    if !all {
        out.notes.push(format!(
            "2 nodes: {distinct} of {events} deliveries arrived within 300 s"
        ));
    }
    let db = crate::startup::open_database(db_url).await?;
    let by_node: Vec<(String, i64)> = match &db {
        app::backend::Db::Postgres(pool) => sqlx::query_as(
            "SELECT node, COUNT(*) FROM attempts WHERE started_at >= $1 GROUP BY node ORDER BY 2",
        )
        .bind(since_ms)
        .fetch_all(pool)
        .await?,
        app::backend::Db::Sqlite(_) => Vec::new(),
    };
    db.close().await;
    let total: i64 = by_node.iter().map(|(_, n)| n).sum();
    let least = if by_node.len() < 2 { 0 } else { by_node[0].1 };
    out.add(
        "  attempts made by the less busy node",
        100.0 * least as f64 / total.max(1) as f64,
        "%",
    );
    Ok(())
}
