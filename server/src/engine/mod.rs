//! The delivery engine: claims due deliveries under a lease, sends them (signed, limited,
//! through the SSRF guard), records every attempt, and retries, dead-letters or disables as
//! the outcome says. It runs beside the HTTP server in `hookline serve`; on several nodes
//! sharing one Postgres each delivery is held by one node at a time.

pub mod batch;
pub mod limits;
pub mod outcome;
pub mod request;
pub mod signing;
pub mod ssrf;
pub mod store;

use app::backend::endpoints::StoredEndpoint;
use app::backend::{AppState, now_ms};
use limits::Limits;
use outcome::{ErrorClass, Verdict};
use rand::Rng;
use request::TokenCache;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{AttemptRecord, Claimed, EngineStore, Finished, NextState};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Response bodies are kept up to this size in the attempt log.
pub const MAX_LOGGED_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Requests in flight on this node, across all endpoints.
    pub max_in_flight: usize,
    /// How long a claim holds without a heartbeat; a crashed node's work is retried after it.
    pub lease: Duration,
    /// The longest sleep when nothing is due (new events wake the engine at once).
    pub idle_poll: Duration,
    /// On shutdown, how long in-flight attempts may take to finish.
    pub drain: Duration,
    pub targets: ssrf::TargetPolicy,
    pub breaker: store::Breaker,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 1000,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_secs(1),
            drain: Duration::from_secs(30),
            targets: ssrf::TargetPolicy::default(),
            breaker: store::Breaker {
                failures: 50,
                window_ms: 6 * 3600 * 1000,
            },
        }
    }
}

pub struct Engine {
    store: EngineStore,
    state: AppState,
    client: reqwest::Client,
    tokens: TokenCache,
    limits: Limits,
    cfg: EngineConfig,
    targets: Arc<ssrf::TargetPolicy>,
    batcher: batch::Batcher,
    /// Group commit for finished attempts (see [`EngineStore::finish`]).
    finisher: std::sync::OnceLock<tokio::sync::mpsc::Sender<FinishJob>>,
    running: std::sync::atomic::AtomicBool,
}

type FinishJob = (
    Finished,
    tokio::sync::oneshot::Sender<Result<(usize, Option<store::Tripped>), String>>,
);

/// Most finished requests written in one transaction.
const FINISH_GROUP: usize = 256;

/// Writes whatever finished requests are waiting, together. If the transaction fails, each
/// of them hears so and their leases expire: they are retried, not lost.
async fn finisher(
    store: EngineStore,
    breaker: store::Breaker,
    mut queue: tokio::sync::mpsc::Receiver<FinishJob>,
) {
    let mut jobs = Vec::with_capacity(FINISH_GROUP);
    while queue.recv_many(&mut jobs, FINISH_GROUP).await > 0 {
        let (done, replies): (Vec<Finished>, Vec<_>) = jobs.drain(..).unzip();
        match store.finish(&done, breaker).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// One request, ready to sign and send: a single event or a batch.
struct Outgoing {
    /// `webhook-id`: the event id, or for a batch an id derived from its deliveries (the
    /// same when the same batch is retried).
    msg_id: String,
    body: Vec<u8>,
    content_type: &'static str,
    batch_size: Option<usize>,
}

type Prepared = Result<Outgoing, (ErrorClass, String)>;

impl Engine {
    pub fn new(state: AppState, cfg: EngineConfig) -> anyhow::Result<Arc<Engine>> {
        let targets = Arc::new(cfg.targets.clone());
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(ssrf::GuardedResolver {
                policy: targets.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(request::USER_AGENT)
            .pool_max_idle_per_host(256)
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let node = format!("{}-{}", hostname(), app::backend::ids::random_hex(4));
        Ok(Arc::new(Engine {
            store: EngineStore {
                db: state.db.clone(),
                node,
            },
            state,
            client,
            tokens: TokenCache::default(),
            limits: Limits::default(),
            cfg,
            targets,
            batcher: batch::Batcher::default(),
            finisher: std::sync::OnceLock::new(),
            running: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// True while the claim loop runs (for readiness).
    pub fn running(&self) -> bool {
        self.running.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn node(&self) -> &str {
        &self.store.node
    }

    /// Runs until `stop` turns true, then drains in-flight attempts (up to the drain time)
    /// and hands back anything unfinished.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        tracing::info!(
            node = self.node(),
            max_in_flight = self.cfg.max_in_flight,
            "delivery engine started"
        );
        let slots = Arc::new(Semaphore::new(self.cfg.max_in_flight));
        let mut tasks = JoinSet::new();
        let heartbeat = tokio::spawn(heartbeat(
            self.store.clone(),
            self.cfg.lease,
            self.state.events.outbox.clone(),
        ));
        let listener = match &self.state.db {
            app::backend::Db::Postgres(pool) => Some(tokio::spawn(listen_for_outbox(
                pool.clone(),
                self.state.events.outbox.clone(),
            ))),
            app::backend::Db::Sqlite(_) => None,
        };
        let lease_ms = self.cfg.lease.as_millis() as i64;
        self.running
            .store(true, std::sync::atomic::Ordering::Relaxed);
        loop {
            if *stop.borrow() {
                break;
            }
            let free = slots.available_permits();
            let mut claimed = 0;
            if free > 0 {
                match self
                    .claim_and_start(free.min(256), lease_ms, &slots, &mut tasks, &stop)
                    .await
                {
                    Ok(n) => claimed = n,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming deliveries failed; retrying shortly");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
            while tasks.try_join_next().is_some() {}
            if claimed > 0 && slots.available_permits() > 0 {
                continue;
            }
            let wait = if slots.available_permits() == 0 {
                self.cfg.idle_poll
            } else {
                match self.store.next_due().await {
                    Ok(Some(at)) if at > now_ms() => {
                        Duration::from_millis((at - now_ms()) as u64).min(self.cfg.idle_poll)
                    }
                    _ => self.cfg.idle_poll,
                }
            };
            tokio::select! {
                _ = self.state.events.outbox.notified() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tracing::info!(
            in_flight = tasks.len(),
            "delivery engine stopping: no new claims; draining"
        );
        let drained = tokio::time::timeout(self.cfg.drain, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                left = tasks.len(),
                "drain time over; interrupting the remaining attempts"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        heartbeat.abort();
        if let Some(l) = listener {
            l.abort();
        }
        match self.store.release_all().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "unfinished deliveries handed back"),
            Err(e) => {
                tracing::warn!(error = %e, "handing back deliveries failed; their leases will expire")
            }
        }
        tracing::info!("delivery engine stopped");
    }

    async fn claim_and_start(
        self: &Arc<Self>,
        limit: usize,
        lease_ms: i64,
        slots: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<usize> {
        let batch = self.store.claim(limit, lease_ms).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let mut ids: Vec<String> = batch.iter().map(|d| d.event_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let envelopes: HashMap<String, String> =
            self.store.envelopes(&ids).await?.into_iter().collect();
        // The catalog reloads when any endpoint changes (catalog_version), on every node.
        let catalog = self
            .state
            .events
            .catalog()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let n = batch.len();
        for d in batch {
            let envelope = envelopes.get(&d.event_id).cloned();
            let endpoint = catalog.endpoints.get(&d.endpoint_id).cloned();
            if let Some(settings) = endpoint.as_ref().and_then(|e| e.settings.batch.clone()) {
                let item = batch::Item {
                    claimed: d,
                    envelope,
                };
                let endpoint_id = item.claimed.endpoint_id.clone();
                match self
                    .batcher
                    .add(&endpoint_id, item, settings.max_events as usize)
                {
                    batch::Added::Full(items) => {
                        let permit = slots.clone().acquire_owned().await?;
                        let engine = self.clone();
                        tasks.spawn(async move {
                            engine.send_batch(items, endpoint).await;
                            drop(permit);
                        });
                    }
                    batch::Added::Opened(generation) => {
                        let wait = app::duration::parse(&settings.max_wait)
                            .unwrap_or(Duration::from_secs(1));
                        let (engine, slots, mut stop) = (self.clone(), slots.clone(), stop.clone());
                        tasks.spawn(async move {
                            // On shutdown an open batch leaves at once, within the drain.
                            if !*stop.borrow() {
                                tokio::select! {
                                    _ = tokio::time::sleep(wait) => {}
                                    _ = stop.changed() => {}
                                }
                            }
                            let Some(items) = engine.batcher.take(&endpoint_id, generation) else {
                                return; // it filled up and left already
                            };
                            let Ok(permit) = slots.acquire_owned().await else {
                                return;
                            };
                            // The endpoint as it is now: it may have changed while waiting.
                            let endpoint = match engine.state.events.catalog().await {
                                Ok(c) => c.endpoints.get(&endpoint_id).cloned(),
                                Err(_) => None,
                            };
                            engine.send_batch(items, endpoint).await;
                            drop(permit);
                        });
                    }
                    batch::Added::Joined => {}
                }
                continue;
            }
            let permit = slots.clone().acquire_owned().await?;
            let engine = self.clone();
            tasks.spawn(async move {
                engine.deliver(d, envelope, endpoint).await;
                drop(permit);
            });
        }
        Ok(n)
    }

    async fn deliver(
        &self,
        d: Claimed,
        envelope: Option<String>,
        endpoint: Option<StoredEndpoint>,
    ) {
        let Some(endpoint) = endpoint else {
            // Disabled or deleted since the claim: hand it back untouched.
            let _ = self.store.release_one(&d).await;
            return;
        };
        let max_bytes = self.state.limits.max_rendered_bytes;
        let outgoing = parse_envelope(envelope.as_deref())
            .and_then(|envelope| single(&d.event_id, &envelope, &endpoint, max_bytes));
        let ds = [d];
        let (record, next) = self.attempt_and_judge(&ds, outgoing, &endpoint, true).await;
        self.finish(&ds, &record, &next).await;
    }

    /// Sends gathered deliveries as one request. One that cannot be shaped (its envelope
    /// is missing or the template fails on it) fails on its own and does not hold back
    /// the others.
    async fn send_batch(&self, items: Vec<batch::Item>, endpoint: Option<StoredEndpoint>) {
        let Some(endpoint) = endpoint else {
            for item in &items {
                let _ = self.store.release_one(&item.claimed).await;
            }
            return;
        };
        let mut ds = Vec::with_capacity(items.len());
        let mut shaped = Vec::with_capacity(items.len());
        for item in items {
            let one = parse_envelope(item.envelope.as_deref()).and_then(|e| {
                request::shape(&endpoint, &e, self.state.limits.max_rendered_bytes)
                    .map_err(|e| (ErrorClass::Request, format!("template: {e}")))
            });
            match one {
                Ok(v) => {
                    ds.push(item.claimed);
                    shaped.push(v);
                }
                Err(failed) => {
                    let lone = [item.claimed];
                    let (record, next) = self
                        .attempt_and_judge(&lone, Err(failed), &endpoint, true)
                        .await;
                    self.finish(&lone, &record, &next).await;
                }
            }
        }
        if ds.is_empty() {
            return;
        }
        let (body, content_type) = request::batch_body(&endpoint, &shaped);
        let outgoing = Outgoing {
            msg_id: batch_id(&ds),
            body,
            content_type,
            batch_size: Some(ds.len()),
        };
        let (record, next) = self
            .attempt_and_judge(&ds, Ok(outgoing), &endpoint, true)
            .await;
        self.finish(&ds, &record, &next).await;
    }

    /// Records one request's outcome for every delivery it carried (group-committed with
    /// whatever else finished meanwhile).
    async fn finish(&self, ds: &[Claimed], record: &AttemptRecord, next: &NextState) {
        let m = &self.state.events.metrics;
        m.observe_attempt(record.duration_ms as f64 / 1000.0);
        let counter = match next {
            NextState::Succeeded => &m.deliveries_succeeded,
            NextState::RetryAt(_) => &m.deliveries_retried,
            NextState::Dead(_) => &m.deliveries_dead,
        };
        counter.fetch_add(ds.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let writer = self.finisher.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * FINISH_GROUP);
            tokio::spawn(finisher(self.store.clone(), self.cfg.breaker, rx));
            tx
        });
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Finished {
            deliveries: ds.to_vec(),
            attempt: record.clone(),
            next: next.clone(),
        };
        let result = match writer.send((job, reply)).await {
            Ok(()) => answer
                .await
                .unwrap_or_else(|_| Err("the attempt writer dropped it".into())),
            Err(_) => Err("the attempt writer stopped".into()),
        };
        match result {
            Ok((lost, tripped)) => {
                if lost > 0 {
                    tracing::warn!(lost, first = %ds[0].id, "lease lost before the attempt was recorded; another node owns it now");
                }
                if let Some(t) = tripped {
                    tracing::warn!(endpoint = %ds[0].endpoint_id, reason = %t.reason, "endpoint disabled");
                    self.announce_disabled(
                        &ds[0].endpoint_id,
                        &t.reason,
                        t.failures,
                        Some(t.since),
                    )
                    .await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, delivery = %ds[0].id, "recording an attempt failed; the lease will expire and it will be retried")
            }
        }
    }

    /// Makes one attempt (within the endpoint's limits) and decides what comes next.
    /// Without `retries`, a failure is final (test-fire).
    async fn attempt_and_judge(
        &self,
        ds: &[Claimed],
        outgoing: Prepared,
        endpoint: &StoredEndpoint,
        retries: bool,
    ) -> (AttemptRecord, NextState) {
        let settings = &endpoint.settings;
        let _pass = match &outgoing {
            Ok(_) => Some(
                self.limits
                    .pass(
                        &endpoint.id,
                        settings.rate_limit_per_minute,
                        settings.max_concurrency,
                    )
                    .await,
            ),
            Err(_) => None,
        };
        let started = now_ms();
        let clock = Instant::now();
        let mut record = AttemptRecord {
            started_at: started,
            url: settings.url.clone(),
            ..Default::default()
        };
        let result = match outgoing {
            Ok(o) => {
                let in_flight = &self.state.events.metrics.in_flight;
                in_flight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let r = self.attempt(o, endpoint, &mut record).await;
                in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                r
            }
            Err(e) => Err(e),
        };
        record.duration_ms = clock.elapsed().as_millis() as i64;
        let (status, class, retry_after) = match result {
            Ok((status, retry_after)) => {
                let class = match status {
                    200..=299 => None,
                    300..=399 => Some(ErrorClass::Redirect),
                    _ => Some(ErrorClass::HttpStatus),
                };
                (Some(status), class, retry_after)
            }
            Err((class, message)) => {
                record.error = Some(message);
                (None, Some(class), None)
            }
        };
        record.error_class = class.map(ErrorClass::as_str);
        if record.error.is_none()
            && let Some(s) = status
            && !(200..300).contains(&s)
        {
            record.error = Some(if (300..400).contains(&s) {
                format!("HTTP {s}: redirects are not followed")
            } else {
                format!("HTTP {s}")
            });
        }
        let before = ds.iter().map(|d| d.attempts).max().unwrap_or(0);
        let attempts_made = before as usize + 1;
        let next = match outcome::judge(status, class) {
            Verdict::Delivered => NextState::Succeeded,
            Verdict::Gone => {
                let reason = "the receiver answered 410 Gone".to_string();
                if let Err(e) = self.store.disable_endpoint(&endpoint.id, &reason).await {
                    tracing::warn!(error = %e, endpoint = %endpoint.id, "disabling an endpoint after 410 failed");
                }
                tracing::warn!(endpoint = %endpoint.id, "endpoint disabled: 410 Gone");
                self.announce_disabled(&endpoint.id, &reason, before + 1, None)
                    .await;
                NextState::Dead(format!("{reason}; the endpoint was disabled"))
            }
            Verdict::Retry { .. } if !retries => NextState::Dead(format!(
                "test-fire (not retried): {}",
                record.error.clone().unwrap_or_default()
            )),
            Verdict::Retry { harder } => {
                let schedule: Vec<Duration> = match &settings.retry_schedule {
                    Some(s) => s
                        .iter()
                        .filter_map(|d| app::duration::parse(d).ok())
                        .collect(),
                    None => outcome::DEFAULT_SCHEDULE.to_vec(),
                };
                let jitter = rand::thread_rng().gen_range(-1.0..=1.0);
                match outcome::next_delay(&schedule, attempts_made, harder, retry_after, jitter) {
                    Some(delay) => NextState::RetryAt(now_ms() + delay.as_millis() as i64),
                    None => NextState::Dead(format!(
                        "gave up after {attempts_made} attempts; last: {}",
                        record.error.clone().unwrap_or_default()
                    )),
                }
            }
        };
        (record, next)
    }

    /// Publishes `hookline.endpoint.disabled` through the normal pipeline, so it can be
    /// delivered to any endpoint that subscribes to it.
    async fn announce_disabled(
        &self,
        endpoint_id: &str,
        reason: &str,
        failures: i64,
        since: Option<i64>,
    ) {
        let (name, url) = match self.state.endpoints.stored(endpoint_id).await {
            Ok(e) => (e.settings.name, e.settings.url),
            Err(_) => (String::new(), String::new()),
        };
        let event = app::types::events::PublishEvent {
            event_type: "hookline.endpoint.disabled".into(),
            data: serde_json::json!({
                "endpoint_id": endpoint_id,
                "name": name,
                "url": url,
                "reason": reason,
                "consecutive_failures": failures,
                "failing_since": since.map(|s| app::time_fmt::Timestamp(s).rfc3339()),
            }),
            tenant: None,
            context: None,
            idempotency_key: None,
        };
        if let Err(e) = self
            .state
            .events
            .publish(&app::backend::Actor::system(), event, None)
            .await
        {
            tracing::error!(error = %e, endpoint = endpoint_id, "publishing hookline.endpoint.disabled failed");
        }
    }

    /// Sends a test event to one endpoint now and returns what happened (sent once; the
    /// event and its delivery stay in the log like any other).
    pub async fn test_fire(
        &self,
        actor: &app::backend::Actor,
        endpoint_id: &str,
        input: app::types::events::TestFire,
    ) -> Result<app::types::events::TestFireResult, app::error::AppError> {
        use app::error::AppError;
        actor.require(app::types::Role::Editor)?;
        let endpoint = self.state.endpoints.stored(endpoint_id).await?;
        let event_type = match input.event_type {
            Some(t) => t,
            None => {
                let exact: Vec<&String> = endpoint
                    .settings
                    .event_types
                    .iter()
                    .filter(|t| *t != "*" && !t.ends_with(".*"))
                    .collect();
                match exact.as_slice() {
                    [one] => (*one).clone(),
                    _ => {
                        return Err(AppError::invalid(
                            "event_type",
                            "say which event type to send (the endpoint does not name exactly one)",
                        ));
                    }
                }
            }
        };
        if !app::backend::endpoints::subscribes(&endpoint.settings.event_types, &event_type) {
            return Err(AppError::invalid(
                "event_type",
                format!("the endpoint does not subscribe to {event_type}"),
            ));
        }
        let lease_ms = self.cfg.lease.as_millis() as i64;
        let (event_id, delivery_id, envelope) = self
            .state
            .events
            .create_test(
                actor,
                endpoint_id,
                &event_type,
                input.data,
                self.node(),
                lease_ms,
            )
            .await?;
        let claimed = [Claimed {
            id: delivery_id.clone(),
            event_id: event_id.clone(),
            endpoint_id: endpoint_id.to_owned(),
            attempts: 0,
        }];
        let outgoing = single(
            &event_id,
            &envelope,
            &endpoint,
            self.state.limits.max_rendered_bytes,
        );
        let (record, next) = self
            .attempt_and_judge(&claimed, outgoing, &endpoint, false)
            .await;
        self.finish(&claimed, &record, &next).await;
        Ok(app::types::events::TestFireResult {
            event_id,
            delivery_id,
            status: match next {
                NextState::Succeeded => "succeeded".into(),
                _ => "dead".into(),
            },
            response_status: record.response_status,
            duration_ms: record.duration_ms,
            response_body: record.response_body,
            error_class: record.error_class.map(str::to_owned),
            error: record.error,
        })
    }

    /// One HTTP attempt: `Ok((status, retry_after))` when the receiver answered.
    async fn attempt(
        &self,
        o: Outgoing,
        endpoint: &StoredEndpoint,
        record: &mut AttemptRecord,
    ) -> Result<(u16, Option<Duration>), (ErrorClass, String)> {
        let body = o.body;
        record.request_body =
            String::from_utf8_lossy(&body[..body.len().min(MAX_LOGGED_BODY)]).into_owned();
        let secrets = endpoint.signing_secrets(now_ms());
        let timestamp = now_ms() / 1000;
        let signature = signing::signature_header(&secrets, &o.msg_id, timestamp, &body)
            .map_err(|e| (ErrorClass::Request, e))?;
        let url = reqwest::Url::parse(&endpoint.settings.url)
            .map_err(|e| (ErrorClass::Request, format!("url: {e}")))?;
        ssrf::check_literal(&self.targets, &url).map_err(|e| (ErrorClass::SsrfBlocked, e.0))?;
        let (mut headers, mut shown) = request::headers(
            &self.client,
            &self.tokens,
            endpoint,
            o.content_type,
            &o.msg_id,
            timestamp,
            &signature,
        )
        .await
        .map_err(|e| (ErrorClass::Request, e))?;
        if let Some(n) = o.batch_size {
            headers.insert("hookline-batch-size", n.into());
            shown.push(("hookline-batch-size".into(), n.to_string()));
        }
        record.request_headers = serde_json::to_string(&shown).unwrap_or_default();
        let timeout =
            app::duration::parse(&endpoint.settings.timeout).unwrap_or(Duration::from_secs(30));
        let response = self
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| (classify(&e), describe(&e)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| outcome::parse_retry_after(v, std::time::SystemTime::now()));
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        record.response_status = Some(status as i64);
        record.response_headers = Some(serde_json::to_string(&headers).unwrap_or_default());
        record.response_body = Some(read_capped(response, MAX_LOGGED_BODY, timeout).await);
        Ok((status, retry_after))
    }
}

fn parse_envelope(envelope: Option<&str>) -> Result<Value, (ErrorClass, String)> {
    envelope.and_then(|e| serde_json::from_str(e).ok()).ok_or((
        ErrorClass::Request,
        "the event's envelope is missing".to_string(),
    ))
}

/// The request for one event: its webhook-id is the event id, the same on every retry.
fn single(
    event_id: &str,
    envelope: &Value,
    endpoint: &StoredEndpoint,
    max_bytes: usize,
) -> Prepared {
    let (body, content_type) = request::body(endpoint, envelope, max_bytes)
        .map_err(|e| (ErrorClass::Request, format!("template: {e}")))?;
    Ok(Outgoing {
        msg_id: event_id.to_owned(),
        body,
        content_type,
        batch_size: None,
    })
}

/// A batch's webhook-id: derived from its deliveries, so a retry of the same batch carries
/// the same id and receivers can deduplicate it.
fn batch_id(ds: &[Claimed]) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<&str> = ds.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    let digest = Sha256::digest(ids.join(",").as_bytes());
    let hex: String = digest[..13].iter().map(|b| format!("{b:02x}")).collect();
    format!("bat_{hex}")
}

/// Reads at most `cap` bytes of the body (the rest is not waited for).
async fn read_capped(mut response: reqwest::Response, cap: usize, timeout: Duration) -> String {
    let mut buf = Vec::new();
    let read = async {
        while buf.len() < cap {
            match response.chunk().await {
                Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
    buf.truncate(cap);
    String::from_utf8_lossy(&buf).into_owned()
}

fn classify(e: &reqwest::Error) -> ErrorClass {
    if e.is_timeout() {
        return ErrorClass::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(s) = source {
        if s.downcast_ref::<ssrf::SsrfBlocked>().is_some() {
            return ErrorClass::SsrfBlocked;
        }
        text.push_str(&s.to_string().to_ascii_lowercase());
        text.push(' ');
        source = s.source();
    }
    if text.contains("dns") || text.contains("lookup") || text.contains("no addresses") {
        ErrorClass::Dns
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        ErrorClass::Tls
    } else if e.is_connect() {
        ErrorClass::Connect
    } else {
        ErrorClass::Request
    }
}

/// The error with its causes, for the attempt log.
fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Postgres: wakes this node's engine when any node commits new deliveries.
async fn listen_for_outbox(pool: sqlx::PgPool, wake: Arc<tokio::sync::Notify>) {
    loop {
        let result = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen("hookline_outbox").await?;
            loop {
                listener.recv().await?;
                wake.notify_one();
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "listening for new deliveries failed; polling meanwhile, reconnecting");
        }
        // Anything missed while reconnecting is found by the regular poll.
        wake.notify_one();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Keeps this node's leases alive, and returns other nodes' expired ones to the queue.
async fn heartbeat(store: EngineStore, lease: Duration, wake: Arc<tokio::sync::Notify>) {
    let mut tick = tokio::time::interval(lease / 3);
    loop {
        tick.tick().await;
        if let Err(e) = store.heartbeat(lease.as_millis() as i64).await {
            tracing::warn!(error = %e, "extending delivery leases failed");
        }
        match store.recover_expired().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(recovered = n, "expired leases returned to the queue");
                wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "recovering expired leases failed"),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

impl app::backend::state::EngineHandle for Engine {
    fn test_fire<'a>(
        &'a self,
        actor: &'a app::backend::Actor,
        endpoint_id: &'a str,
        input: app::types::events::TestFire,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<app::types::events::TestFireResult, app::error::AppError>,
                > + Send
                + 'a,
        >,
    > {
        Box::pin(Engine::test_fire(self, actor, endpoint_id, input))
    }
}
