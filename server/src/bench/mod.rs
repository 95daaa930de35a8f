//! `hookline bench`: measures this build on this machine and prints the numbers.
//!
//! The server runs as a child process (`hookline serve` on a fresh database) so its memory
//! is measured alone; a local sink receives the deliveries and records when each arrived.
//! In the same run, the same kind of client posts straight to the same sink: the ceiling
//! the delivery rate is compared with. A benchmark, never a test: it only reports.
//! `runs` runs it per database and run, `report` prints the figures as medians with their
//! spread, `postgres` is the bench's own durable cluster, `bursts` the throughput phases,
//! `cpu` where their CPU went, `floor` the database's own round trip and commit, and
//! `inbound` the phase for webhooks received from partners.

mod bursts;
mod cpu;
mod floor;
mod inbound;
mod postgres;
mod report;
mod runs;
mod scenarios;

pub use crate::config::BenchArgs;
use axum::body::Bytes;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros() as u64
}

/// The receiver: 200 at once (or after `delay`, or after `n` ms on `/slow/{n}`), recording
/// arrival latency when the payload carries `data.sent_us`, and, while asked to, how many
/// times each `webhook-id` arrived.
#[derive(Clone, Default)]
struct Sink {
    received: Arc<AtomicUsize>,
    latencies_us: Arc<Mutex<Vec<u64>>>,
    delay_ms: Arc<AtomicU64>,
    last_us: Arc<AtomicU64>,
    ids: Arc<Mutex<Option<IdCount>>>,
}

/// Requests received, and the distinct webhook ids among them.
type IdCount = (usize, std::collections::HashSet<String>);

impl Sink {
    fn latencies(&self) -> Vec<u64> {
        self.latencies_us
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// From `start_us` (a [`now_us`] reading) to the last arrival: a phase end to end.
    fn since(&self, start_us: u64) -> Duration {
        Duration::from_micros(
            self.last_us
                .load(Ordering::Relaxed)
                .saturating_sub(start_us),
        )
    }

    fn latency_count(&self) -> usize {
        self.latencies_us
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Starts (`true`) or stops counting webhook ids; stopping answers how many requests
    /// arrived meanwhile and how many distinct ids they carried.
    fn count_ids(&self, on: bool) -> (usize, usize) {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let counted = ids.take().map_or((0, 0), |(n, set)| (n, set.len()));
        if on {
            *ids = Some((0, Default::default()));
        }
        counted
    }
}

async fn start_sink(sink: Sink) -> anyhow::Result<String> {
    let s = sink.clone();
    let app = axum::Router::new()
        .fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: Bytes| {
                let s = s.clone();
                async move {
                    let at = now_us();
                    let delay = uri
                        .path()
                        .strip_prefix("/sink/slow/")
                        .and_then(|ms| ms.parse().ok())
                        .unwrap_or_else(|| s.delay_ms.load(Ordering::Relaxed));
                    if let Some((n, set)) = s.ids.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
                    {
                        *n += 1;
                        if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                            set.insert(id.to_owned());
                        }
                    }
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    if let Some(sent) = find_sent(&body) {
                        s.latencies_us
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(at.saturating_sub(sent));
                    }
                    s.received.fetch_add(1, Ordering::Relaxed);
                    s.last_us.store(now_us(), Ordering::Relaxed);
                    "ok"
                }
            },
        )
        // The 10 MB scenario's body.
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/sink", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// Finds `"sent_us":<n>` without parsing the whole body.
fn find_sent(body: &[u8]) -> Option<u64> {
    let key = b"\"sent_us\":";
    let at = body.windows(key.len()).position(|w| w == key)? + key.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

struct Bench {
    client: reqwest::Client,
    base: String,
    key: String,
    sink: Sink,
    /// The sink's URL: scenarios add a path to it.
    sink_base: String,
}

impl Bench {
    async fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<()> {
        self.send(reqwest::Method::POST, &self.base, path, Some(body))
            .await
            .map(drop)
    }

    /// One API request to the node at `base`; answers the JSON body (`null` when empty),
    /// or an error naming the path and the status.
    async fn send(
        &self,
        method: reqwest::Method,
        base: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut req = self
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            req = req.json(body);
        }
        let r = req.send().await?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Publishes `rate` timed events of `event_type` a second for `secs` seconds, each on
    /// its own task at its due time (an open loop: a slow answer does not slow the offer);
    /// answers how many, once every publish was accepted, and each publish's answer time
    /// in µs (sorted).
    async fn offer(
        self: &Arc<Self>,
        event_type: &'static str,
        rate: u64,
        secs: u64,
    ) -> anyhow::Result<(usize, Vec<u64>)> {
        let total = (rate * secs) as usize;
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(total);
        for i in 0..total {
            tokio::time::sleep_until((start + interval.mul_f64(i as f64)).into()).await;
            let b = self.clone();
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                b.post("/api/v1/events", &timed_event(event_type, i))
                    .await
                    .map(|()| sent.elapsed().as_micros() as u64)
            }));
        }
        let mut answered = Vec::with_capacity(total);
        for t in tasks {
            answered.push(t.await??);
        }
        answered.sort_unstable();
        Ok((total, answered))
    }

    /// The node's count of deliveries its publishes handed to its engine (`/metrics`).
    async fn handed_over(&self) -> anyhow::Result<u64> {
        let metrics = self
            .client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(&self.key)
            .send()
            .await?
            .text()
            .await?;
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("hookline_deliveries_handed_over_total "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("/metrics has no hookline_deliveries_handed_over_total"))
    }

    async fn wait_received(&self, n: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while self.sink.received.load(Ordering::Relaxed) < n {
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    fn reset(&self) {
        self.sink.received.store(0, Ordering::Relaxed);
        self.sink
            .latencies_us
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

fn event(i: usize) -> serde_json::Value {
    timed_event("bench.event", i)
}

/// An event whose arrival the sink times (`data.sent_us`).
fn timed_event(event_type: &str, i: usize) -> serde_json::Value {
    serde_json::json!({"event_type": event_type, "data": {"n": i, "sent_us": now_us()}})
}

/// Runs `total` jobs with `concurrency` workers; returns the elapsed time.
async fn closed_loop<F, Fut>(total: usize, concurrency: usize, job: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, job) = (next.clone(), job.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(());
                }
                job(i).await?;
            }
        }));
    }
    for w in workers {
        w.await??;
    }
    Ok(start.elapsed())
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("hookline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = runs::run_all(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    print_bundle(&args.site_root);
    result
}

/// The browser bundle's sizes, as `scripts/pack-site.mjs` recorded them: what a first visit
/// downloads (a repeat visit downloads none of it: the names are content-hashed and served
/// `immutable`).
fn print_bundle(site_root: &std::path::Path) {
    let kib = |n: u64| format!("{:.0} KiB", n as f64 / 1024.0);
    match crate::site::Bundle::load(site_root) {
        Ok(b) => {
            println!(
                "browser bundle ({}): as built, gzip, brotli",
                site_root.display()
            );
            let files = [&b.wasm, &b.js, &b.css];
            for f in files {
                println!(
                    "  {:<34} {:>9} {:>9} {:>9}",
                    f.file,
                    kib(f.bytes),
                    kib(f.gzip_bytes),
                    kib(f.brotli_bytes)
                );
            }
            let sum = |g: fn(&crate::site::BundleFile) -> u64| files.iter().map(|f| g(f)).sum();
            println!(
                "  {:<34} {:>9} {:>9} {:>9}",
                "total",
                kib(sum(|f| f.bytes)),
                kib(sum(|f| f.gzip_bytes)),
                kib(sum(|f| f.brotli_bytes))
            );
        }
        Err(why) => println!("browser bundle: not measured ({why})"),
    }
}

async fn measure(
    args: &BenchArgs,
    port: u16,
    pid: u32,
    key: String,
    second: Option<&mut runs::SecondNode>,
) -> anyhow::Result<report::Run> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the server under test did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sink = Sink::default();
    let sink_url = start_sink(sink.clone()).await?;
    let b = Arc::new(Bench {
        client: client.clone(),
        base,
        key,
        sink,
        sink_base: sink_url.clone(),
    });
    b.post(
        "/api/v1/event-types",
        &serde_json::json!({"name": "bench.event"}),
    )
    .await?;
    b.post(
        "/api/v1/endpoints",
        &serde_json::json!({"name": "sink", "url": sink_url, "event_types": ["bench.event"]}),
    )
    .await?;
    let n = args.events;
    let c = args.concurrency;
    println!(
        "hookline bench: {n} events, concurrency {c}, {} cores, server pid {pid}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let mut out = report::Run::default();
    bursts::run(&b, args, pid, second.is_some(), &mut out).await?;
    inbound::phase(&b, n, c, &mut out).await?;

    // Open loop: offered rates, publish -> receive latency.
    for &rate in &args.rates {
        let (total, answered) = b.offer("bench.event", rate, args.latency_secs).await?;
        b.wait_received(total, Duration::from_secs(120)).await;
        let mut lat = b.sink.latencies();
        lat.sort_unstable();
        for (name, p) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
            out.add(
                format!("publish -> receive at {rate} ev/s offered, {name}"),
                percentile(&lat, p),
                "ms",
            );
        }
        for (name, p) in [("p50", 0.50), ("p95", 0.95)] {
            out.add(
                format!("  the publish answered at {rate} ev/s, {name}"),
                percentile(&answered, p),
                "ms",
            );
        }
        b.reset();
    }

    // 1,000 deliveries in flight to a receiver that answers after 1 s.
    b.sink.delay_ms.store(1000, Ordering::Relaxed);
    let before = rss_kib(pid, "VmRSS:").unwrap_or(0);
    let start = Instant::now();
    let events: Vec<_> = (0..1000).map(event).collect();
    b.post(
        "/api/v1/events/batch",
        &serde_json::json!({"events": events}),
    )
    .await?;
    let mut peak = before;
    while b.sink.received.load(Ordering::Relaxed) < 1000
        && start.elapsed() < Duration::from_secs(120)
    {
        peak = peak.max(rss_kib(pid, "VmRSS:").unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out.add(
        "1,000 in flight to a 1 s receiver: all answered in",
        start.elapsed().as_secs_f64(),
        "s",
    );
    out.add(
        "  server RSS while in flight (peak sampled)",
        peak as f64 / 1024.0,
        "MB",
    );
    large_event(&b, pid, &mut out).await?;
    scenarios::fan_out(&b, n, &mut out).await?;
    scenarios::slow_receiver(&b, n, &mut out).await?;
    scenarios::noisy_neighbour(&b, 200, args.latency_secs, &mut out).await?;
    if let Some(node) = second {
        let url = node.start().await?;
        scenarios::two_nodes(&b, &url, &node.db_url, n, &mut out).await?;
    }
    Ok(out)
}

/// One 10 MB event (the largest payload the seeds ask for), published and delivered: how
/// long it takes, and the server's peak memory above its resting size, as a multiple of
/// the payload. The kernel's peak counter is reset first (`clear_refs` 5).
async fn large_event(b: &Bench, pid: u32, out: &mut report::Run) -> anyhow::Result<()> {
    const SIZE: usize = 10 * 1024 * 1024;
    b.sink.delay_ms.store(0, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.reset();
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let resting = rss_kib(pid, "VmRSS:").unwrap_or(0);
    let body = serde_json::json!({"event_type": "bench.event",
        "data": {"blob": "x".repeat(SIZE), "sent_us": now_us()}});
    let start = Instant::now();
    b.post("/api/v1/events", &body).await?;
    let received = b.wait_received(1, Duration::from_secs(120)).await;
    let took = start.elapsed();
    let peak = rss_kib(pid, "VmHWM:").unwrap_or(0);
    if received {
        out.add(
            "one 10 MB event: published and received in",
            took.as_secs_f64(),
            "s",
        );
    } else {
        out.notes
            .push("the 10 MB event was not received within 120 s".into());
    }
    if !reset {
        out.notes.push(
            "the kernel's peak counter could not be reset: the 10 MB figure is the peak since start"
                .into(),
        );
    }
    let above = peak.saturating_sub(resting) as f64 / 1024.0;
    out.add("  server peak RSS above resting", above, "MB");
    out.add(
        "  … as a multiple of the payload",
        above * 1024.0 * 1024.0 / SIZE as f64,
        "x",
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_send_time() {
        assert_eq!(
            super::find_sent(br#"{"data":{"n":1,"sent_us":12345},"x":1}"#),
            Some(12345)
        );
        assert_eq!(super::find_sent(b"{}"), None);
    }
}
