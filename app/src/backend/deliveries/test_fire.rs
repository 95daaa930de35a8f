//! Test-fire's answer: the caller waits for the engine to record the one attempt of the
//! test delivery (`events::test_fire` wrote it to the outbox), then reads it from the
//! attempt log. Polling the row works the same whichever node sends it.

use super::Deliveries;
use crate::error::{AppError, AppResult};
use crate::types::events::{DeliveryStatus, TestFireResult};
use crate::types::ids::{DeliveryId, EventId};
use crate::with_db;
use std::time::{Duration, Instant};

type Outcome = (
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Deliveries {
    /// Waits up to `wait` for the test delivery's attempt and returns it. If no engine
    /// sent it in that time, the answer says it is still `pending` (or `in_flight`): it
    /// stays queued and is sent once an engine runs, like any delivery.
    pub async fn test_outcome(
        &self,
        event_id: String,
        delivery_id: String,
        wait: Duration,
    ) -> AppResult<TestFireResult> {
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(5);
        loop {
            let (status, response_status, duration_ms, response_body, error_class, error): Outcome =
                with_db!(&self.db, |pool| {
                    sqlx::query_as(
                    "SELECT d.status, a.response_status, a.duration_ms, a.response_body, a.error_class, a.error \
                     FROM deliveries d LEFT JOIN attempts a ON a.delivery_id = d.id AND a.attempt = d.attempts \
                     WHERE d.id = $1"
                )
                .bind(&delivery_id)
                .fetch_one(pool)
                .await
                })?;
            let status = DeliveryStatus::parse(&status).ok_or_else(|| {
                AppError::internal(
                    "a delivery has an unknown status",
                    format!("{delivery_id}: {status}"),
                )
            })?;
            let settled = !matches!(status, DeliveryStatus::Pending | DeliveryStatus::InFlight);
            if settled || Instant::now() + pause > deadline {
                return Ok(TestFireResult {
                    event_id: EventId::from_db(event_id),
                    delivery_id: DeliveryId::from_db(delivery_id),
                    status,
                    response_status,
                    duration_ms: duration_ms.unwrap_or(0),
                    response_body,
                    error_class,
                    error,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}
