//! Alert rules (this module owns `alert_rules` and `alert_states`): made, listed and
//! deleted by admins, each change audited; `evaluate` decides, on any node, when a rule
//! begins or stops firing and announces each change once.

pub mod evaluate;

use crate::backend::audit::AuditEntry;
use crate::backend::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::alerts::{AlertFiring, AlertKind, AlertRuleView, NewAlertRule};
use crate::types::ids::{AlertRuleId, EndpointId};
use crate::types::{FieldError, Role};
use crate::with_db;
use std::time::Duration;

const DEFAULT_WINDOW: Duration = Duration::from_secs(300);
/// At most this many rules: every one is evaluated on every round.
pub const MAX_RULES: i64 = 200;

#[derive(Clone)]
pub struct AlertRules {
    db: Db,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RuleRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub endpoint_id: Option<String>,
    pub threshold: i64,
    pub window_secs: i64,
    created_by: String,
    created_at: i64,
}

pub(crate) const RULE_COLUMNS: &str =
    "id, name, kind, endpoint_id, threshold, window_secs, created_by, created_at";

impl RuleRow {
    pub(crate) fn kind(&self) -> AppResult<AlertKind> {
        self.kind
            .parse()
            .map_err(|e| AppError::internal("a stored alert rule has an unknown kind", e))
    }
}

impl AlertRules {
    pub fn new(db: Db) -> Self {
        AlertRules { db }
    }

    fn check(input: &NewAlertRule) -> Result<(i64, i64), Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        let threshold = match (input.kind, input.threshold) {
            // 0: 80% of the breaker's limit, worked out when evaluated.
            (AlertKind::CircuitWarning, None) => 0,
            (_, None) => {
                errors.push(FieldError::new("threshold", "is required for this kind"));
                0
            }
            (AlertKind::FailureRate, Some(t)) if !(1..=100).contains(&t) => {
                errors.push(FieldError::new(
                    "threshold",
                    "must be a percent from 1 to 100",
                ));
                0
            }
            (_, Some(t)) if !(1..=1_000_000_000).contains(&t) => {
                errors.push(FieldError::new("threshold", "must be from 1 to 1000000000"));
                0
            }
            (_, Some(t)) => t,
        };
        if input.kind == AlertKind::QueueDepth && input.endpoint_id.is_some() {
            errors.push(FieldError::new(
                "endpoint_id",
                "queue_depth watches the whole queue: leave the endpoint out",
            ));
        }
        let window = match input.window.as_deref() {
            None => DEFAULT_WINDOW,
            Some(w) => match crate::duration::parse(w) {
                Ok(d) if (Duration::from_secs(60)..=Duration::from_secs(86_400)).contains(&d) => d,
                Ok(_) => {
                    errors.push(FieldError::new("window", "must be between 1m and 1d"));
                    DEFAULT_WINDOW
                }
                Err(e) => {
                    errors.push(FieldError::new("window", e));
                    DEFAULT_WINDOW
                }
            },
        };
        if errors.is_empty() {
            Ok((threshold, window.as_secs() as i64))
        } else {
            Err(errors)
        }
    }

    pub async fn create(&self, actor: &Actor, input: NewAlertRule) -> AppResult<AlertRuleView> {
        actor.require(Role::Admin)?;
        let (threshold, window_secs) = Self::check(&input).map_err(AppError::invalid_many)?;
        if let Some(endpoint) = &input.endpoint_id {
            let live: Option<String> = with_db!(&self.db, |pool| sqlx::query_scalar(
                "SELECT id FROM endpoints WHERE id = $1 AND deleted_at IS NULL"
            )
            .bind(endpoint.as_str())
            .fetch_optional(pool)
            .await)?;
            if live.is_none() {
                return Err(AppError::invalid(
                    "endpoint_id",
                    format!("no endpoint {endpoint}"),
                ));
            }
        }
        let count: i64 = with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM alert_rules"
        )
        .fetch_one(pool)
        .await)?;
        if count >= MAX_RULES {
            return Err(AppError::Conflict(format!(
                "there are {count} alert rules already; at most {MAX_RULES}"
            )));
        }
        let id = AlertRuleId::generate();
        let now = now_ms();
        let view = AlertRuleView {
            id: id.clone(),
            name: input.name.trim().to_owned(),
            kind: input.kind,
            endpoint_id: input.endpoint_id.clone(),
            threshold,
            window_secs,
            created_by: actor.label.clone(),
            created_at: Timestamp(now),
            firing: Vec::new(),
        };
        let audit = AuditEntry::new(
            actor,
            "create",
            "alert_rule",
            id.as_str(),
            serde_json::json!({
                "name": view.name, "kind": view.kind.as_str(), "endpoint_id": view.endpoint_id,
                "threshold": threshold, "window_secs": window_secs,
            }),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO alert_rules (id, name, kind, endpoint_id, threshold, window_secs, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id.as_str())
            .bind(&view.name)
            .bind(view.kind.as_str())
            .bind(view.endpoint_id.as_ref().map(|e| e.as_str()))
            .bind(threshold)
            .bind(window_secs)
            .bind(&view.created_by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        Ok(view)
    }

    /// Every rule, oldest first, with where each is firing now.
    pub async fn list(&self, actor: &Actor) -> AppResult<Vec<AlertRuleView>> {
        actor.require(Role::Viewer)?;
        let rules = self.rows().await?;
        let firing: Vec<(String, String, Option<String>, i64, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT s.rule_id, s.subject, ep.name, s.value, s.changed_at FROM alert_states s \
                 LEFT JOIN endpoints ep ON ep.id = s.subject WHERE s.firing ORDER BY s.changed_at",
            )
            .fetch_all(pool)
            .await
        })?;
        rules
            .into_iter()
            .map(|r| {
                let kind = r.kind()?;
                let firing = firing
                    .iter()
                    .filter(|(rule, ..)| *rule == r.id)
                    .map(|(_, subject, name, value, since)| AlertFiring {
                        subject: subject.clone(),
                        endpoint_name: name.clone(),
                        value: *value,
                        since: Timestamp(*since),
                    })
                    .collect();
                Ok(AlertRuleView {
                    id: AlertRuleId::from_db(r.id),
                    name: r.name,
                    kind,
                    endpoint_id: r.endpoint_id.map(EndpointId::from_db),
                    threshold: r.threshold,
                    window_secs: r.window_secs,
                    created_by: r.created_by,
                    created_at: Timestamp(r.created_at),
                    firing,
                })
            })
            .collect()
    }

    pub(crate) async fn rows(&self) -> AppResult<Vec<RuleRow>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id LIMIT {MAX_RULES}");
        Ok(with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await)?)
    }

    /// Deletes a rule and its state (a firing rule stops without a `resolved` event).
    pub async fn delete(&self, actor: &Actor, id: &AlertRuleId) -> AppResult<()> {
        actor.require(Role::Admin)?;
        let audit = AuditEntry::new(
            actor,
            "delete",
            "alert_rule",
            id.as_str(),
            serde_json::json!({}),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM alert_states WHERE rule_id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            let gone = sqlx::query("DELETE FROM alert_rules WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if gone == 0 {
                return Err(AppError::NotFound(format!("alert rule {id}")));
            }
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })
    }
}
