//! Reading a filter from its JSON: every problem named by its place, and costs (size,
//! depth, regexes) checked before anything is compiled.

use super::path::parse_path;
use super::{Filter, Op, cost};
use crate::types::FieldError;
use serde_json::Value;

pub(super) const MAX_DEPTH: usize = 16;
pub(super) const MAX_NODES: usize = 256;
const MAX_REGEX_LEN: usize = 512;
/// The compiled program and the lazy DFA's cache of one regex.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

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
    // An empty `field` is a path like any other (and refused as one): a condition that
    // added no error here was once stored and then broke every catalog build.
    let field = obj.get("field").and_then(Value::as_str);
    let path = match field.map(parse_path) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            errors.push(FieldError::new(format!("{at}.field"), e));
            None
        }
        None => {
            errors.push(FieldError::new(
                format!("{at}.field"),
                "is required: a path such as data.total",
            ));
            None
        }
    };
    let field = field.unwrap_or_default().to_string();
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
