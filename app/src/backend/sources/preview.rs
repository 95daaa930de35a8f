//! The dashboard's live preview: what a pasted or captured request would become under
//! the settings being edited (mapping, transform, schema, routing), with nothing
//! published or logged and no verification run.

use super::Sources;
use super::mapping::{Unmapped, map};
use super::verify::Inbound;
use crate::backend::events::Events;
use crate::backend::{Actor, now_ms};
use crate::error::AppResult;
use crate::types::Role;
use crate::types::events::PublishEvent;
use crate::types::sources::{InboundPreview, PreviewInbound};

impl Sources {
    pub async fn preview(
        &self,
        actor: &Actor,
        events: &Events,
        req: PreviewInbound,
    ) -> AppResult<InboundPreview> {
        actor.require(Role::Editor)?;
        let headers: Vec<(String, String)> = req
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let inbound = Inbound {
            headers: &headers,
            query: &req.query,
            body: req.body.as_bytes(),
            now: now_ms() / 1000,
        };
        let s = &req.settings;
        let mapped = match map(s, "src_preview", &inbound, events.limits.max_rendered_bytes) {
            Ok(m) => m,
            Err(Unmapped::Challenge(_)) => {
                return Ok(InboundPreview {
                    errors: vec![
                        "a Slack url_verification challenge: answered, not published".into(),
                    ],
                    ..Default::default()
                });
            }
            Err(Unmapped::Invalid(why, key)) => {
                return Ok(InboundPreview {
                    dedup_key: key,
                    errors: vec![why],
                    ..Default::default()
                });
            }
        };
        let input = PublishEvent {
            event_type: mapped.event_type.clone(),
            data: mapped.data.clone(),
            tenant: s.tenant.clone(),
            context: Some(mapped.context.clone()),
            idempotency_key: None,
        };
        let source = Actor::source("src_preview", &s.name);
        let (endpoints, errors) = match events.dry_run(&source, input).await? {
            Ok(n) => (Some(n), Vec::new()),
            Err(errors) => (
                None,
                errors
                    .into_iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect(),
            ),
        };
        Ok(InboundPreview {
            event_type: Some(mapped.event_type),
            data: Some(mapped.data),
            context: Some(mapped.context),
            dedup_key: mapped.dedup_key,
            endpoints,
            errors,
        })
    }
}
