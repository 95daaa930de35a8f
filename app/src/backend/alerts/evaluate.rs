//! One round of alert evaluation: each rule's value per subject, from the same tables the
//! dashboard reads, then a transition where the condition changed. A transition is a
//! conditional UPDATE of the subject's state row (`firing` flips only if it still has the
//! old value), so on several nodes exactly one wins it and announces it; a condition that
//! keeps holding changes nothing and announces nothing. The same UPDATE stores the
//! announcement, and publishing it clears it: a node that dies in between leaves it there,
//! and the next round on any node publishes it (under one idempotency key per change, so
//! it is published once however many nodes try).

use super::{AlertRules, RuleRow};
use crate::backend::deliveries::by_index::{DEAD, OPEN};
use crate::backend::events::Operational;
use crate::backend::{AppState, Db};
use crate::error::{AppError, AppResult};
use crate::types::alerts::AlertKind;
use crate::with_db;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Fewer attempts than this in the window say nothing about a failure rate.
pub const MIN_ATTEMPTS_FOR_RATE: i64 = 5;
/// The subject of a rule on the whole queue.
pub const QUEUE: &str = "*";

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub fired: usize,
    pub resolved: usize,
    /// Announcements an earlier round changed the state for but did not publish (its node
    /// stopped in between, or the database refused the event), published by this one.
    pub recovered: usize,
}

/// An announcement as its state row keeps it until it is published.
#[derive(Debug, Serialize, Deserialize)]
struct Announcement {
    fired: bool,
    data: serde_json::Value,
}

/// Values per subject for one rule; `None`: no data (the state is left as it is).
type Values = HashMap<String, Option<i64>>;

async fn per_endpoint(db: &Db, sql: &str, since: Option<i64>) -> AppResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = with_db!(db, |pool| {
        let q = sqlx::query_as(sql);
        match since {
            Some(s) => q.bind(s).fetch_all(pool).await,
            None => q.fetch_all(pool).await,
        }
    })?;
    Ok(rows.into_iter().collect())
}

async fn values(db: &Db, rule: &RuleRow, kind: AlertKind, now: i64) -> AppResult<Values> {
    let since = now - rule.window_secs * 1000;
    let found: Values = match kind {
        AlertKind::ConsecutiveFailures | AlertKind::CircuitWarning => per_endpoint(
            db,
            "SELECT id, consecutive_failures FROM endpoints WHERE deleted_at IS NULL",
            None,
        )
        .await?
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect(),
        AlertKind::FailureRate => {
            let rows: Vec<(String, i64, i64)> = with_db!(db, |pool| sqlx::query_as(
                "SELECT d.endpoint_id, COUNT(*), \
                 SUM(CASE WHEN a.error_class IS NULL AND a.response_status IS NOT NULL THEN 0 ELSE 1 END) \
                 FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.started_at >= $1 GROUP BY d.endpoint_id"
            )
            .bind(since)
            .fetch_all(pool)
            .await)?;
            rows.into_iter()
                .map(|(ep, total, failed)| {
                    let rate = (total >= MIN_ATTEMPTS_FOR_RATE).then(|| failed * 100 / total);
                    (ep, rate)
                })
                .collect()
        }
        AlertKind::Lag => per_endpoint(
            db,
            &format!("SELECT endpoint_id, MIN(created_at) FROM deliveries WHERE {OPEN} GROUP BY endpoint_id"),
            None,
        )
        .await?
        .into_iter()
        .map(|(k, oldest)| (k, Some((now - oldest).max(0) / 1000)))
        .collect(),
        AlertKind::DeadLetters => per_endpoint(
            db,
            &format!(
                "SELECT endpoint_id, COUNT(*) FROM deliveries WHERE {DEAD} AND updated_at >= $1 GROUP BY endpoint_id"
            ),
            Some(since),
        )
        .await?
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect(),
        AlertKind::QueueDepth => {
            let n: i64 = with_db!(db, |pool| sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM deliveries WHERE {OPEN}"
            ))
            .fetch_one(pool)
            .await)?;
            return Ok(HashMap::from([(QUEUE.to_owned(), Some(n))]));
        }
    };
    Ok(match &rule.endpoint_id {
        Some(one) => HashMap::from([(one.clone(), found.get(one).copied().unwrap_or(Some(0)))]),
        None => found,
    })
}

/// Says what the value means, for the alert's `text` (Slack, Teams and the dashboard).
fn describe(kind: AlertKind, who: &str, value: i64, threshold: i64, window_secs: i64) -> String {
    let window = crate::duration::format_secs(window_secs);
    match kind {
        AlertKind::FailureRate => format!(
            "{who} failed {value}% of its attempts in the last {window} (threshold {threshold}%)."
        ),
        AlertKind::ConsecutiveFailures => {
            format!("{who} has failed {value} times in a row (threshold {threshold}).")
        }
        AlertKind::Lag => {
            format!("{who}'s oldest waiting delivery is {value} s old (threshold {threshold} s).")
        }
        AlertKind::DeadLetters => {
            format!("{who} had {value} dead letters in the last {window} (threshold {threshold}).")
        }
        AlertKind::CircuitWarning => format!(
            "{who} has failed {value} times in a row; the circuit breaker will disable it soon (warning at {threshold})."
        ),
        AlertKind::QueueDepth => {
            format!("{value} deliveries are waiting or retrying (threshold {threshold}).")
        }
    }
}

/// Flips `firing` for one subject if it still has the other value; true when this call
/// made the change (so this node announces it).
async fn transition(
    db: &Db,
    rule: &str,
    subject: &str,
    firing: bool,
    value: i64,
    now: i64,
    announcement: &str,
) -> AppResult<bool> {
    let (to, from) = if firing {
        ("TRUE", "FALSE")
    } else {
        ("FALSE", "TRUE")
    };
    let sql = format!(
        "UPDATE alert_states SET firing = {to}, value = $1, changed_at = $2, announcement = $5 \
         WHERE rule_id = $3 AND subject = $4 AND firing = {from}"
    );
    let changed = with_db!(db, |pool| {
        if firing {
            sqlx::query(
                "INSERT INTO alert_states (rule_id, subject, firing, value, changed_at) VALUES ($1, $2, FALSE, 0, $3) \
                 ON CONFLICT (rule_id, subject) DO NOTHING",
            )
            .bind(rule)
            .bind(subject)
            .bind(now)
            .execute(pool)
            .await?;
        }
        sqlx::query(&sql)
            .bind(value)
            .bind(now)
            .bind(rule)
            .bind(subject)
            .bind(announcement)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(changed == 1)
}

impl AlertRules {
    /// Evaluates every rule once at `now`; `breaker_failures` is the circuit breaker's
    /// limit (a `circuit_warning` without a threshold warns at 80% of it).
    pub async fn evaluate(
        &self,
        state: &AppState,
        breaker_failures: i64,
        now: i64,
    ) -> AppResult<Round> {
        let mut round = Round {
            recovered: self.publish_waiting(state).await?,
            ..Round::default()
        };
        let rules = self.rows().await?;
        if rules.is_empty() {
            return Ok(round);
        }
        let names: HashMap<String, String> =
            with_db!(&self.db, |pool| sqlx::query_as::<_, (String, String)>(
                "SELECT id, name FROM endpoints"
            )
            .fetch_all(pool)
            .await)?
            .into_iter()
            .collect();
        for rule in rules {
            let kind = rule.kind()?;
            let threshold = match (kind, rule.threshold) {
                (AlertKind::CircuitWarning, 0) => (breaker_failures * 8 / 10).max(1),
                (_, t) => t,
            };
            let mut values = values(&self.db, &rule, kind, now).await?;
            let firing: Vec<String> = with_db!(&self.db, |pool| sqlx::query_scalar(
                "SELECT subject FROM alert_states WHERE rule_id = $1 AND firing"
            )
            .bind(&rule.id)
            .fetch_all(pool)
            .await)?;
            for subject in &firing {
                // Gone from the readings (no waiting deliveries, no recent dead letters): 0,
                // except a failure rate, which needs data to say anything.
                values.entry(subject.clone()).or_insert(match kind {
                    AlertKind::FailureRate => None,
                    _ => Some(0),
                });
            }
            for (subject, value) in values {
                let Some(value) = value else { continue };
                let holds = value >= threshold;
                if holds == firing.contains(&subject) {
                    continue;
                }
                let who = names
                    .get(&subject)
                    .cloned()
                    .unwrap_or_else(|| subject.clone());
                let text = format!(
                    "{}: {}. {}",
                    if holds { "Alert" } else { "Resolved" },
                    rule.name,
                    describe(kind, &who, value, threshold, rule.window_secs)
                );
                let endpoint = (subject != QUEUE).then(|| subject.clone());
                let announcement = Announcement {
                    fired: holds,
                    data: serde_json::json!({
                        "rule_id": rule.id,
                        "rule": rule.name,
                        "kind": kind.as_str(),
                        "subject": subject,
                        "endpoint_id": endpoint,
                        "endpoint_name": endpoint.as_ref().and_then(|e| names.get(e)),
                        "value": value,
                        "threshold": threshold,
                        "text": text,
                    }),
                };
                let stored =
                    serde_json::to_string(&announcement).map_err(|_| AppError::Internal)?;
                if !transition(&self.db, &rule.id, &subject, holds, value, now, &stored).await? {
                    continue;
                }
                if holds {
                    round.fired += 1;
                } else {
                    round.resolved += 1;
                }
                tracing::info!(rule = %rule.id, %subject, value, threshold, fired = holds, "alert");
                self.publish(state, &rule.id, &subject, now, announcement)
                    .await;
            }
        }
        Ok(round)
    }

    /// Publishes one change's announcement under its idempotency key, then clears it from
    /// the state row unless the state changed again since (then a newer one is waiting).
    /// A failure leaves it for the next round.
    async fn publish(
        &self,
        state: &AppState,
        rule: &str,
        subject: &str,
        changed_at: i64,
        a: Announcement,
    ) -> bool {
        let key = format!("alert:{rule}:{subject}:{changed_at}");
        let alert = Operational::Alert {
            fired: a.fired,
            data: a.data,
        };
        if let Err(e) = state.events.announce_once(alert, Some(key)).await {
            tracing::error!(error = %e, %rule, %subject, "publishing an alert failed; the next round tries again");
            return false;
        }
        let cleared = with_db!(&self.db, |pool| {
            sqlx::query(
            "UPDATE alert_states SET announcement = NULL WHERE rule_id = $1 AND subject = $2 AND changed_at = $3"
        )
        .bind(rule)
        .bind(subject)
        .bind(changed_at)
        .execute(pool)
        .await
        .map(|_| ())
        });
        if let Err(e) = cleared {
            tracing::warn!(error = %e, %rule, %subject, "clearing a published alert failed; the next round publishes it again, as the same event");
        }
        true
    }

    /// Publishes every announcement still waiting in a state row; how many it published.
    async fn publish_waiting(&self, state: &AppState) -> AppResult<usize> {
        let waiting: Vec<(String, String, i64, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
            "SELECT rule_id, subject, changed_at, announcement FROM alert_states WHERE announcement IS NOT NULL"
        )
        .fetch_all(pool)
        .await
        })?;
        let mut published = 0;
        for (rule, subject, changed_at, stored) in waiting {
            let Ok(a) = serde_json::from_str::<Announcement>(&stored) else {
                tracing::error!(%rule, %subject, "an unreadable alert announcement was left as it is");
                continue;
            };
            tracing::info!(%rule, %subject, changed_at, "publishing an alert a previous round did not");
            if self.publish(state, &rule, &subject, changed_at, a).await {
                published += 1;
            }
        }
        Ok(published)
    }
}
