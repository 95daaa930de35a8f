//! Diagnostics: an endpoint's diagnosis from its attempt log (`rules`), and "check my
//! endpoint": one test request now, explained the same way. For the dashboard, the portal
//! and REST alike; the endpoint is read through `Endpoints::get`, so the caller's role and
//! (for a portal link) tenant are checked there.

pub mod rules;

use crate::backend::{Actor, AppState};
use crate::error::{AppError, AppResult};
use crate::types::diagnostics::{Diagnosis, EndpointCheck};
use crate::types::endpoints::subscribes;
use crate::types::events::TestFire;
use crate::types::ids::EndpointId;
use crate::with_db;
use rules::AttemptFacts;

/// At most this many of an endpoint's newest deliveries are read, and this many of their
/// attempts diagnosed.
const RECENT: i64 = 50;

type FactsRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

const FACTS: &str = "a.started_at, a.duration_ms, a.response_status, a.error_class, a.error, \
                     a.response_headers, CAST(LENGTH(a.request_body) AS BIGINT)";

fn facts(rows: Vec<FactsRow>) -> Vec<AttemptFacts> {
    rows.into_iter()
        .map(
            |(
                started_at,
                duration_ms,
                response_status,
                error_class,
                error,
                headers,
                body_bytes,
            )| {
                let retry_after = headers
                    .and_then(|h| serde_json::from_str::<Vec<(String, String)>>(&h).ok())
                    .and_then(|h| {
                        h.into_iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                            .map(|(_, v)| v)
                    });
                AttemptFacts {
                    started_at,
                    duration_ms,
                    response_status,
                    error_class,
                    error,
                    retry_after,
                    body_bytes,
                }
            },
        )
        .collect()
}

fn timeout_ms(timeout: &str) -> i64 {
    crate::duration::parse(timeout)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(30_000)
}

impl AppState {
    /// The endpoint's diagnosis from its newest attempts.
    pub async fn diagnose_endpoint(&self, actor: &Actor, id: &EndpointId) -> AppResult<Diagnosis> {
        let endpoint = self.endpoints.get(actor, id).await?;
        let sql = format!(
            "SELECT {FACTS} FROM attempts a WHERE a.delivery_id IN \
             (SELECT d.id FROM deliveries d WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC LIMIT $2) \
             ORDER BY a.started_at DESC LIMIT $2"
        );
        let rows: Vec<FactsRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(RECENT)
            .fetch_all(pool)
            .await)?;
        Ok(rules::diagnose(
            &facts(rows),
            &endpoint.settings.url,
            timeout_ms(&endpoint.settings.timeout),
        ))
    }

    /// Sends one test event now (the first event type the endpoint subscribes to that has
    /// an example) and explains what came back.
    pub async fn check_endpoint(&self, actor: &Actor, id: &EndpointId) -> AppResult<EndpointCheck> {
        let endpoint = self.endpoints.get(actor, id).await?;
        let event_type = self
            .event_types
            .all()
            .await?
            .into_iter()
            .filter(|t| t.example.is_some() && !t.name.starts_with("hookline."))
            .map(|t| t.name)
            .find(|name| subscribes(&endpoint.settings.event_types, name))
            .ok_or_else(|| {
                AppError::invalid(
                    "event_types",
                    "the endpoint subscribes to no event type with an example to send",
                )
            })?;
        let result = self
            .test_fire(
                actor,
                id,
                TestFire {
                    event_type: Some(event_type),
                    data: None,
                },
            )
            .await?;
        let sql = format!(
            "SELECT {FACTS} FROM attempts a WHERE a.delivery_id = $1 ORDER BY a.attempt DESC"
        );
        let rows: Vec<FactsRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(result.delivery_id.as_str())
            .fetch_all(pool)
            .await)?;
        let diagnosis = rules::diagnose(
            &facts(rows),
            &endpoint.settings.url,
            timeout_ms(&endpoint.settings.timeout),
        );
        Ok(EndpointCheck { result, diagnosis })
    }
}
