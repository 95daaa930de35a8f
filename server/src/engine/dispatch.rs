//! One request, single or batch: shape the body, sign it, send it through the guarded
//! client, judge the answer, and record the attempt with the deliveries' next state. The
//! outcome write is retried with backoff; if it keeps failing the work lets go of its
//! leases, which lapse, and another claim makes the delivery again (at-least-once).

use super::admission::InFlight;
use super::leases::Hold;
use super::outbound::http::{Failure, read_capped};
use super::outcome::{self, ErrorClass, Verdict};
use super::request::outgoing::{Outgoing, Prepared, batches, parse_envelope, shape, single};
use super::request::{self, signing};
use super::store::{AttemptRecord, Claimed, EngineStore, Finished, NextState, Tripped};
use super::target::Target;
use super::{Engine, MAX_LOGGED_BODY};

/// The attempt-log error class of a failure the endpoint's response rules decided.
const RESPONSE_RULE: &str = "response_rule";
use app::backend::faults::Faults;
use app::backend::metrics::labels::Outcome;
use app::backend::now_ms;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// A claimed delivery on its way: its event's envelope, and the guards that keep its lease
/// renewed and count it against its endpoint's share until it is done with.
pub struct Gathered {
    pub claimed: Claimed,
    pub envelope: Option<Arc<str>>,
    /// Its event's stored `traceparent` (see `app::backend::trace`).
    pub trace: Option<Arc<str>>,
    pub _hold: Hold,
    pub _in_flight: InFlight,
}

pub type FinishJob = (
    Finished,
    tokio::sync::oneshot::Sender<Result<(usize, Option<Tripped>), String>>,
);

/// Most finished requests written in one transaction.
const FINISH_GROUP: usize = 256;

/// Waits before each try of an outcome write: at once, then backing off.
const OUTCOME_WRITE_BACKOFF: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(4),
];

/// Writes whatever finished requests are waiting, together. If the transaction fails, each
/// of them hears so (and tries again on its own schedule).
async fn finisher(
    store: EngineStore,
    breaker: super::store::Breaker,
    faults: Arc<Faults>,
    mut queue: tokio::sync::mpsc::Receiver<FinishJob>,
) {
    let mut jobs = Vec::with_capacity(FINISH_GROUP);
    while queue.recv_many(&mut jobs, FINISH_GROUP).await > 0 {
        let (done, replies): (Vec<Finished>, Vec<_>) = jobs.drain(..).unzip();
        let result = if Faults::take(&faults.fail_outcome_writes) {
            Err("fault injected: the outcome write failed".to_string())
        } else {
            store
                .finish(&done, breaker)
                .await
                .map_err(|e| e.to_string())
        };
        match result {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

impl Engine {
    pub(super) async fn deliver(
        &self,
        mut item: Gathered,
        target: Option<Result<Arc<Target>, String>>,
    ) {
        if Faults::take(&self.state.shared.faults.panic_deliveries) {
            panic!("fault injected: a delivery task panics");
        }
        let d = item.claimed.clone();
        let target = match target {
            None if d.test_fire => self.stored_target(&d.endpoint_id).await,
            other => other,
        };
        let target = match target {
            Some(Ok(t)) => t,
            Some(Err(why)) => return self.fail_unusable(&[d], why).await,
            None => {
                // Disabled or deleted since the claim: hand it back untouched.
                let _ = self
                    .store
                    .release_one(&d, "the endpoint was disabled or deleted")
                    .await;
                return;
            }
        };
        // The stored text is let go once parsed: a large payload is held once while it is sent.
        let outgoing = parse_envelope(item.envelope.take().as_deref()).and_then(|envelope| {
            single(
                &d.event_id,
                envelope,
                &target,
                self.state.limits.max_rendered_bytes,
            )
            .map(|o| Outgoing {
                trace: item.trace.clone(),
                ..o
            })
        });
        // A test-fire's failure is its answer, not retried.
        let retries = !d.test_fire;
        let ds = [d];
        let (record, next) = self
            .attempt_and_judge(&ds, outgoing, &target, retries)
            .await;
        self.finish(&ds, &record, &next).await;
        drop(item);
    }

    /// A test-fire's endpoint when the routing catalog lacks it (it is disabled): it is
    /// tested all the same. `None` once it is deleted.
    async fn stored_target(&self, endpoint_id: &str) -> Option<Result<Arc<Target>, String>> {
        match self.state.endpoints.stored(endpoint_id).await {
            Ok(e) => Some(Target::build(&e).map(Arc::new)),
            Err(app::error::AppError::NotFound(_)) => None,
            Err(e) => Some(Err(e.to_string())),
        }
    }

    /// An endpoint whose stored settings no longer parse: a failed attempt that says why,
    /// retried on the default schedule (saving the endpoint again repairs it).
    async fn fail_unusable(&self, ds: &[Claimed], why: String) {
        let record = AttemptRecord {
            started_at: now_ms(),
            error_class: Some(ErrorClass::Request.as_str()),
            error: Some(why),
            ..Default::default()
        };
        let attempts = ds.iter().map(|d| d.attempts).max().unwrap_or(0) as usize + 1;
        let next = if ds.iter().any(|d| d.test_fire) {
            NextState::Dead(format!(
                "the endpoint's stored settings cannot be used ({}); save it again",
                record.error.as_deref().unwrap_or_default()
            ))
        } else {
            retry_or_give_up(&outcome::DEFAULT_SCHEDULE, attempts, false, None, &record)
        };
        self.finish(ds, &record, &next).await;
    }

    /// Sends gathered deliveries as one request. One that cannot be shaped (its envelope
    /// is missing or the template fails on it) fails on its own and does not hold back
    /// the others.
    pub(super) async fn send_batch(
        &self,
        mut items: Vec<Gathered>,
        target: Option<Result<Arc<Target>, String>>,
    ) {
        let target = match target {
            Some(Ok(t)) => t,
            Some(Err(why)) => {
                let ds: Vec<Claimed> = items.iter().map(|i| i.claimed.clone()).collect();
                return self.fail_unusable(&ds, why).await;
            }
            None => {
                for item in &items {
                    let _ = self
                        .store
                        .release_one(&item.claimed, "the endpoint was disabled or deleted")
                        .await;
                }
                return;
            }
        };
        let mut ds = Vec::with_capacity(items.len());
        let mut shaped = Vec::with_capacity(items.len());
        let traces: std::collections::HashMap<String, Arc<str>> = items
            .iter()
            .filter_map(|i| Some((i.claimed.id.clone(), i.trace.clone()?)))
            .collect();
        for item in &mut items {
            let one = parse_envelope(item.envelope.take().as_deref())
                .and_then(|e| shape(&target, e, self.state.limits.max_rendered_bytes));
            match one {
                Ok(v) => {
                    ds.push(item.claimed.clone());
                    shaped.push(v);
                }
                Err(failed) => {
                    let lone = [item.claimed.clone()];
                    let (record, next) = self
                        .attempt_and_judge(&lone, Err(failed), &target, true)
                        .await;
                    self.finish(&lone, &record, &next).await;
                }
            }
        }
        // A batch leaves as several requests when its events together pass the byte cap.
        for (ds, outgoing) in batches(ds, shaped, &target, self.cfg.max_batch_bytes) {
            // A batch request is a child of its first event's publish.
            let outgoing = outgoing.map(|o| Outgoing {
                trace: traces.get(&ds[0].id).cloned(),
                ..o
            });
            let (record, next) = self.attempt_and_judge(&ds, outgoing, &target, true).await;
            self.finish(&ds, &record, &next).await;
        }
        drop(items);
    }

    /// Records one request's outcome for every delivery it carried (group-committed with
    /// whatever else finished meanwhile), trying again with backoff when the write fails.
    pub(super) async fn finish(&self, ds: &[Claimed], record: &AttemptRecord, next: &NextState) {
        let outcome = match next {
            NextState::Succeeded => Outcome::Succeeded,
            NextState::RetryAt(_) => Outcome::Retry,
            NextState::Dead(_) => Outcome::Dead,
        };
        self.state
            .shared
            .metrics
            .deliveries_decided(outcome, ds.len() as u64);
        let writer = self.finisher.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * FINISH_GROUP);
            tokio::spawn(finisher(
                self.store.clone(),
                self.cfg.breaker,
                self.state.shared.faults.clone(),
                rx,
            ));
            tx
        });
        let mut last_error = String::new();
        for wait in OUTCOME_WRITE_BACKOFF {
            tokio::time::sleep(wait).await;
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
                        tracing::warn!(lost, first = %ds[0].id, "lease lost before the attempt was recorded; another claim holds it now");
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
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, delivery = %ds[0].id, "recording an attempt failed; trying again");
                    last_error = e;
                }
            }
        }
        tracing::error!(error = %last_error, delivery = %ds[0].id, "recording an attempt kept failing; letting its lease lapse so another claim delivers it again");
    }

    /// Makes one attempt and decides what comes next. Without `retries`, a failure is
    /// final (test-fire).
    pub(super) async fn attempt_and_judge(
        &self,
        ds: &[Claimed],
        outgoing: Prepared,
        target: &Target,
        retries: bool,
    ) -> (AttemptRecord, NextState) {
        let started = now_ms();
        let clock = Instant::now();
        let mut record = AttemptRecord {
            started_at: started,
            url: target.endpoint.settings.url.clone(),
            ..Default::default()
        };
        let result = match outgoing {
            Ok(o) => {
                let span = tracing::info_span!(
                    "attempt",
                    otel.name = "webhook attempt",
                    otel.kind = "client",
                    otel.status_code = tracing::field::Empty,
                    http.response.status_code = tracing::field::Empty,
                    error.type = tracing::field::Empty,
                    endpoint = %target.id(),
                    delivery = %ds[0].id,
                    deliveries = ds.len(),
                    attempt = ds.iter().map(|d| d.attempts).max().unwrap_or(0) + 1,
                );
                app::backend::trace::continue_from(&span, o.trace.as_deref());
                let traceparent = app::backend::trace::traceparent(&span);
                let in_flight = &self.state.shared.metrics.in_flight;
                in_flight.inc();
                let r = self
                    .attempt(o, target, &mut record, traceparent)
                    .instrument(span.clone())
                    .await;
                in_flight.dec();
                match &r {
                    Ok((status, _)) => {
                        span.record("http.response.status_code", status);
                        if !(200..300).contains(status) {
                            span.record("otel.status_code", "ERROR");
                        }
                    }
                    Err((class, _)) => {
                        span.record("error.type", class.as_str());
                        span.record("otel.status_code", "ERROR");
                    }
                }
                r
            }
            Err(e) => Err(e),
        };
        let took = clock.elapsed();
        record.duration_ms = took.as_millis() as i64;
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
        let endpoint_id = target.id();
        // The endpoint's response rules first; where none applies, the defaults.
        use app::backend::endpoints::response_rules::{Decision, decide};
        let verdict = match decide(
            target.endpoint.settings.response_rules.as_ref(),
            status,
            record.response_body.as_deref(),
        ) {
            Decision::Default => outcome::judge(status, class),
            Decision::Delivered { by } => {
                record.error_class = None;
                record.error = None;
                record.decided_by = by;
                Verdict::Delivered
            }
            Decision::Failed { by, retry } => {
                record.error_class = Some(RESPONSE_RULE);
                record.error = Some(format!(
                    "{}: response rule {by}",
                    status.map(|s| format!("HTTP {s}")).unwrap_or_default()
                ));
                record.decided_by = Some(by);
                if retry {
                    Verdict::Retry { harder: false }
                } else {
                    Verdict::NoRetry
                }
            }
        };
        let next = match verdict {
            Verdict::NoRetry => NextState::Dead(format!(
                "not retried: {}",
                record.error.clone().unwrap_or_default()
            )),
            Verdict::Delivered => NextState::Succeeded,
            Verdict::Gone => {
                let reason = "the receiver answered 410 Gone".to_string();
                if let Err(e) = self.store.disable_endpoint(endpoint_id, &reason).await {
                    tracing::warn!(error = %e, endpoint = %endpoint_id, "disabling an endpoint after 410 failed");
                }
                tracing::warn!(endpoint = %endpoint_id, "endpoint disabled: 410 Gone");
                self.announce_disabled(endpoint_id, &reason, before + 1, None)
                    .await;
                NextState::Dead(format!("{reason}; the endpoint was disabled"))
            }
            Verdict::Retry { .. } if !retries => NextState::Dead(format!(
                "test-fire (not retried): {}",
                record.error.clone().unwrap_or_default()
            )),
            Verdict::Retry { harder } => retry_or_give_up(
                &target.schedule,
                attempts_made,
                harder,
                retry_after,
                &record,
            ),
        };
        self.observe(ds, target, took, &next);
        (record, next)
    }

    /// The attempt's duration, and for each delivery it delivered (test-fires aside) the
    /// time since its event was accepted (the event id's timestamp).
    fn observe(&self, ds: &[Claimed], target: &Target, took: Duration, next: &NextState) {
        let now = now_ms();
        let delivered = ds
            .iter()
            .filter(|_| matches!(next, NextState::Succeeded))
            .filter(|d| !d.test_fire)
            .filter_map(|d| app::backend::ids::time_of(&d.event_id))
            .map(|accepted| Duration::from_millis(now.saturating_sub(accepted).max(0) as u64));
        self.state.shared.metrics.attempt_made(
            target.id(),
            target.endpoint.settings.tenant.as_deref(),
            took,
            delivered,
        );
    }

    /// Announces a disabled endpoint (`hookline.endpoint.disabled`), from the one place
    /// Hookline's own events come from.
    pub(super) async fn announce_disabled(
        &self,
        endpoint_id: &str,
        reason: &str,
        failures: i64,
        since: Option<i64>,
    ) {
        let event = app::backend::events::Operational::EndpointDisabled {
            endpoint_id: endpoint_id.to_owned(),
            reason: reason.to_owned(),
            consecutive_failures: failures,
            failing_since: since,
        };
        self.state.events.announce(event).await;
    }

    /// One HTTP attempt: `Ok((status, retry_after))` when the receiver answered.
    async fn attempt(
        &self,
        o: Outgoing,
        target: &Target,
        record: &mut AttemptRecord,
        traceparent: Option<String>,
    ) -> Result<(u16, Option<Duration>), Failure> {
        let endpoint = &target.endpoint;
        let body = o.body;
        record.request_body = logged(&body);
        record.request_body_masked = o.masked_body.as_deref().map(logged);
        record.masked_for = (!o.masked_for.is_empty())
            .then(|| serde_json::to_string(&o.masked_for).unwrap_or_default());
        let secrets = endpoint.signing_secrets(now_ms());
        let timestamp = now_ms() / 1000;
        let signature = signing::signature_header(
            &secrets,
            endpoint.settings.signature_scheme,
            &o.msg_id,
            timestamp,
            &body,
        )
        .map_err(|e| (ErrorClass::Request, e))?;
        let request = self.client.post_to(
            &endpoint.settings.url,
            target.timeout,
            endpoint.settings.https_only,
            endpoint.settings.tls.as_ref(),
        )?;
        let (mut headers, mut shown) = request::headers(
            &self.client,
            &self.tokens,
            endpoint,
            o.content_type,
            &o.msg_id,
            timestamp,
            &signature,
        )
        .await?;
        if let Some(n) = o.batch_size {
            headers.insert("hookline-batch-size", n.into());
            shown.push(("hookline-batch-size".into(), n.to_string()));
        }
        if let Some(tp) = traceparent
            && let Ok(v) = reqwest::header::HeaderValue::from_str(&tp)
        {
            headers.insert("traceparent", v);
            shown.push(("traceparent".into(), tp));
        }
        record.request_headers = serde_json::to_string(&shown).unwrap_or_default();
        let response = self
            .client
            .send(request.headers(headers).body(body))
            .await?;
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
                    app::types::endpoints::shown_header_value(
                        k.as_str(),
                        &String::from_utf8_lossy(v.as_bytes()),
                    ),
                )
            })
            .collect();
        record.response_status = Some(status as i64);
        record.response_headers = Some(serde_json::to_string(&headers).unwrap_or_default());
        let (body, _cut) = read_capped(response, MAX_LOGGED_BODY, target.timeout).await;
        record.response_body = Some(String::from_utf8_lossy(&body).into_owned());
        Ok((status, retry_after))
    }
}

/// After `attempts_made` attempts: the next one on `schedule` (with jitter), or dead once
/// the schedule is used up.
fn retry_or_give_up(
    schedule: &[Duration],
    attempts_made: usize,
    harder: bool,
    retry_after: Option<Duration>,
    record: &AttemptRecord,
) -> NextState {
    let jitter = rand::thread_rng().gen_range(-1.0..=1.0);
    match outcome::next_delay(schedule, attempts_made, harder, retry_after, jitter) {
        Some(delay) => NextState::RetryAt(now_ms() + delay.as_millis() as i64),
        None => NextState::Dead(format!(
            "gave up after {attempts_made} attempts; last: {}",
            record.error.clone().unwrap_or_default()
        )),
    }
}

/// A request body as the attempt log keeps it: at most [`MAX_LOGGED_BODY`], as text.
fn logged(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(MAX_LOGGED_BODY)]).into_owned()
}
