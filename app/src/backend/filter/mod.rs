//! Endpoint filters: a small expression tree stored as JSON, evaluated against the event
//! envelope `{id, event_time, event_type, current_context, data}`.
//!
//! ```json
//! {"all": [
//!   {"field": "data.total", "op": "gte", "value": 100},
//!   {"any": [{"field": "data.items[*].sku", "op": "starts_with", "value": "BK-"},
//!            {"not": {"field": "data.channel", "op": "in", "value": ["pos", "kiosk"]}}]}
//! ]}
//! ```
//!
//! Paths: dot-separated keys, `[n]` for an array index, `[*]` for every element. With
//! `[*]` a condition holds when any element satisfies it; `ne` and `not_in` hold when no
//! element is equal / in the list. Operators: eq, ne, gt, gte, lt, lte (numbers; two
//! RFC 3339 times compare as instants, other strings by code point), in, not_in (value is a list), contains (substring, or
//! array element), starts_with, ends_with, exists (value true or false, default true),
//! regex (Rust regex syntax, at most 512 characters).

use crate::types::FieldError;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

mod cost;

const MAX_DEPTH: usize = 16;
const MAX_NODES: usize = 256;
const MAX_REGEX_LEN: usize = 512;
/// The compiled program and the lazy DFA's cache of one regex.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The operators, shared with the dashboard's builder.
pub use crate::types::filter::FilterOp as Op;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
    Each,
}

#[derive(Debug, Clone)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Cond {
        field: String,
        path: Vec<Segment>,
        op: Op,
        value: Value,
        regex: Option<Regex>,
    },
}

/// Parses `data.items[*].sku`.
pub fn parse_path(raw: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    if raw.trim().is_empty() {
        return Err("is empty".into());
    }
    for part in raw.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && (out.is_empty() || rest.is_empty()) {
            return Err(format!("'{raw}' has an empty segment"));
        }
        if key.contains(']') {
            return Err(format!("'{raw}' has a ']' without its '['"));
        }
        if !key.is_empty() {
            out.push(Segment::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("'{raw}' has an unclosed '['"))?;
            let inner = &rest[1..close];
            out.push(if inner == "*" {
                Segment::Each
            } else {
                Segment::Index(
                    inner
                        .parse()
                        .map_err(|_| format!("'{raw}': [{inner}] is neither an index nor *"))?,
                )
            });
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("'{raw}': expected '.' or '[' after ']'"));
            }
        }
    }
    Ok(out)
}

/// Every value at `path` (several with `[*]`; none when absent).
pub fn resolve<'a>(root: &'a Value, path: &[Segment]) -> Vec<&'a Value> {
    let mut current = vec![root];
    for seg in path {
        let mut next = Vec::new();
        for v in current {
            match (seg, v) {
                (Segment::Key(k), Value::Object(m)) => next.extend(m.get(k)),
                (Segment::Index(i), Value::Array(a)) => next.extend(a.get(*i)),
                (Segment::Each, Value::Array(a)) => next.extend(a.iter()),
                _ => {}
            }
        }
        current = next;
    }
    current
}

/// Parses and checks a filter, naming every problem by its path under `at` (`filter`).
pub fn parse(value: &Value, at: &str) -> Result<Filter, Vec<FieldError>> {
    cost::check(value, at)?;
    let mut errors = Vec::new();
    let f = parse_node(value, at, 0, &mut errors);
    match f {
        Some(f) if errors.is_empty() => Ok(f),
        _ => Err(errors),
    }
}

fn parse_node(v: &Value, at: &str, depth: usize, errors: &mut Vec<FieldError>) -> Option<Filter> {
    if depth > MAX_DEPTH {
        errors.push(FieldError::new(
            at,
            format!("nests deeper than {MAX_DEPTH} levels"),
        ));
        return None;
    }
    let Some(obj) = v.as_object() else {
        errors.push(FieldError::new(at, "must be an object: {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or {\"field\", \"op\", \"value\"}"));
        return None;
    };
    for group in ["all", "any"] {
        if let Some(list) = obj.get(group) {
            if obj.len() != 1 {
                errors.push(FieldError::new(
                    at,
                    format!("a \"{group}\" group has no other keys"),
                ));
                return None;
            }
            let Some(items) = list.as_array().filter(|a| !a.is_empty()) else {
                errors.push(FieldError::new(
                    format!("{at}.{group}"),
                    "must be a non-empty list of conditions",
                ));
                return None;
            };
            let children: Vec<_> = items
                .iter()
                .enumerate()
                .map(|(i, c)| parse_node(c, &format!("{at}.{group}[{i}]"), depth + 1, errors))
                .collect();
            let children: Option<Vec<_>> = children.into_iter().collect();
            return children.map(|c| {
                if group == "all" {
                    Filter::All(c)
                } else {
                    Filter::Any(c)
                }
            });
        }
    }
    if let Some(inner) = obj.get("not") {
        if obj.len() != 1 {
            errors.push(FieldError::new(at, "a \"not\" group has no other keys"));
            return None;
        }
        return parse_node(inner, &format!("{at}.not"), depth + 1, errors)
            .map(|f| Filter::Not(Box::new(f)));
    }
    let start = errors.len();
    for key in obj.keys() {
        if !matches!(key.as_str(), "field" | "op" | "value") {
            errors.push(FieldError::new(
                format!("{at}.{key}"),
                "unknown key; a condition has field, op and value",
            ));
        }
    }
    let field = match obj.get("field").and_then(Value::as_str) {
        Some(f) => f.to_string(),
        None => {
            errors.push(FieldError::new(
                format!("{at}.field"),
                "is required: a path such as data.total",
            ));
            String::new()
        }
    };
    let path = if field.is_empty() {
        None
    } else {
        match parse_path(&field) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(FieldError::new(format!("{at}.field"), e));
                None
            }
        }
    };
    let op = match obj.get("op").and_then(Value::as_str) {
        Some(o) => match Op::parse(o) {
            Some(op) => Some(op),
            None => {
                errors.push(FieldError::new(format!("{at}.op"), format!("unknown operator '{o}'; use eq, ne, gt, gte, lt, lte, in, not_in, contains, starts_with, ends_with, exists or regex")));
                None
            }
        },
        None => {
            errors.push(FieldError::new(format!("{at}.op"), "is required"));
            None
        }
    };
    let value = obj.get("value").cloned();
    let mut regex = None;
    if let Some(op) = op {
        let vpath = format!("{at}.value");
        match (op, &value) {
            (Op::Exists, None | Some(Value::Bool(_))) => {}
            (Op::Exists, Some(_)) => errors.push(FieldError::new(
                vpath,
                "must be true or false (or left out) for exists",
            )),
            (_, None) => errors.push(FieldError::new(vpath, "is required for this operator")),
            (Op::In | Op::NotIn, Some(v)) if !v.is_array() => {
                errors.push(FieldError::new(vpath, "must be a list for in / not_in"))
            }
            (Op::Gt | Op::Gte | Op::Lt | Op::Lte, Some(v)) if !(v.is_number() || v.is_string()) => {
                errors.push(FieldError::new(
                    vpath,
                    "must be a number or a string to compare with",
                ))
            }
            (Op::StartsWith | Op::EndsWith, Some(v)) if !v.is_string() => {
                errors.push(FieldError::new(vpath, "must be a string"))
            }
            (Op::Regex, Some(Value::String(r))) if r.len() > MAX_REGEX_LEN => errors.push(
                FieldError::new(vpath, format!("must be at most {MAX_REGEX_LEN} characters")),
            ),
            (Op::Regex, Some(Value::String(r))) => match regex::RegexBuilder::new(r)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
            {
                Ok(re) => regex = Some(re),
                Err(e) => errors.push(FieldError::new(vpath, format!("is not a valid regex: {e}"))),
            },
            (Op::Regex, Some(_)) => {
                errors.push(FieldError::new(vpath, "must be a string (a regex)"))
            }
            _ => {}
        }
    }
    if errors.len() > start {
        return None;
    }
    Some(Filter::Cond {
        field,
        path: path?,
        op: op?,
        value: value.unwrap_or(Value::Bool(true)),
        regex,
    })
}

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

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub matches: bool,
    /// Every condition that was evaluated, in order (short-circuited ones are left out).
    pub conditions: Vec<CondResult>,
    /// One sentence for people.
    pub reason: String,
}

impl Filter {
    pub fn matches(&self, envelope: &Value) -> bool {
        self.eval(envelope, "", &mut None)
    }

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

    fn eval(&self, env: &Value, at: &str, trace: &mut Option<Vec<CondResult>>) -> bool {
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
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> Value {
        json!({
            "id": "evt_1", "event_type": "order.created", "event_time": "2026-11-23T01:00:00.000Z",
            "current_context": {"region": "eu"},
            "data": {"total": 120.5, "currency": "EUR", "channel": "web", "vip": false,
                     "items": [{"sku": "BK-1", "qty": 1}, {"sku": "TS-9", "qty": 3}]}
        })
    }

    fn f(v: Value) -> Filter {
        parse(&v, "filter").unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("data.items[*].sku").unwrap(),
            vec![
                Segment::Key("data".into()),
                Segment::Key("items".into()),
                Segment::Each,
                Segment::Key("sku".into())
            ]
        );
        assert_eq!(parse_path("data.m[0][1]").unwrap().len(), 4);
        for bad in [
            "",
            "data..x",
            "data.items[",
            "data.items[x]",
            "data.items]x",
        ] {
            assert!(parse_path(bad).is_err(), "{bad:?}");
        }
        let e = env();
        let p = parse_path("data.items[*].sku").unwrap();
        assert_eq!(resolve(&e, &p), vec![&json!("BK-1"), &json!("TS-9")]);
        assert!(resolve(&e, &parse_path("data.nope.x").unwrap()).is_empty());
    }

    #[test]
    fn operators() {
        let e = env();
        let yes = |v: Value| assert!(f(v.clone()).matches(&e), "{v}");
        let no = |v: Value| assert!(!f(v.clone()).matches(&e), "{v}");
        yes(json!({"field": "data.total", "op": "gt", "value": 100}));
        yes(json!({"field": "data.total", "op": "gte", "value": 120.5}));
        no(json!({"field": "data.total", "op": "lt", "value": 100}));
        yes(json!({"field": "data.total", "op": "eq", "value": 120.5}));
        yes(json!({"field": "data.currency", "op": "in", "value": ["EUR", "USD"]}));
        no(json!({"field": "data.currency", "op": "not_in", "value": ["EUR"]}));
        yes(json!({"field": "data.items[*].sku", "op": "starts_with", "value": "TS-"}));
        no(json!({"field": "data.items[*].sku", "op": "ne", "value": "BK-1"}));
        yes(json!({"field": "data.items[*].qty", "op": "gt", "value": 2}));
        yes(json!({"field": "data.channel", "op": "contains", "value": "we"}));
        yes(json!({"field": "data.items[*].sku", "op": "regex", "value": "^BK-\\d+$"}));
        yes(json!({"field": "data.vip", "op": "exists"}));
        yes(json!({"field": "data.coupon", "op": "exists", "value": false}));
        no(json!({"field": "data.coupon", "op": "eq", "value": null}));
        yes(json!({"field": "event_time", "op": "gte", "value": "2026-01-01T00:00:00Z"}));
        // Times compare as instants, not as text (each of these is wrong as text).
        yes(json!({"field": "event_time", "op": "gte", "value": "2026-11-23T01:00:00Z"}));
        no(json!({"field": "event_time", "op": "lt", "value": "2026-11-23T01:00:00Z"}));
        yes(json!({"field": "event_time", "op": "gt", "value": "2026-11-23T01:30:00+01:00"}));
        yes(
            json!({"field": "event_time", "op": "lt", "value": "2026-11-23T00:00:00.000001-01:00"}),
        );
        yes(json!({"field": "current_context.region", "op": "eq", "value": "eu"}));
        no(json!({"field": "data.total", "op": "gt", "value": "100"}));
    }

    #[test]
    fn groups_and_explanations() {
        let e = env();
        let filter = f(json!({"all": [
            {"field": "data.currency", "op": "eq", "value": "EUR"},
            {"any": [{"field": "data.total", "op": "gt", "value": 500},
                     {"not": {"field": "data.channel", "op": "in", "value": ["web"]}}]}
        ]}));
        let v = filter.explain(&e);
        assert!(!v.matches);
        assert_eq!(v.conditions.len(), 3);
        assert_eq!(v.conditions[1].at, "filter.all[1].any[0]");
        assert_eq!(v.conditions[1].actual, vec![json!(120.5)]);
        assert!(v.reason.starts_with("does not match"), "{}", v.reason);
    }

    #[test]
    fn invalid_filters_name_every_problem() {
        let errs = parse(
            &json!({"all": [
                {"field": "data.total", "op": "bigger", "value": 1},
                {"field": "data..x", "op": "eq", "value": 1},
                {"field": "data.x", "op": "in", "value": 3},
                {"field": "data.x", "op": "regex", "value": "("},
                {"any": []}
            ]}),
            "filter",
        )
        .unwrap_err();
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "filter.all[0].op",
                "filter.all[1].field",
                "filter.all[2].value",
                "filter.all[3].value",
                "filter.all[4].any"
            ]
        );
        assert!(parse(&json!("x"), "filter").is_err());
        let mut deep = json!({"field": "a", "op": "exists"});
        for _ in 0..20 {
            deep = json!({"not": deep});
        }
        assert!(parse(&deep, "filter").is_err());
    }
}
