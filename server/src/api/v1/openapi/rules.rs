//! Constraints the derives cannot state (a pattern on each item of a list, the names a map
//! may have, ranges on nested types), merged into the generated document. Since the
//! document is also enforced (see [`super::requests`]), each one here is the server's own
//! rule, exactly, never a narrower example of it: rules that no schema states exactly
//! (durations with ranges, URLs as browsers parse them, CIDRs, the filter and template
//! languages) are left to the server's checks and described in prose.

use serde_json::{Value, json};

/// Event type names: lower-case segments, dot-separated, at most 128 characters.
pub const EVENT_TYPE: &str = r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$";

/// A subscription: `*`, an event type name, or a name's prefix with `.*`.
const SUBSCRIPTION: &str = r"^(\*|[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*(\.\*)?)$";

/// A path into the envelope rooted at `data` or `current_context`: keys, `[n]`, `[*]`.
const SENSITIVE_PATH: &str =
    r"^\s*(data|current_context)(\.[^.\[\]\s]([^.\[\]]*[^.\[\]\s])?|\[([0-9]{1,18}|\*)\])*\s*$";

/// A header name (an RFC 9110 token) that Hookline does not set itself.
const HEADER_NAME: &str = concat!(
    r"^(?!([Hh][Oo][Ss][Tt]|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]",
    r"|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Yy][Pp][Ee]",
    r"|[Tt][Rr][Aa][Nn][Ss][Ff][Ee][Rr]-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg]",
    r"|[Cc][Oo][Nn][Nn][Ee][Cc][Tt][Ii][Oo][Nn]|[Uu][Ss][Ee][Rr]-[Aa][Gg][Ee][Nn][Tt]",
    r"|[Ww][Ee][Bb][Hh][Oo][Oo][Kk]-([Ii][Dd]|[Tt][Ii][Mm][Ee][Ss][Tt][Aa][Mm][Pp]",
    r"|[Ss][Ii][Gg][Nn][Aa][Tt][Uu][Rr][Ee])",
    r"|[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn])$)",
    r"[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
);

/// Letters, digits, `_`, `.` and `-`, 1 to 64.
const TENANT: &str = r"^[A-Za-z0-9_.-]{1,64}$";

/// A status code (`304`) or class (`4xx`), as response rules name them.
const STATUS: &str = r"^([1-5]xx|[1-5][0-9]{2})$";

/// Not empty, not only white space.
const NOT_BLANK: &str = r"\S";

/// (schema, property, what the property's schema gains). A property that is not there is
/// a mistake here, caught by the unit test below.
fn rules() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "PublishEvent",
            "event_type",
            json!({"pattern": EVENT_TYPE, "maxLength": 128}),
        ),
        (
            "EventTypeInput",
            "sensitive_fields",
            json!({"items": {"type": "string", "maxLength": 200, "pattern": SENSITIVE_PATH}}),
        ),
        (
            "EventTypeInput",
            "sensitive_fields",
            json!({"uniqueItems": true}),
        ),
        ("NewEventType", "name", json!({"type": "string"})),
        (
            "RotateSourceSecret",
            "secret",
            json!({"pattern": NOT_BLANK, "not": {"enum": ["***"]}}),
        ),
        (
            "EventTypeInput",
            "schema",
            json!({"type": ["object", "boolean", "null"]}),
        ),
        ("NewAlertRule", "name", json!({"pattern": NOT_BLANK})),
        (
            "ResponseRules",
            "success",
            json!({"items": {"type": "string", "pattern": STATUS}}),
        ),
        (
            "ResponseRules",
            "no_retry",
            json!({"items": {"type": "string", "pattern": STATUS}}),
        ),
        (
            "NewAlertRule",
            "endpoint_id",
            json!({"pattern": r"^ep_[0-9A-HJKMNP-TV-Z]{26}$"}),
        ),
        (
            "NewAlertRule",
            "window",
            json!({"pattern": r"^([0-9]{1,6}(ms|s|m|h|d))+$"}),
        ),
        (
            "EndpointInput",
            "event_types",
            json!({"items": {"type": "string", "pattern": SUBSCRIPTION, "maxLength": 130}}),
        ),
        (
            "EndpointInput",
            "headers",
            json!({
                "maxProperties": 50,
                "propertyNames": {"pattern": HEADER_NAME},
                "additionalProperties": {"type": "string", "maxLength": 8192, "pattern": "^[^\r\n]*$"},
            }),
        ),
        (
            "EndpointInput",
            "filter",
            json!({"type": ["object", "null"]}),
        ),
        (
            "BatchSettings",
            "max_events",
            json!({"minimum": 1, "maximum": 1000}),
        ),
        (
            "SourceInput",
            "name",
            json!({"minLength": 1, "pattern": NOT_BLANK}),
        ),
        (
            "SourceInput",
            "event_type",
            json!({"pattern": EVENT_TYPE, "maxLength": 128}),
        ),
        (
            "SourceInput",
            "max_body_bytes",
            json!({"minimum": 1, "maximum": app::types::sources::MAX_SOURCE_BODY_BYTES}),
        ),
        (
            "SourceInput",
            "rate_limit_per_second",
            json!({"minimum": 1, "maximum": 100_000}),
        ),
        ("SourceInput", "tenant", json!({"pattern": TENANT})),
        (
            "SourceResponse",
            "status",
            json!({"minimum": 200, "maximum": 299}),
        ),
        (
            "Dedup",
            "window_secs",
            json!({"minimum": 60, "maximum": 2_592_000}),
        ),
    ]
}

/// (enum, property of its variants, what it gains).
type VariantRule = (&'static str, &'static str, fn() -> Value);
const VARIANT_RULES: [VariantRule; 2] = [
    (
        "Verification",
        "tolerance_secs",
        || json!({"maximum": app::types::sources::MAX_TOLERANCE_SECS}),
    ),
    (
        "Verification",
        "leeway_secs",
        || json!({"maximum": app::types::sources::MAX_LEEWAY_SECS}),
    ),
];

/// Enums whose variants refuse keys they do not have (serde's `deny_unknown_fields` on
/// struct variants, which the derive leaves out), but for the variants named.
const CLOSED_VARIANTS: [(&str, &[&str]); 1] = [("Verification", &["none"])];

/// Merges [`rules`] into the document's component schemas.
pub fn apply(doc: &mut Value) {
    for (schema, open) in CLOSED_VARIANTS {
        let Some(Value::Array(variants)) =
            doc.pointer_mut(&format!("/components/schemas/{schema}/oneOf"))
        else {
            panic!("OpenAPI rule for {schema}: no oneOf");
        };
        for variant in variants {
            let tag = variant.pointer("/properties/type/enum/0").cloned();
            let is_open = tag
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|t| open.contains(&t));
            if let Value::Object(v) = variant
                && !is_open
            {
                v.insert("additionalProperties".into(), Value::Bool(false));
            }
        }
    }
    // The same fields in several variants of one enum.
    for (schema, property, extra) in VARIANT_RULES {
        let variants = doc.pointer_mut(&format!("/components/schemas/{schema}/oneOf"));
        let Some(Value::Array(variants)) = variants else {
            panic!("OpenAPI rule for {schema}: no oneOf");
        };
        let mut found = 0;
        for variant in variants {
            if let Some(target) = variant.pointer_mut(&format!("/properties/{property}")) {
                merge(target, extra());
                found += 1;
            }
        }
        assert!(
            found > 0,
            "OpenAPI rule for {schema}.{property}: in no variant"
        );
    }
    for (schema, property, extra) in rules() {
        let at = |name: &str| format!("/components/schemas/{name}/properties/{property}");
        let Some(target) = doc.pointer_mut(&at(schema)) else {
            panic!("OpenAPI rule for {schema}.{property}: no such property");
        };
        merge(target, extra.clone());
        // The bodies derived from this type (see `super::bodies`) read it the same way.
        let derived = DERIVED_FROM.iter().filter(|(from, _)| *from == schema);
        for (_, name) in derived {
            if let Some(target) = doc.pointer_mut(&at(name)) {
                merge(target, extra.clone());
            }
        }
    }
}

/// A view that flattens an input (`#[serde(flatten)]`: `EndpointView` is the endpoint's
/// `EndpointInput` with its id and state) comes out of the derive as `allOf [$ref input,
/// {…}]`; an input that refuses unknown keys (`additionalProperties: false`) then refuses
/// the view's own fields too, and no answer would match. Such schemas are written out as
/// one object with the properties and required fields of both.
pub fn flatten_views(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    flatten_in(doc, &schemas);
}

/// [`flatten_views`] on `value` and everything inside it (the pages of the answers inline
/// their item schema).
fn flatten_in(value: &mut Value, schemas: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(parts)) = map.get("allOf") {
                let resolve = |part: &Value| match part.get("$ref").and_then(Value::as_str) {
                    Some(r) => schemas[r.trim_start_matches("#/components/schemas/")].clone(),
                    None => part.clone(),
                };
                let parts: Vec<Value> = parts.iter().map(resolve).collect();
                if parts.iter().any(|p| p["additionalProperties"] == false) {
                    let mut properties = serde_json::Map::new();
                    let mut required: Vec<Value> = Vec::new();
                    for part in &parts {
                        for (k, v) in part["properties"].as_object().into_iter().flatten() {
                            properties.insert(k.clone(), v.clone());
                        }
                        for r in part["required"].as_array().into_iter().flatten() {
                            if !required.contains(r) {
                                required.push(r.clone());
                            }
                        }
                    }
                    map.remove("allOf");
                    map.insert("type".into(), json!("object"));
                    map.insert("properties".into(), Value::Object(properties));
                    map.insert("required".into(), Value::Array(required));
                }
            }
            map.values_mut().for_each(|v| flatten_in(v, schemas));
        }
        Value::Array(list) => list.iter_mut().for_each(|v| flatten_in(v, schemas)),
        _ => {}
    }
}

/// A tuple (`(String, String)`, a header's name and value) comes out of the derive as
/// `prefixItems` with `items: false`, which JSON Schema 2020-12 allows and several client
/// generators cannot read (openapi-python-client stops at the boolean schema). When every
/// member has the same schema it is written as an array of that, of exactly that length.
pub fn tuples_as_arrays(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let same = match map.get("prefixItems") {
                Some(Value::Array(members)) if !members.is_empty() => members
                    .iter()
                    .all(|m| *m == members[0])
                    .then(|| (members[0].clone(), members.len())),
                _ => None,
            };
            if let Some((member, len)) = same
                && map.get("items") == Some(&Value::Bool(false))
            {
                map.remove("prefixItems");
                map.insert("items".into(), member);
                map.insert("minItems".into(), json!(len));
                map.insert("maxItems".into(), json!(len));
            }
            map.values_mut().for_each(tuples_as_arrays);
        }
        Value::Array(list) => list.iter_mut().for_each(tuples_as_arrays),
        _ => {}
    }
}

/// Schemas copied from another before these rules were applied.
const DERIVED_FROM: [(&str, &str); 4] = [
    ("EventTypeInput", "NewEventType"),
    ("EventTypeInput", "EventTypeChange"),
    ("EndpointInput", "EndpointPatch"),
    ("SourceInput", "SourcePatch"),
];

/// Adds `extra`'s keys to the schema. A property that is a `$ref` or an `Option`'s
/// `oneOf [null, …]` gets them beside it, which JSON Schema applies together.
fn merge(target: &mut Value, extra: Value) {
    let (Value::Object(target), Value::Object(extra)) = (target, extra) else {
        return;
    };
    for (key, value) in extra {
        target.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_pairs_are_arrays_of_two_strings() {
        let doc = super::super::document();
        let headers = &doc["components"]["schemas"]["AttemptView"]["properties"]["request_headers"];
        assert_eq!(
            headers["items"],
            json!({"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}),
            "{headers}"
        );
        assert!(!doc.to_string().contains("prefixItems"));
    }

    #[test]
    fn a_view_of_a_closed_input_takes_its_own_fields() {
        let doc = super::super::document();
        let view = &doc["components"]["schemas"]["EndpointView"];
        assert!(view.get("allOf").is_none(), "{view}");
        for field in ["id", "url", "disabled_reason"] {
            assert!(view["properties"].get(field).is_some(), "{field}: {view}");
        }
    }

    #[test]
    fn every_rule_names_a_property_of_the_document() {
        // `document()` applies them and panics on a missing one.
        let doc = super::super::document();
        let names = &doc["components"]["schemas"]["EndpointInput"]["properties"];
        assert_eq!(names["headers"]["maxProperties"], 50);
    }

    #[test]
    fn the_patterns_say_what_the_server_checks() {
        let re = |p: &str| regex::Regex::new(p).unwrap();
        // The header rule's look-ahead is not in Rust's regex; its token part is.
        let token_part = &HEADER_NAME[HEADER_NAME.rfind(")[").unwrap() + 1..];
        let token = regex::Regex::new(&format!("^{token_part}")).unwrap();
        assert!(token.is_match("X-Api-Key") && !token.is_match("X Api"));
        let name = re(EVENT_TYPE);
        for ok in ["order", "order.created", "a_b-c.d2"] {
            assert!(name.is_match(ok), "{ok}");
            assert!(
                app::backend::domain::EventTypeName::parse(ok).is_ok(),
                "the server takes {ok}"
            );
        }
        for bad in [
            "Order",
            "order.",
            ".a",
            "a..b",
            "1a",
            "a b",
            " order",
            "order.created ",
        ] {
            assert!(!name.is_match(bad), "{bad}");
            assert!(
                app::backend::domain::EventTypeName::parse(bad).is_err(),
                "the server refuses {bad}"
            );
        }
        let path = re(SENSITIVE_PATH);
        for ok in [
            "data.card",
            "data.items[*].sku",
            "current_context.a b",
            "data.m[0][1]",
        ] {
            assert!(path.is_match(ok), "{ok}");
            assert!(app::backend::filter::parse_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "data.", "data..x", "other.x", "data.x[", "data. "] {
            assert!(!path.is_match(bad), "{bad}");
        }
        let sub = re(SUBSCRIPTION);
        for ok in ["*", "order.*", "order.created"] {
            assert!(sub.is_match(ok), "{ok}");
        }
        for bad in ["", "order*", "*.x", "order.*.x"] {
            assert!(!sub.is_match(bad), "{bad}");
        }
    }
}
