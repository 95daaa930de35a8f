//! The suite's bookkeeping: a steady publisher that records every event the server accepted
//! (and every answer it did not), and the tally of what reached the receiver.

use crate::receiver::Receiver;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Ledger {
    /// Accepted event id -> when the 202 came back.
    accepted: Mutex<HashMap<String, Instant>>,
    /// No answer at all (the server was down): the client would retry; nothing was accepted.
    pub unreachable: AtomicUsize,
    /// 503 with Retry-After: refused, fast and honestly.
    pub unavailable: AtomicUsize,
    /// The slowest 503, in ms.
    pub slowest_unavailable_ms: AtomicUsize,
    /// Any other answer (status, and the first body of each).
    pub unexpected: Mutex<Vec<(u16, String)>>,
}

impl Ledger {
    pub fn accept(&self, id: String, at: Instant) {
        self.accepted.lock().unwrap().insert(id, at);
    }

    /// What the receiver got for the accepted events.
    pub fn tally(&self, receiver: &Receiver) -> Tally {
        let accepted = self.accepted.lock().unwrap().clone();
        let (first, hits) = first_hits(receiver);
        let delivered = accepted.keys().filter(|id| first.contains_key(*id)).count();
        let worst = accepted
            .iter()
            .filter_map(|(id, at)| first.get(id).map(|got| got.saturating_duration_since(*at)))
            .max()
            .unwrap_or_default();
        Tally {
            accepted: accepted.len(),
            delivered,
            lost: accepted.len() - delivered,
            duplicated: hits - first.len(),
            worst_delay: worst,
        }
    }

    /// For each accepted event that arrived: from its 202 to its first 2xx at the receiver.
    pub fn delays(&self, receiver: &Receiver) -> Vec<Duration> {
        let accepted = self.accepted.lock().unwrap().clone();
        let (first, _) = first_hits(receiver);
        accepted
            .iter()
            .filter_map(|(id, at)| first.get(id).map(|got| got.saturating_duration_since(*at)))
            .collect()
    }

    /// Waits until every accepted event reached the receiver (or `within` passes).
    pub async fn settle(&self, receiver: &Receiver, within: Duration) -> Tally {
        let deadline = Instant::now() + within;
        loop {
            let t = self.tally(receiver);
            if t.lost == 0 || Instant::now() > deadline {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// When each message (webhook-id) first got a 2xx, and how many 2xx answers there were.
fn first_hits(receiver: &Receiver) -> (HashMap<String, Instant>, usize) {
    let mut first: HashMap<String, Instant> = HashMap::new();
    let mut hits = 0;
    for h in receiver.hits() {
        if !(200..300).contains(&h.status) {
            continue;
        }
        let Some(id) = h.headers.get("webhook-id").and_then(|v| v.to_str().ok()) else {
            continue;
        };
        hits += 1;
        first
            .entry(id.to_owned())
            .and_modify(|t| *t = (*t).min(h.at))
            .or_insert(h.at);
    }
    (first, hits)
}

#[derive(Debug, Clone, Copy)]
pub struct Tally {
    pub accepted: usize,
    pub delivered: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub worst_delay: Duration,
}

/// Publishes `per_second` single events of `event_type` to `base` until stopped, recording
/// every answer. Each request may take up to 10 s.
pub fn steady_publisher(
    base: String,
    key: String,
    event_type: &'static str,
    per_second: u32,
    ledger: Arc<Ledger>,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let halt = stop.clone();
    let task = tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second);
        let mut sent = tokio::task::JoinSet::new();
        let mut n = 0u64;
        while !halt.load(Ordering::Relaxed) {
            tick.tick().await;
            n += 1;
            let (client, base, key, ledger) =
                (client.clone(), base.clone(), key.clone(), ledger.clone());
            sent.spawn(async move {
                let started = Instant::now();
                let res = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&key)
                    .json(&json!({"event_type": event_type, "data": {"n": n}}))
                    .send()
                    .await;
                let Ok(res) = res else {
                    ledger.unreachable.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let status = res.status().as_u16();
                let retry_after = res.headers().contains_key("retry-after");
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                match status {
                    202 => ledger.accept(body["id"].as_str().unwrap().to_owned(), Instant::now()),
                    503 if retry_after => {
                        ledger.unavailable.fetch_add(1, Ordering::Relaxed);
                        ledger
                            .slowest_unavailable_ms
                            .fetch_max(started.elapsed().as_millis() as usize, Ordering::Relaxed);
                    }
                    other => ledger
                        .unexpected
                        .lock()
                        .unwrap()
                        .push((other, body.to_string())),
                }
            });
            while sent.try_join_next().is_some() {}
        }
        while sent.join_next().await.is_some() {}
    });
    (stop, task)
}
