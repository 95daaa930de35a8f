//! Evaluating a filter against an envelope: each operator's meaning, `[*]` paths, numbers
//! compared as numbers and RFC 3339 times as instants.

use super::explain::CondResult;
use super::path::resolve;
use super::{Filter, Op};
use regex::Regex;
use serde_json::Value;

impl Filter {
    pub fn matches(&self, envelope: &Value) -> bool {
        self.eval(envelope, "", &mut None)
    }

    pub(super) fn eval(&self, env: &Value, at: &str, trace: &mut Option<Vec<CondResult>>) -> bool {
        match self {
            Filter::All(cs) => cs
                .iter()
                .enumerate()
                .all(|(i, c)| c.eval(env, &format!("{at}.all[{i}]"), trace)),
            Filter::Any(cs) => cs
                .iter()
                .enumerate()
                .any(|(i, c)| c.eval(env, &format!("{at}.any[{i}]"), trace)),
            Filter::Not(c) => !c.eval(env, &format!("{at}.not"), trace),
            Filter::Cond {
                field,
                path,
                op,
                value,
                regex,
            } => {
                let actual = resolve(env, path);
                let matched = check(*op, value, regex.as_ref(), &actual);
                if let Some(t) = trace {
                    t.push(CondResult {
                        at: at.to_string(),
                        field: field.clone(),
                        op: *op,
                        value: value.clone(),
                        actual: actual.into_iter().cloned().collect(),
                        matched,
                    });
                }
                matched
            }
        }
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => match (instant(x), instant(y)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(x.cmp(y)),
        },
        _ => None,
    }
}

/// An RFC 3339 time as an instant (nanoseconds since 1970), so that times compare by when
/// they are, whatever their precision or offset: `…00.5Z` after `…00Z`.
fn instant(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    crate::time_fmt::parse_rfc3339(s).map(|t| t.unix_timestamp_nanos())
}

fn check(op: Op, value: &Value, regex: Option<&Regex>, actual: &[&Value]) -> bool {
    use std::cmp::Ordering::*;
    let any = |f: &dyn Fn(&Value) -> bool| actual.iter().any(|v| f(v));
    let list = value.as_array().map(Vec::as_slice).unwrap_or(&[]);
    match op {
        Op::Eq => any(&|v| json_eq(v, value)),
        Op::Ne => !any(&|v| json_eq(v, value)),
        Op::Gt => any(&|v| compare(v, value) == Some(Greater)),
        Op::Gte => any(&|v| matches!(compare(v, value), Some(Greater | Equal))),
        Op::Lt => any(&|v| compare(v, value) == Some(Less)),
        Op::Lte => any(&|v| matches!(compare(v, value), Some(Less | Equal))),
        Op::In => any(&|v| list.iter().any(|l| json_eq(v, l))),
        Op::NotIn => !any(&|v| list.iter().any(|l| json_eq(v, l))),
        Op::Contains => any(&|v| match (v, value) {
            (Value::String(s), Value::String(needle)) => s.contains(needle.as_str()),
            (Value::Array(items), needle) => items.iter().any(|i| json_eq(i, needle)),
            _ => false,
        }),
        Op::StartsWith => any(
            &|v| matches!((v, value), (Value::String(s), Value::String(p)) if s.starts_with(p.as_str())),
        ),
        Op::EndsWith => any(
            &|v| matches!((v, value), (Value::String(s), Value::String(p)) if s.ends_with(p.as_str())),
        ),
        Op::Exists => actual.is_empty() != value.as_bool().unwrap_or(true),
        Op::Regex => any(&|v| matches!((v, regex), (Value::String(s), Some(re)) if re.is_match(s))),
    }
}
