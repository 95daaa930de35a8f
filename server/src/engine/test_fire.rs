//! Test-fire: one event sent to one endpoint now, once, with the answer shown to the caller.
//! It is a request a person asked for, so it goes at once, outside the endpoint's rate and
//! concurrency limits; it is logged like any other delivery.

use super::Engine;
use super::outgoing::single;
use super::store::{Claimed, NextState};
use super::target::Target;
use app::error::AppError;
use app::types::events::{DeliveryStatus, TestFire, TestFireResult};

impl Engine {
    /// Sends a test event to one endpoint now and returns what happened (sent once; the
    /// event and its delivery stay in the log like any other).
    pub async fn test_fire(
        &self,
        actor: &app::backend::Actor,
        endpoint_id: &str,
        input: TestFire,
    ) -> Result<TestFireResult, AppError> {
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
        let target = Target::build(&endpoint).map_err(|why| {
            AppError::Conflict(format!(
                "the endpoint's stored settings cannot be used ({why}); save it again"
            ))
        })?;
        let lease_ms = self.cfg.lease.as_millis() as i64;
        let token = format!("lt_{}", app::backend::ids::random_hex(12));
        let (event_id, delivery_id, envelope) = self
            .state
            .events
            .create_test(
                actor,
                endpoint_id,
                &event_type,
                input.data,
                self.node(),
                &token,
                lease_ms,
            )
            .await?;
        let claimed = [Claimed {
            id: delivery_id.clone(),
            event_id: event_id.clone(),
            endpoint_id: endpoint_id.to_owned(),
            attempts: 0,
            lease_token: token,
        }];
        let _hold = self.leases.hold(&self.store, &claimed);
        let outgoing = single(
            &event_id,
            envelope,
            &target,
            self.state.limits.max_rendered_bytes,
        );
        let (record, next) = self
            .attempt_and_judge(&claimed, outgoing, &target, false)
            .await;
        self.finish(&claimed, &record, &next).await;
        Ok(TestFireResult {
            event_id,
            delivery_id,
            status: match next {
                NextState::Succeeded => DeliveryStatus::Succeeded,
                _ => DeliveryStatus::Dead,
            },
            response_status: record.response_status,
            duration_ms: record.duration_ms,
            response_body: record.response_body,
            error_class: record.error_class.map(str::to_owned),
            error: record.error,
        })
    }
}

impl app::backend::state::EngineHandle for Engine {
    fn test_fire<'a>(
        &'a self,
        actor: &'a app::backend::Actor,
        endpoint_id: &'a str,
        input: TestFire,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<TestFireResult, AppError>> + Send + 'a>,
    > {
        Box::pin(Engine::test_fire(self, actor, endpoint_id, input))
    }
}
