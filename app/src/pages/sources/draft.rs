//! The source editor's state: one signal per input, filled from the current settings and
//! built back into a `SourceInput` (typing mistakes reported on their paths). The
//! verification scheme and its secrets are kept as they are (`***`): they change through
//! the secret panel, not here.

use crate::types::FieldError;
use crate::types::sources::{
    Dedup, EventTypeFrom, SourceInput, SourceResponse, Transform, UnknownValue,
};
use leptos::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Copy)]
pub(super) struct Draft {
    pub(super) current: StoredValue<SourceInput>,
    pub(super) name: RwSignal<String>,
    pub(super) description: RwSignal<String>,
    pub(super) enabled: RwSignal<bool>,
    pub(super) event_type: RwSignal<String>,
    /// `fixed`, `header`, `query` or `json_path`.
    pub(super) type_from: RwSignal<String>,
    pub(super) type_from_name: RwSignal<String>,
    /// `value = event.type`, one per line.
    pub(super) type_map: RwSignal<String>,
    pub(super) unknown_default: RwSignal<bool>,
    /// One CIDR per line.
    pub(super) allowed: RwSignal<String>,
    /// `scheme`, `header` or `json_path`.
    pub(super) dedup_from: RwSignal<String>,
    pub(super) dedup_name: RwSignal<String>,
    pub(super) dedup_window: RwSignal<String>,
    pub(super) rate: RwSignal<String>,
    pub(super) max_body: RwSignal<String>,
    pub(super) response_status: RwSignal<String>,
    pub(super) response_body: RwSignal<String>,
    pub(super) transform_data: RwSignal<String>,
    pub(super) transform_context: RwSignal<String>,
    pub(super) tenant: RwSignal<String>,
}

fn pretty(v: Option<&serde_json::Value>) -> String {
    v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
        .unwrap_or_default()
}

fn text<T: ToString>(v: Option<T>) -> RwSignal<String> {
    RwSignal::new(v.map(|v| v.to_string()).unwrap_or_default())
}

impl Draft {
    pub(super) fn new(s: &SourceInput) -> Draft {
        let from = s.event_type_from.as_ref();
        let (type_from, type_from_name) = match from {
            Some(EventTypeFrom {
                header: Some(h), ..
            }) => ("header", h.clone()),
            Some(EventTypeFrom { query: Some(q), .. }) => ("query", q.clone()),
            Some(EventTypeFrom {
                json_path: Some(p), ..
            }) => ("json_path", p.clone()),
            _ => ("fixed", String::new()),
        };
        let map = from
            .map(|f| {
                f.map
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        let dedup = s.dedup.clone().unwrap_or_default();
        let (dedup_from, dedup_name) = match (&dedup.header, &dedup.json_path) {
            (Some(h), _) => ("header", h.clone()),
            (None, Some(p)) => ("json_path", p.clone()),
            _ => ("scheme", String::new()),
        };
        Draft {
            current: StoredValue::new(s.clone()),
            name: RwSignal::new(s.name.clone()),
            description: RwSignal::new(s.description.clone()),
            enabled: RwSignal::new(s.enabled),
            event_type: RwSignal::new(s.event_type.clone()),
            type_from: RwSignal::new(type_from.into()),
            type_from_name: RwSignal::new(type_from_name),
            type_map: RwSignal::new(map),
            unknown_default: RwSignal::new(
                from.is_some_and(|f| f.unknown == UnknownValue::Default),
            ),
            allowed: RwSignal::new(s.allowed_ips.join("\n")),
            dedup_from: RwSignal::new(dedup_from.into()),
            dedup_name: RwSignal::new(dedup_name),
            dedup_window: text(dedup.window_secs),
            rate: text(s.rate_limit_per_second),
            max_body: text(s.max_body_bytes),
            response_status: text(s.response.as_ref().map(|r| r.status)),
            response_body: RwSignal::new(pretty(s.response.as_ref().and_then(|r| r.body.as_ref()))),
            transform_data: RwSignal::new(pretty(s.transform.as_ref().map(|t| &t.data))),
            transform_context: RwSignal::new(pretty(
                s.transform.as_ref().and_then(|t| t.context.as_ref()),
            )),
            tenant: RwSignal::new(s.tenant.clone().unwrap_or_default()),
        }
    }

    /// The settings as edited, or every typing mistake with its path. Reads the signals
    /// tracked, so a preview built on it follows every keystroke.
    pub(super) fn build(&self) -> Result<SourceInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        use crate::pages::forms::{typed_json, typed_number};
        let window =
            typed_number::<u64>(&mut errors, "dedup.window_secs", &self.dedup_window.get());
        let rate = typed_number::<u64>(&mut errors, "rate_limit_per_second", &self.rate.get());
        let max_body = typed_number::<u64>(&mut errors, "max_body_bytes", &self.max_body.get());
        let status =
            typed_number::<u64>(&mut errors, "response.status", &self.response_status.get());
        let response_body = typed_json(&mut errors, "response.body", &self.response_body.get());
        let data = typed_json(&mut errors, "transform.data", &self.transform_data.get());
        let context = typed_json(
            &mut errors,
            "transform.context",
            &self.transform_context.get(),
        );
        let mut map = BTreeMap::new();
        for (i, line) in self.type_map.get().lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match line.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                    map.insert(k.trim().to_owned(), v.trim().to_owned());
                }
                _ => errors.push(FieldError::new(
                    "event_type_from.map",
                    format!("line {} is not `value = event.type`", i + 1),
                )),
            }
        }
        let name = self.type_from_name.get().trim().to_owned();
        let place = self.type_from.get();
        let event_type_from = (place != "fixed").then(|| EventTypeFrom {
            header: (place == "header").then(|| name.clone()),
            query: (place == "query").then(|| name.clone()),
            json_path: (place == "json_path").then(|| name.clone()),
            map,
            unknown: if self.unknown_default.get() {
                UnknownValue::Default
            } else {
                UnknownValue::Refuse
            },
        });
        let dedup_name = self.dedup_name.get().trim().to_owned();
        let dedup_from = self.dedup_from.get();
        let dedup = Dedup {
            header: (dedup_from == "header").then(|| dedup_name.clone()),
            json_path: (dedup_from == "json_path").then(|| dedup_name.clone()),
            window_secs: window,
        };
        let response = (status.is_some() || response_body.is_some()).then(|| SourceResponse {
            status: status.map_or(202, |s| s as u16),
            body: response_body,
        });
        let transform = match (data, context) {
            (None, None) => None,
            (data, context) => Some(Transform {
                data: data.unwrap_or_else(|| serde_json::json!("{{ body }}")),
                context,
            }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let current = self.current.get_value();
        Ok(SourceInput {
            name: self.name.get(),
            description: self.description.get(),
            enabled: self.enabled.get(),
            verification: current.verification,
            event_type: self.event_type.get(),
            event_type_from,
            allowed_ips: self
                .allowed
                .get()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            dedup: (dedup != Dedup::default()).then_some(dedup),
            max_body_bytes: max_body,
            rate_limit_per_second: rate.map(|r| r.min(u32::MAX as u64) as u32),
            response,
            transform,
            tenant: Some(self.tenant.get().trim().to_owned()).filter(|t| !t.is_empty()),
        })
    }
}
