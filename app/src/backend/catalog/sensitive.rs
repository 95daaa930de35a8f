//! Sensitive payload fields. An event type may mark JSON paths in its envelope, such as
//! `data.card.number` or `data.customer[*].email` (the path language of filters and
//! templates, rooted at `data` or `current_context`). Their values:
//! - are shown as `***` to everyone but admins: the event's envelope (events API and
//!   dashboard) and the request body in attempt logs (see [`crate::types::Redaction`]);
//! - reach an endpoint as they are, masked, or removed, as that endpoint chooses
//!   (`sensitive_data`: `send`, `mask`, `remove`), before its template is applied.
//!
//! Routing and filters always see the real values; only what is shown or sent changes.

use crate::backend::filter::{Segment, parse_path};
use crate::types::FieldError;
use crate::types::endpoints::MASK;
use serde_json::Value;

/// At most this many paths per event type, each at most [`MAX_PATH_LEN`] characters.
pub const MAX_PATHS: usize = 32;
pub const MAX_PATH_LEN: usize = 200;

/// An event type's sensitive paths, checked and parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SensitivePaths {
    paths: Vec<(String, Vec<Segment>)>,
}

/// What to do with a sensitive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    /// Replace it with `***`, whatever its type.
    Mask,
    /// Drop the key; an array element (`items[0]`, `items[*]`) becomes `null`, so the
    /// positions of the others stay as they were.
    Remove,
}

impl SensitivePaths {
    /// Checks paths as an event type's input, naming each problem under `at`
    /// (`sensitive_fields[2]`).
    pub fn parse(raw: &[String], at: &str) -> Result<SensitivePaths, Vec<FieldError>> {
        let mut errors = Vec::new();
        if raw.len() > MAX_PATHS {
            errors.push(FieldError::new(
                at,
                format!("at most {MAX_PATHS} paths; {} were given", raw.len()),
            ));
            return Err(errors);
        }
        let mut paths: Vec<(String, Vec<Segment>)> = Vec::new();
        for (i, p) in raw.iter().enumerate() {
            let here = format!("{at}[{i}]");
            // Counted as sent, as the document's maxLength counts.
            let too_long = p.chars().count() > MAX_PATH_LEN;
            let p = p.trim();
            if too_long {
                errors.push(FieldError::new(
                    &here,
                    format!("must be at most {MAX_PATH_LEN} characters"),
                ));
                continue;
            }
            match parse_path(p) {
                Err(e) => errors.push(FieldError::new(&here, format!("not a path: {e}"))),
                Ok(segments) => match segments.first() {
                    Some(Segment::Key(root)) if root == "data" || root == "current_context" => {
                        if paths.iter().any(|(seen, _)| seen == p) {
                            errors.push(FieldError::new(&here, format!("{p} is listed twice")));
                        } else {
                            paths.push((p.to_owned(), segments));
                        }
                    }
                    _ => errors.push(FieldError::new(
                        &here,
                        format!("must start with data or current_context, e.g. data.{p}"),
                    )),
                },
            }
        }
        if errors.is_empty() {
            Ok(SensitivePaths { paths })
        } else {
            Err(errors)
        }
    }

    /// Stored paths were checked when they were saved; one that no longer parses is
    /// skipped with an error in the log rather than failing every read.
    pub fn from_stored(raw: &[String]) -> SensitivePaths {
        let paths = raw
            .iter()
            .filter_map(|p| match parse_path(p) {
                Ok(segments) => Some((p.clone(), segments)),
                Err(e) => {
                    tracing::error!(path = %p, error = %e, "a stored sensitive path no longer parses");
                    None
                }
            })
            .collect();
        SensitivePaths { paths }
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The paths as written, in order.
    pub fn names(&self) -> Vec<String> {
        self.paths.iter().map(|(p, _)| p.clone()).collect()
    }

    /// Is every one of these paths among `others`?
    pub fn covered_by(&self, others: &[String]) -> bool {
        self.paths.iter().all(|(p, _)| others.contains(p))
    }

    /// Masks or removes every sensitive value in `envelope`; true when something changed.
    pub fn redact(&self, envelope: &mut Value, how: Redact) -> bool {
        let mut changed = false;
        for (_, segments) in &self.paths {
            changed |= redact_at(envelope, segments, how);
        }
        changed
    }
}

fn redact_at(v: &mut Value, path: &[Segment], how: Redact) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let last = rest.is_empty();
    let hide = |slot: &mut Value, in_array: bool| {
        match how {
            Redact::Mask => *slot = Value::String(MASK.to_owned()),
            Redact::Remove if in_array => *slot = Value::Null,
            Redact::Remove => unreachable!("keys are removed by their object"),
        }
        true
    };
    match (first, v) {
        (Segment::Key(k), Value::Object(m)) => {
            if last {
                match how {
                    Redact::Remove => m.remove(k).is_some(),
                    Redact::Mask => m.get_mut(k).is_some_and(|slot| hide(slot, false)),
                }
            } else {
                m.get_mut(k).is_some_and(|next| redact_at(next, rest, how))
            }
        }
        (Segment::Index(i), Value::Array(a)) => match a.get_mut(*i) {
            Some(slot) if last => hide(slot, true),
            Some(next) => redact_at(next, rest, how),
            None => false,
        },
        (Segment::Each, Value::Array(a)) => {
            let mut changed = false;
            for slot in a.iter_mut() {
                changed |= if last {
                    hide(slot, true)
                } else {
                    redact_at(slot, rest, how)
                };
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(p: &[&str]) -> SensitivePaths {
        SensitivePaths::parse(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "f").unwrap()
    }

    fn envelope() -> Value {
        json!({"id": "evt_1", "event_type": "order.paid", "current_context": {"ip": "10.0.0.1"},
               "data": {"card": {"number": "4242424242424242", "brand": "visa"},
                        "customers": [{"email": "a@x.example", "n": 1}, {"email": "b@x.example"}],
                        "total": 42}})
    }

    #[test]
    fn masks_keys_array_elements_and_whole_objects() {
        let mut e = envelope();
        let p = paths(&[
            "data.card.number",
            "data.customers[*].email",
            "current_context",
        ]);
        assert!(p.redact(&mut e, Redact::Mask));
        assert_eq!(e["data"]["card"], json!({"number": "***", "brand": "visa"}));
        assert_eq!(e["data"]["customers"][0], json!({"email": "***", "n": 1}));
        assert_eq!(e["data"]["customers"][1]["email"], "***");
        assert_eq!(e["current_context"], "***");
        assert_eq!(e["data"]["total"], 42);
    }

    #[test]
    fn removes_keys_and_nulls_array_elements() {
        let mut e = envelope();
        let p = paths(&["data.card.number", "data.customers[0]", "data.total"]);
        assert!(p.redact(&mut e, Redact::Remove));
        assert_eq!(e["data"]["card"], json!({"brand": "visa"}));
        assert_eq!(e["data"]["customers"][0], Value::Null);
        assert_eq!(e["data"]["customers"][1]["email"], "b@x.example");
        assert!(e["data"].get("total").is_none());
    }

    #[test]
    fn absent_paths_and_other_shapes_change_nothing() {
        let mut e = envelope();
        let before = e.clone();
        let p = paths(&["data.missing.x", "data.card.number[0]", "data.total.cents"]);
        assert!(!p.redact(&mut e, Redact::Mask));
        assert!(!p.redact(&mut e, Redact::Remove));
        assert_eq!(e, before);
    }

    #[test]
    fn bad_paths_are_named_by_index() {
        let raw: Vec<String> = [
            "data.ok",
            "card.number",
            "data..x",
            "data.ok",
            &"x".repeat(201),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let errors = SensitivePaths::parse(&raw, "sensitive_fields").unwrap_err();
        let at: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            at,
            [
                "sensitive_fields[1]",
                "sensitive_fields[2]",
                "sensitive_fields[3]",
                "sensitive_fields[4]"
            ]
        );
        assert!(errors[0].message.contains("data.card.number"));
        let many: Vec<String> = (0..33).map(|i| format!("data.f{i}")).collect();
        assert_eq!(
            SensitivePaths::parse(&many, "sensitive_fields").unwrap_err()[0].path,
            "sensitive_fields"
        );
    }

    #[test]
    fn coverage_compares_path_sets() {
        let p = paths(&["data.a", "data.b"]);
        assert!(p.covered_by(&["data.b".into(), "data.a".into(), "data.c".into()]));
        assert!(!p.covered_by(&["data.a".into()]));
        assert!(SensitivePaths::default().covered_by(&[]));
    }
}
