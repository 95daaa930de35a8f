//! What a filter costs, counted on its raw JSON before anything is compiled: conditions and
//! regex conditions. Every regex runs on every published event of the endpoint's types.

use super::parse::{MAX_DEPTH, MAX_NODES};
use crate::types::FieldError;
use serde_json::Value;

/// Regex conditions in one filter (each compiles to up to `REGEX_SIZE_LIMIT` bytes).
pub(super) const MAX_REGEXES: usize = 16;

/// Counts conditions and regexes on the raw JSON before anything is compiled, so a filter
/// of thousands of regexes costs a walk, not thousands of compilations. The walk stops at
/// the depth limit (deeper filters are refused by the parse) and at the first count past
/// its limit.
pub(super) fn check(value: &Value, at: &str) -> Result<(), Vec<FieldError>> {
    #[derive(Default)]
    struct Count {
        nodes: usize,
        regexes: usize,
    }
    fn walk(v: &Value, depth: usize, count: &mut Count) {
        if depth > MAX_DEPTH || count.nodes > MAX_NODES || count.regexes > MAX_REGEXES {
            return;
        }
        count.nodes += 1;
        let Some(obj) = v.as_object() else { return };
        if obj.get("op").and_then(Value::as_str) == Some("regex") {
            count.regexes += 1;
        }
        for group in ["all", "any"] {
            if let Some(items) = obj.get(group).and_then(Value::as_array) {
                items.iter().for_each(|c| walk(c, depth + 1, count));
            }
        }
        if let Some(inner) = obj.get("not") {
            walk(inner, depth + 1, count);
        }
    }
    let mut count = Count::default();
    walk(value, 0, &mut count);
    let mut errors = Vec::new();
    if count.nodes > MAX_NODES {
        errors.push(FieldError::new(
            at,
            format!("has more than {MAX_NODES} conditions; at most {MAX_NODES}"),
        ));
    }
    if count.regexes > MAX_REGEXES {
        errors.push(FieldError::new(
            at,
            format!("has more than {MAX_REGEXES} regex conditions; at most {MAX_REGEXES}"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use serde_json::json;

    #[test]
    fn costs_are_counted_before_any_regex_is_compiled() {
        let regex =
            |i: usize| json!({"field": "data.x", "op": "regex", "value": format!("^a{i}(")});
        // Invalid regexes: had any been compiled, its error would be reported instead.
        let many: Vec<Value> = (0..=MAX_REGEXES).map(regex).collect();
        let errs = parse(&json!({"any": many}), "filter").unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.contains("regex conditions"), "{errs:?}");
        let within: Vec<Value> = (0..MAX_REGEXES).map(regex).collect();
        let errs = parse(&json!({"any": within}), "filter").unwrap_err();
        assert_eq!(errs.len(), MAX_REGEXES, "compiled (and refused) one by one");
        let wide: Vec<Value> = (0..=MAX_NODES)
            .map(|_| json!({"field": "data.x", "op": "exists"}))
            .collect();
        let errs = parse(&json!({"all": wide}), "filter").unwrap_err();
        assert!(
            errs[0].message.contains("conditions; at most 256"),
            "{errs:?}"
        );
        let huge = json!({"field": "data.x", "op": "regex", "value": "\\w{500}\\w{500}"});
        let errs = parse(&huge, "filter").unwrap_err();
        assert!(errs[0].message.contains("not a valid regex"), "{errs:?}");
    }
}
