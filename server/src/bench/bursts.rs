//! The throughput phases: the raw ceiling (the bench's client straight to its sink), a burst
//! of single publishes and a burst of batches, each end to end (until the sink has every
//! delivery), with the CPU each cost per event (see [`super::cpu`]).

use super::cpu::{Parts, Ticks};
use super::{Bench, BenchArgs, closed_loop, event, now_us, report, rss_kib};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub(super) async fn run(
    b: &Arc<Bench>,
    args: &BenchArgs,
    pid: u32,
    postgres: bool,
    out: &mut report::Run,
) -> anyhow::Result<()> {
    let (n, c) = (args.events, args.concurrency);

    // The ceiling: the same client straight to the same sink.
    let cpu = Ticks::now(pid);
    let raw = {
        let (client, url) = (b.client.clone(), b.sink_base.clone());
        let body = serde_json::to_vec(&event(0))?;
        closed_loop(n, c, move |_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            async move {
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                Ok(())
            }
        })
        .await?
    };
    let cpu_raw = cpu.until(&Ticks::now(pid));
    b.reset();
    let raw_rate = n as f64 / raw.as_secs_f64();

    // Single POSTs, end to end.
    let handed_before = b.handed_over().await?;
    let cpu = Ticks::now(pid);
    let single_start_us = now_us();
    let single = {
        let b = b.clone();
        closed_loop(n, c, move |i| {
            let b = b.clone();
            async move { b.post("/api/v1/events", &event(i)).await }
        })
        .await?
    };
    let all = b.wait_received(n, Duration::from_secs(600)).await;
    let cpu_single = cpu.until(&Ticks::now(pid));
    let e2e_single = b.sink.since(single_start_us);
    let delivered_single = b.sink.received.load(Ordering::Relaxed);
    b.reset();

    // Batches, end to end.
    let batches = n.div_ceil(args.batch_size);
    let cpu = Ticks::now(pid);
    let start_us = now_us();
    let batch_time = {
        let (b, size) = (b.clone(), args.batch_size);
        closed_loop(batches, c.min(8), move |i| {
            let b = b.clone();
            async move {
                let events: Vec<_> = (0..size).map(|j| event(i * size + j)).collect();
                b.post(
                    "/api/v1/events/batch",
                    &serde_json::json!({"events": events}),
                )
                .await
            }
        })
        .await?
    };
    let total_batch = batches * args.batch_size;
    b.wait_received(total_batch, Duration::from_secs(600)).await;
    let cpu_batch = cpu.until(&Ticks::now(pid));
    let e2e_batch = b.sink.since(start_us);
    let peak_burst_kib = rss_kib(pid, "VmHWM:").unwrap_or(0);
    let handed = b.handed_over().await? - handed_before;
    b.reset();

    out.add("raw POST ceiling (client -> sink)", raw_rate, "req/s");
    cpu_raw.report(out, "ceiling", n, Parts::BenchOnly);
    let parts = if postgres {
        Parts::ServerAndPostgres
    } else {
        Parts::Server
    };
    out.rate(
        "ingest, single POSTs",
        n as f64 / single.as_secs_f64(),
        "ev/s",
    );
    out.rate(
        format!("ingest, batches of {}", args.batch_size),
        total_batch as f64 / batch_time.as_secs_f64(),
        "ev/s",
    );
    let d_single = delivered_single as f64 / e2e_single.as_secs_f64().max(1e-9);
    let d_batch = total_batch as f64 / e2e_batch.as_secs_f64().max(1e-9);
    out.rate(
        "deliveries/s end to end (single-POST burst)",
        d_single,
        "/s",
    );
    cpu_single.report(out, "single burst", delivered_single, parts);
    out.rate("deliveries/s end to end (batch burst)", d_batch, "/s");
    cpu_batch.report(out, "batch burst", total_batch, parts);
    out.add(
        "  bursts' deliveries handed over by the publish",
        100.0 * handed as f64 / (delivered_single + total_batch).max(1) as f64,
        "%",
    );
    if !all {
        out.notes
            .push("not every single-POST event arrived within the time limit".into());
    }
    out.add(
        "server peak RSS after the bursts",
        peak_burst_kib as f64 / 1024.0,
        "MB",
    );
    Ok(())
}
