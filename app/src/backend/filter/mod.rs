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
//! RFC 3339 times compare as instants, other strings by code point), in, not_in (value is
//! a list), contains (substring, or array element), starts_with, ends_with, exists (value
//! true or false, default true), regex (Rust regex syntax, at most 512 characters).
//!
//! The path language is `path` (templates and sensitive fields use it too); reading a
//! filter from JSON is `parse` with its costs in `cost`; evaluating is `eval`; saying why
//! is `explain`.

use regex::Regex;
use serde_json::Value;

mod cost;
mod eval;
mod explain;
mod parse;
mod path;

/// The operators, shared with the dashboard's builder.
pub use crate::types::filter::FilterOp as Op;
pub use explain::{CondResult, Verdict};
pub use parse::parse;
pub use path::{Segment, parse_path, resolve};

/// A parsed filter: groups of conditions, each with its path parsed and its regex compiled.
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
        // An empty field names its place (it once returned no error at all, and the
        // endpoint it was saved on broke every later catalog build).
        for (filter, at) in [
            (json!({"field": "", "op": "exists"}), "filter.field"),
            (
                json!({"all": [{"field": "   ", "op": "exists"}]}),
                "filter.all[0].field",
            ),
        ] {
            let errs = parse(&filter, "filter").unwrap_err();
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].path, at);
        }
        let mut deep = json!({"field": "a", "op": "exists"});
        for _ in 0..20 {
            deep = json!({"not": deep});
        }
        assert!(parse(&deep, "filter").is_err());
    }
}
