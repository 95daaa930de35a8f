//! The delivery engine: claims due deliveries under leases of their own, sends them (signed,
//! within each endpoint's limits, through the one guarded client), records every attempt,
//! and retries, dead-letters or disables as the outcome says. It runs beside the HTTP server
//! in `hookline serve`; on several nodes sharing one Postgres each delivery is held by one
//! claim at a time, and rate and concurrency limits hold across the nodes.
//!
//! - this file: the run loop and each claim round (test-fires first, then limited
//!   endpoints, then open ones);
//! - [`admission`]: which endpoints a round may claim from (fair shares, limits);
//! - [`store`]: the claims, leases and outcome writes in the database;
//! - [`handoff`]: deliveries a publish writes already claimed by this node and hands over;
//! - [`leases`]: the leases live work holds, and the heartbeat that renews only those;
//! - [`batch`]: gathering deliveries into batch requests;
//! - [`dispatch`]: one request (single or batch): shape, sign, send, judge, record;
//! - [`request`]: what a request carries (bodies, XML, headers, signature, OAuth2);
//! - [`outbound`]: the one guarded client and its target policy;
//! - [`outcome`]: judging an answer, and the retry schedule;
//! - [`target`]: the runtime model of an endpoint, built once per catalog version.

pub mod admission;
pub mod batch;
pub mod dispatch;
pub mod handoff;
pub mod leases;
pub mod outbound;
pub mod outcome;
pub mod request;
pub mod store;
pub mod target;

use app::backend::{AppState, now_ms};
use dispatch::{FinishJob, Gathered};
use request::TokenCache;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::claims::LimitedClaim;
use store::{Claimed, EngineStore};
use target::{Target, Targets};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Response bodies are kept up to this size in the attempt log.
pub const MAX_LOGGED_BODY: usize = 64 * 1024;

/// Most deliveries one claim round takes.
const CLAIM_ROUND: usize = 256;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Requests in flight on this node, across all endpoints.
    pub max_in_flight: usize,
    /// Requests in flight on this node for any one endpoint (its share of the slots).
    pub max_in_flight_per_endpoint: usize,
    /// The largest body a batch request carries; a fuller batch leaves as several requests.
    pub max_batch_bytes: usize,
    /// How long a claim holds without a heartbeat; a crashed node's work is retried after it.
    pub lease: Duration,
    /// The longest sleep when nothing is due (new events wake the engine at once).
    pub idle_poll: Duration,
    /// On shutdown, how long in-flight attempts may take to finish.
    pub drain: Duration,
    pub targets: outbound::ssrf::TargetPolicy,
    pub breaker: store::Breaker,
}

impl EngineConfig {
    /// An endpoint's share of the node's slots unless configured: a quarter, so a slow
    /// endpoint leaves three quarters to the others.
    pub fn default_share(max_in_flight: usize) -> usize {
        (max_in_flight / 4).max(1)
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 1000,
            max_in_flight_per_endpoint: EngineConfig::default_share(1000),
            max_batch_bytes: 1024 * 1024,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_secs(1),
            drain: Duration::from_secs(30),
            targets: outbound::ssrf::TargetPolicy::default(),
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
    client: outbound::http::GuardedClient,
    tokens: TokenCache,
    admission: Arc<admission::Admission>,
    leases: Arc<leases::Registry>,
    targets: Targets,
    cfg: EngineConfig,
    batcher: batch::Batcher<Gathered>,
    /// Group commit for finished attempts (see [`store::EngineStore::finish`]).
    finisher: std::sync::OnceLock<tokio::sync::mpsc::Sender<FinishJob>>,
    running: std::sync::atomic::AtomicBool,
    /// The node's request slots (`max_in_flight`), shared by claim rounds and hand-overs.
    slots: Arc<Semaphore>,
    /// Takes deliveries from publishes (see [`handoff`]): from the start of the claim loop
    /// until it stops.
    taking: std::sync::atomic::AtomicBool,
    /// The tasks sending handed-over deliveries (drained on shutdown like the others).
    handed: std::sync::Mutex<JoinSet<()>>,
}

impl Engine {
    pub fn new(state: AppState, cfg: EngineConfig) -> anyhow::Result<Arc<Engine>> {
        let client = outbound::http::GuardedClient::new(cfg.targets.clone())?;
        let node = format!("{}-{}", hostname(), app::backend::ids::random_hex(4));
        Ok(Arc::new(Engine {
            store: EngineStore {
                db: state.db.clone(),
                node,
                gate: state.shared.write_gate.clone(),
            },
            state,
            client,
            tokens: TokenCache::default(),
            admission: admission::Admission::new(cfg.max_in_flight_per_endpoint),
            leases: Arc::default(),
            targets: Targets::default(),
            slots: Arc::new(Semaphore::new(cfg.max_in_flight)),
            taking: std::sync::atomic::AtomicBool::new(false),
            handed: Default::default(),
            cfg,
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

    /// Leases held by live work on this node (deliveries in flight or in open batches).
    pub fn leases_held(&self) -> usize {
        self.leases.held()
    }

    /// Runs until `stop` turns true, then drains in-flight attempts (up to the drain time)
    /// and hands back anything unfinished.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        tracing::info!(
            node = self.node(),
            max_in_flight = self.cfg.max_in_flight,
            per_endpoint = self.cfg.max_in_flight_per_endpoint,
            "delivery engine started"
        );
        let slots = self.slots.clone();
        let mut tasks = JoinSet::new();
        let heartbeat = tokio::spawn(leases::heartbeat(
            self.store.clone(),
            self.leases.clone(),
            self.cfg.lease,
            self.state.shared.outbox.clone(),
        ));
        let listener = match &self.state.db {
            app::backend::Db::Postgres(pool) => Some(tokio::spawn(listen_for_outbox(
                pool.clone(),
                self.state.shared.outbox.clone(),
            ))),
            app::backend::Db::Sqlite(_) => None,
        };
        self.running
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let engine: Arc<dyn app::backend::events::handoff::Handoff> = self.clone();
        self.state.shared.handoff.set(Arc::downgrade(&engine));
        drop(engine);
        self.taking
            .store(true, std::sync::atomic::Ordering::Release);
        loop {
            if *stop.borrow() {
                break;
            }
            let mut claimed = 0;
            if slots.available_permits() > 0 {
                match self.claim_round(&slots, &mut tasks, &stop).await {
                    Ok(n) => claimed = n,
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming deliveries failed; retrying shortly");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
            while let Some(done) = tasks.try_join_next() {
                log_task_end(done);
            }
            if claimed > 0 && slots.available_permits() > 0 {
                continue;
            }
            let mut wait = if slots.available_permits() == 0 {
                self.cfg.idle_poll
            } else {
                match self.store.next_due().await {
                    Ok(Some(at)) if at > now_ms() => {
                        Duration::from_millis((at - now_ms()) as u64).min(self.cfg.idle_poll)
                    }
                    _ => self.cfg.idle_poll,
                }
            };
            if let Some(unblock) = self.admission.next_unblock() {
                wait = wait.min(unblock);
            }
            tokio::select! {
                _ = self.state.shared.outbox.notified() => {}
                _ = stop.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => log_task_end(done),
            }
        }
        self.taking
            .store(false, std::sync::atomic::Ordering::Release);
        tracing::info!(
            in_flight = self.cfg.max_in_flight - slots.available_permits(),
            "delivery engine stopping: no new claims; draining"
        );
        let drained = tokio::time::timeout(self.cfg.drain, async {
            while let Some(done) = tasks.join_next().await {
                log_task_end(done);
            }
            // Handed over by publishes (one that committed while this drains lands in a
            // fresh set, hence the loop). Dropped by the timeout, a set aborts its tasks.
            loop {
                let mut handed =
                    std::mem::take(&mut *self.handed.lock().unwrap_or_else(|p| p.into_inner()));
                if handed.is_empty() {
                    break;
                }
                while let Some(done) = handed.join_next().await {
                    log_task_end(done);
                }
            }
        })
        .await;
        if drained.is_err() {
            self.handed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .abort_all();
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

    /// One claim round: each limited endpoint that has due work and budget, then the open
    /// endpoints in one statement. Every claimed delivery is started (or gathered into
    /// its batch) at once; nothing claimed waits for its endpoint.
    async fn claim_round(
        self: &Arc<Self>,
        slots: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<usize> {
        let limit = slots.available_permits().min(CLAIM_ROUND);
        // The catalog reloads when any endpoint changes (catalog_version), on every node.
        let catalog = self
            .state
            .catalog()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let targets = self.targets.of(&catalog);
        let round = self.admission.plan(&targets, limit);
        let token = format!("lt_{}", app::backend::ids::random_hex(12));
        let lease_ms = self.cfg.lease.as_millis() as i64;
        // Test-fires first (someone waits for each), then limited endpoints: their budgets
        // bound what they take, and a deep backlog on open endpoints must not crowd them
        // out of every round.
        let mut claimed = match self.store.claim_tests(limit, &token, lease_ms).await {
            Ok(tests) => tests,
            Err(e) => {
                tracing::warn!(error = %e, "claiming test-fires failed");
                Vec::new()
            }
        };
        claimed.extend(
            self.claim_limited_endpoints(
                &targets,
                &round.limited,
                limit.saturating_sub(claimed.len()),
                &token,
            )
            .await,
        );
        let mut holds = self.leases.hold_each(&self.store, &claimed);
        let mut open = round.open;
        open.limit = limit.saturating_sub(claimed.len());
        open.default_cap = open.default_cap.min(open.limit);
        let more = match self.store.claim_open(&open, &token, lease_ms).await {
            Ok(more) => more,
            // What the limited endpoints took is sent all the same.
            Err(e) if !claimed.is_empty() => {
                tracing::warn!(error = %e, "claiming for open endpoints failed");
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        holds.extend(self.leases.hold_each(&self.store, &more));
        claimed.extend(more);
        let n = claimed.len();
        if n == 0 {
            return Ok(0);
        }
        let mut ids: Vec<String> = claimed.iter().map(|d| d.event_id.clone()).collect();
        ids.sort();
        ids.dedup();
        // Shared, not copied, by the deliveries of one event.
        let envelopes: HashMap<String, (Arc<str>, Option<Arc<str>>)> = self
            .envelopes_while_held(&ids, stop)
            .await?
            .into_iter()
            .map(|(id, e, trace)| (id, (Arc::from(e), trace.map(Arc::from))))
            .collect();
        for (d, hold) in claimed.into_iter().zip(holds) {
            let (envelope, trace) = envelopes.get(&d.event_id).cloned().unzip();
            let target = targets.get(&d.endpoint_id).cloned();
            self.start(
                d,
                hold,
                envelope,
                trace.flatten(),
                target,
                slots,
                tasks,
                stop,
            )
            .await?;
        }
        Ok(n)
    }

    /// The claimed events' envelopes. A database that went away just after the claim is
    /// asked again (backing off to 1 s) for up to one lease while the holds keep the
    /// claims, which the heartbeat renews once it is back: the deliveries go out as soon as
    /// it answers, not a lease later. Past that, or at shutdown, the error drops the holds
    /// and the leases lapse (another claim delivers them).
    async fn envelopes_while_held(
        &self,
        ids: &[String],
        stop: &watch::Receiver<bool>,
    ) -> Result<Vec<(String, String, Option<String>)>, sqlx::Error> {
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(50);
        loop {
            match self.store.envelopes(ids).await {
                Ok(found) => return Ok(found),
                Err(e) if started.elapsed() + wait >= self.cfg.lease || *stop.borrow() => {
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading claimed events failed; asking again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// The limited endpoints' part of a round: those with due work, each claimed against
    /// its budget, at most `limit` in all. A failure ends this part (the open endpoints are
    /// still claimed).
    async fn claim_limited_endpoints(
        &self,
        targets: &target::TargetMap,
        limited: &[(String, usize)],
        limit: usize,
        token: &str,
    ) -> Vec<Claimed> {
        let mut claimed = Vec::new();
        if limited.is_empty() {
            return claimed;
        }
        let ids: Vec<&str> = limited.iter().map(|(id, _)| id.as_str()).collect();
        let with_work = match self.store.with_due_work(&ids).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "finding limited endpoints with due work failed");
                return claimed;
            }
        };
        for (id, room) in limited {
            let left = limit.saturating_sub(claimed.len());
            if left == 0 {
                break;
            }
            let Some(Ok(target)) = targets.get(id) else {
                continue;
            };
            if !with_work.contains(id) {
                continue;
            }
            match self.claim_limited(target, (*room).min(left), token).await {
                Ok(more) => claimed.extend(more),
                Err(e) => {
                    tracing::warn!(error = %e, endpoint = %id, "claiming for a limited endpoint failed");
                    break;
                }
            }
        }
        claimed
    }

    /// Claims for one limited endpoint and notes when to ask it again.
    async fn claim_limited(
        &self,
        target: &Target,
        max: usize,
        token: &str,
    ) -> Result<Vec<Claimed>, sqlx::Error> {
        let claim = LimitedClaim {
            endpoint_id: target.id(),
            rate_per_minute: target.rate_per_minute,
            concurrency: target.concurrency,
            per_request: target.per_request(),
            max,
        };
        let out = self
            .store
            .claim_limited(&claim, token, self.cfg.lease.as_millis() as i64)
            .await?;
        let now = Instant::now();
        if out.busy_elsewhere {
            self.admission
                .block_until(target.id(), now + Duration::from_millis(50));
        }
        if let Some(wait) = out.rate_wait {
            self.admission.block_until(target.id(), now + wait);
        }
        if out.concurrency_full {
            self.admission
                .block_until_finish(target.id(), now + Duration::from_secs(1));
        }
        Ok(out.claimed)
    }

    /// Starts one claimed delivery: sent by a task of its own, or gathered into its
    /// endpoint's open batch. Its lease hold and in-flight count travel with it.
    #[allow(clippy::too_many_arguments)]
    async fn start(
        self: &Arc<Self>,
        d: Claimed,
        hold: leases::Hold,
        envelope: Option<Arc<str>>,
        trace: Option<Arc<str>>,
        target: Option<Result<Arc<Target>, String>>,
        slots: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let in_flight = self.admission.start(&d.endpoint_id, 1);
        let item = Gathered {
            claimed: d,
            envelope,
            trace,
            _hold: hold,
            _in_flight: in_flight,
        };
        let plan = match &target {
            Some(Ok(t)) if !item.claimed.test_fire => t.batch,
            _ => None,
        };
        let Some(plan) = plan else {
            let permit = slots.clone().acquire_owned().await?;
            let engine = self.clone();
            tasks.spawn(async move {
                engine.deliver(item, target).await;
                drop(permit);
            });
            return Ok(());
        };
        let endpoint_id = item.claimed.endpoint_id.clone();
        match self.batcher.add(&endpoint_id, item, plan.max_events) {
            batch::Added::Full(items) => {
                let permit = slots.clone().acquire_owned().await?;
                let engine = self.clone();
                tasks.spawn(async move {
                    engine.send_batch(items, target).await;
                    drop(permit);
                });
            }
            batch::Added::Opened(generation) => {
                let (engine, slots, mut stop) = (self.clone(), slots.clone(), stop.clone());
                tasks.spawn(async move {
                    // On shutdown an open batch leaves at once, within the drain.
                    if !*stop.borrow() {
                        tokio::select! {
                            _ = tokio::time::sleep(plan.max_wait) => {}
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
                    let target = match engine.state.catalog().await {
                        Ok(c) => engine.targets.of(&c).get(&endpoint_id).cloned(),
                        Err(_) => None,
                    };
                    engine.send_batch(items, target).await;
                    drop(permit);
                });
            }
            batch::Added::Joined => {}
        }
        Ok(())
    }
}

/// A task that panicked has already handed its deliveries back (see [`leases::Hold`]).
fn log_task_end(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        tracing::error!("a delivery task panicked: {e}");
    }
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

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}
