//! Why a filter matches an envelope or not: every condition evaluated, and one sentence
//! naming the one that decided (the filter test tool and the dashboard's live preview).

use super::{Filter, Op};
use serde::Serialize;
use serde_json::Value;

/// Why a condition held or not.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CondResult {
    /// Where the condition is in the filter (`filter.all[1]`).
    pub at: String,
    pub field: String,
    pub op: Op,
    pub value: Value,
    /// What the payload holds at `field` (several values with `[*]`).
    pub actual: Vec<Value>,
    pub matched: bool,
}

/// Whether a filter matches an envelope, and why (`POST /api/v1/filters/test`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = FilterVerdict)]
pub struct Verdict {
    pub matches: bool,
    /// Every condition that was evaluated, in order (short-circuited ones are left out).
    pub conditions: Vec<CondResult>,
    /// One sentence for people.
    pub reason: String,
}

impl Filter {
    pub fn explain(&self, envelope: &Value) -> Verdict {
        let mut trace = Some(Vec::new());
        let matches = self.eval(envelope, "filter", &mut trace);
        let conditions = trace.unwrap_or_default();
        let decisive: Vec<_> = conditions
            .iter()
            .filter(|c| c.matched == matches || conditions.len() == 1)
            .collect();
        let reason = match (matches, decisive.first()) {
            (_, None) => {
                if matches {
                    "matches".into()
                } else {
                    "does not match".into()
                }
            }
            (m, Some(c)) => format!(
                "{}: {} {} {} ({} {})",
                if m { "matches" } else { "does not match" },
                c.field,
                serde_json::to_value(c.op)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                c.value,
                if c.actual.is_empty() {
                    "the field is absent".to_string()
                } else {
                    format!("the payload has {}", Value::Array(c.actual.clone()))
                },
                if c.matched { "holds" } else { "fails" },
            ),
        };
        Verdict {
            matches,
            conditions,
            reason,
        }
    }
}
