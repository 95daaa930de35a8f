//! Test-fire's way in: an event for one endpoint only, written to the outbox like any
//! other. Its delivery is marked `test_fire`, so the engine (on whichever node claims it
//! first) sends it once, at once, outside the endpoint's limits and batches; the caller
//! reads the answer from the attempt log (`Deliveries::test_outcome`).

use super::Events;
use super::prepare::prepare;
use crate::backend::endpoints::{StoredEndpoint, subscribes};
use crate::backend::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::Role;
use crate::types::events::{PublishEvent, TestFire};
use crate::with_db;

impl Events {
    /// Stores a test event for `endpoint` and its one delivery, and wakes the engine.
    /// The event type may be left out when the endpoint names exactly one; `data` defaults
    /// to the event type's example. Returns the event id and the delivery id.
    pub async fn create_test(
        &self,
        actor: &Actor,
        endpoint: &StoredEndpoint,
        input: TestFire,
    ) -> AppResult<(String, String)> {
        actor.require_on(Role::Editor, endpoint.settings.tenant.as_deref(), || {
            format!("endpoint {}", endpoint.id)
        })?;
        let subscribed = &endpoint.settings.event_types;
        let event_type = match input.event_type {
            Some(t) => t,
            None => {
                let exact: Vec<&String> = subscribed
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
        if !subscribes(subscribed, &event_type) {
            return Err(AppError::invalid(
                "event_type",
                format!("the endpoint does not subscribe to {event_type}"),
            ));
        }
        let catalog = self.catalog_for(actor).await?;
        let example = catalog
            .event_types
            .get(&event_type)
            .and_then(|t| t.view.example.clone());
        let data = input.data.or(example).ok_or_else(|| {
            AppError::invalid(
                "data",
                format!("{event_type} has no example; send data to test with"),
            )
        })?;
        let input = PublishEvent {
            event_type,
            data,
            tenant: None,
            context: None,
            idempotency_key: None,
        };
        let now = now_ms();
        let prepared =
            prepare(&catalog, actor, input, "", None, now).map_err(AppError::invalid_many)?;
        let delivery_id = crate::backend::ids::new_id("dlv");
        let audit = crate::backend::audit::AuditEntry::new(
            actor,
            "test_fire",
            "endpoint",
            &endpoint.id,
            serde_json::json!({ "event_type": prepared.event_type, "event": prepared.id, "delivery": delivery_id }),
        );
        let is_postgres = matches!(self.db, Db::Postgres(_));
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO events (id, event_type, tenant, idempotency_key, envelope, created_at) VALUES ($1, $2, NULL, NULL, $3, $4)")
                .bind(&prepared.id)
                .bind(&prepared.event_type)
                .bind(&prepared.envelope)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, test_fire, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, TRUE, $4, $4)",
            )
            .bind(&delivery_id)
            .bind(&prepared.id)
            .bind(&endpoint.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            if is_postgres {
                sqlx::query("SELECT pg_notify('hookline_outbox', '')")
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.outbox.notify_one();
        Ok((prepared.id, delivery_id))
    }
}
