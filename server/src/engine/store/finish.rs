//! Recording attempts: each finished request's attempt log rows and its deliveries' new
//! state, in one transaction for everything that finished meanwhile (group commit), with the
//! circuit breaker counted in the same transaction. A delivery moves on only while the claim
//! that sent it still holds it (its token), so a stale task cannot complete a newer claim.

use super::{Claimed, EngineStore};
use app::backend::endpoints::health::{self, HealthStep};
use app::backend::now_ms;
use app::with_db;

/// What happened to one attempt, as stored in the attempt log.
#[derive(Debug, Clone, Default)]
pub struct AttemptRecord {
    pub started_at: i64,
    pub duration_ms: i64,
    pub url: String,
    pub request_headers: String,
    pub request_body: String,
    /// `request_body` with sensitive values masked (see [`super::super::outgoing`]).
    pub request_body_masked: Option<String>,
    pub masked_for: Option<String>,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_class: Option<&'static str>,
    pub error: Option<String>,
    /// The endpoint's response rule that decided this attempt, when one did.
    pub decided_by: Option<String>,
}

/// When an endpoint's continuous failures trip the circuit breaker.
#[derive(Debug, Clone, Copy)]
pub struct Breaker {
    /// Consecutive failed attempts (0 turns the breaker off).
    pub failures: i64,
    /// ...spanning at least this long.
    pub window_ms: i64,
}

/// The endpoint was disabled by the breaker in this transaction.
#[derive(Debug, Clone)]
pub struct Tripped {
    pub failures: i64,
    pub since: i64,
    pub reason: String,
}

/// The delivery's state after an attempt.
#[derive(Debug, Clone)]
pub enum NextState {
    Succeeded,
    RetryAt(i64),
    Dead(String),
}

/// One finished request: the deliveries it carried, its attempt, and what comes next.
#[derive(Debug, Clone)]
pub struct Finished {
    pub deliveries: Vec<Claimed>,
    pub attempt: AttemptRecord,
    pub next: NextState,
}

/// Rows per multi-row statement (17 parameters each stays far below both databases' limits).
const ROWS_PER_STATEMENT: usize = 256;

/// One delivery's new state, as bound into the group write.
struct Row<'a> {
    delivery: &'a Claimed,
    attempt: &'a AttemptRecord,
    number: i64,
    status: &'static str,
    next_at: Option<i64>,
    completed: Option<i64>,
    error: Option<String>,
}

impl<'a> Row<'a> {
    fn new(delivery: &'a Claimed, f: &'a Finished, now: i64) -> Row<'a> {
        let (status, next_at, completed, error) = match &f.next {
            NextState::Succeeded => ("succeeded", None, Some(now), f.attempt.error.clone()),
            NextState::RetryAt(at) => ("failed", Some(*at), None, f.attempt.error.clone()),
            NextState::Dead(why) => ("dead", None, Some(now), Some(why.clone())),
        };
        Row {
            delivery,
            attempt: &f.attempt,
            number: delivery.attempts + 1,
            status,
            next_at,
            completed,
            error,
        }
    }
}

impl EngineStore {
    /// Stores finished requests' attempts and moves the deliveries they carried on, all in
    /// one transaction with a handful of statements however many there are (the engine
    /// gathers whatever finished meanwhile: group commit). For each request, answers how
    /// many of its leases had been lost (their attempt is still logged; their state is left
    /// alone), and whether the breaker disabled the endpoint. A request counts once for the
    /// breaker, however many deliveries it carried.
    pub async fn finish(
        &self,
        done: &[Finished],
        breaker: Breaker,
    ) -> Result<Vec<(usize, Option<Tripped>)>, sqlx::Error> {
        let now = now_ms();
        let rows: Vec<Row> = done
            .iter()
            .flat_map(|f| f.deliveries.iter().map(move |d| Row::new(d, f, now)))
            .collect();
        // Per endpoint, in order: where the failure count ends up.
        let mut endpoints: Vec<(String, HealthStep)> = Vec::new();
        for f in done {
            let Some(first) = f.deliveries.first() else {
                continue;
            };
            let ok = matches!(f.next, NextState::Succeeded);
            match endpoints
                .iter_mut()
                .find(|(id, _)| *id == first.endpoint_id)
            {
                Some((_, step)) => step.push(ok),
                None => {
                    let mut step = HealthStep::default();
                    step.push(ok);
                    endpoints.push((first.endpoint_id.clone(), step));
                }
            }
        }
        let turn = self.turn().await?;
        let (moved, tripped) = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin().await?;
                // QueryBuilder numbers the parameters the way each database wants (SQLite's
                // anonymous `?` binds in linear time; named ones do not).
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO attempts (id, delivery_id, attempt, node, started_at, duration_ms, url, \
                         request_headers, request_body, request_body_masked, masked_for, response_status, \
                         response_headers, response_body, error_class, error, decided_by) ",
                    );
                    q.push_values(chunk, |mut b, r| {
                        let a = r.attempt;
                        b.push_bind(app::backend::ids::new_id("att"))
                            .push_bind(&r.delivery.id)
                            .push_bind(r.number)
                            .push_bind(&self.node)
                            .push_bind(a.started_at)
                            .push_bind(a.duration_ms)
                            .push_bind(&a.url)
                            .push_bind(&a.request_headers)
                            .push_bind(&a.request_body)
                            .push_bind(&a.request_body_masked)
                            .push_bind(&a.masked_for)
                            .push_bind(a.response_status)
                            .push_bind(&a.response_headers)
                            .push_bind(&a.response_body)
                            .push_bind(a.error_class)
                            .push_bind(&a.error)
                            .push_bind(&a.decided_by);
                    });
                    q.build().persistent(false).execute(&mut *tx).await?;
                }
                let mut moved: std::collections::HashSet<String> = std::collections::HashSet::new();
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut q = sqlx::QueryBuilder::new(
                        "UPDATE deliveries SET status = v.column2, attempts = v.column3, next_attempt_at = v.column4, \
                         lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, last_status_code = v.column5, \
                         last_error = v.column6, completed_at = v.column7, last_duration_ms = v.column8, updated_at = ",
                    );
                    q.push_bind(now);
                    q.push(" FROM (");
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(&r.delivery.id)
                            .push_bind(r.status)
                            .push_bind(r.number)
                            .push_bind(r.next_at)
                            .push_bind(r.attempt.response_status)
                            .push_bind(&r.error)
                            .push_bind(r.completed)
                            .push_bind(r.attempt.duration_ms)
                            .push_bind(&r.delivery.lease_token);
                    });
                    q.push(
                        ") AS v WHERE deliveries.id = v.column1 AND deliveries.lease_token = v.column9 \
                         AND deliveries.status = 'in_flight' RETURNING deliveries.id",
                    );
                    let ids: Vec<String> = q
                        .build_query_scalar()
                        .persistent(false)
                        .fetch_all(&mut *tx)
                        .await?;
                    moved.extend(ids);
                }
                // The circuit breaker, counted in the same transaction as the attempts.
                let mut tripped: Vec<(String, Tripped)> = Vec::new();
                for (endpoint, step) in &endpoints {
                    // Always written: the endpoint's health shows its last success and failure.
                    let row = health::record_health_in(&mut tx, endpoint, step, now).await?;
                    let Some((failures, since)) = row else { continue };
                    let since = since.unwrap_or(now);
                    if step.failures > 0
                        && breaker.failures > 0
                        && failures >= breaker.failures
                        && now - since >= breaker.window_ms
                    {
                        let reason = format!(
                            "circuit breaker: {failures} consecutive failures since {}",
                            app::time_fmt::Timestamp(since).rfc3339()
                        );
                        if app::backend::endpoints::disable_in(&mut tx, endpoint, &reason, now).await? {
                            tripped.push((endpoint.clone(), Tripped { failures, since, reason }));
                        }
                    }
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>((moved, tripped))
            }
            .await
        })?;
        drop(turn);
        // Each endpoint's trip is reported once, to the request that tripped it last.
        let mut answers: Vec<(usize, Option<Tripped>)> = done
            .iter()
            .map(|f| {
                let lost = f
                    .deliveries
                    .iter()
                    .filter(|d| !moved.contains(&d.id))
                    .count();
                (lost, None)
            })
            .collect();
        for (endpoint, t) in tripped {
            if let Some(i) = done.iter().rposition(|f| {
                f.deliveries
                    .first()
                    .is_some_and(|d| d.endpoint_id == endpoint)
            }) {
                answers[i].1 = Some(t);
            }
        }
        Ok(answers)
    }

    /// `410 Gone`: the receiver asked us to stop. Disables the endpoint (visible, reversible).
    pub async fn disable_endpoint(
        &self,
        endpoint_id: &str,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let _turn = self.turn().await?;
        with_db!(&self.db, |pool| async {
            let mut tx = pool.begin().await?;
            app::backend::endpoints::disable_in(&mut tx, endpoint_id, reason, now).await?;
            tx.commit().await
        }
        .await)
    }
}
