//! Body templates: a JSON document whose strings may hold `{{ path }}` placeholders into the
//! event envelope. A string that is exactly one placeholder takes the value with its type
//! (a number stays a number, an object stays an object); a placeholder inside longer text
//! is interpolated as text. A missing field is an error naming the template location and
//! the field, never a silent `null`.
//!
//! ```json
//! {"order_id": "{{ data.id }}", "amount": "{{ data.total }}", "note": "Order {{ data.id }} placed"}
//! ```

use crate::backend::filter::{parse_path, resolve};
use crate::backend::limits::{json_len_within, json_string_len};
use crate::types::FieldError;
use serde_json::{Map, Value};

const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// Checks the placeholders' syntax, naming every problem under `at` (`template`).
pub fn check(template: &Value, at: &str) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if template.to_string().len() > MAX_TEMPLATE_BYTES {
        errors.push(FieldError::new(
            at,
            format!("must be at most {MAX_TEMPLATE_BYTES} bytes"),
        ));
    }
    walk(template, at, &mut |s, loc| {
        for piece in pieces(s) {
            match piece {
                Piece::Field(raw) => {
                    if let Err(e) = parse_path(raw.trim()) {
                        errors.push(FieldError::new(
                            loc,
                            format!("placeholder {{{{{raw}}}}}: {e}"),
                        ));
                    }
                }
                Piece::Unclosed => {
                    errors.push(FieldError::new(loc, "has '{{' without a closing '}}'"))
                }
                Piece::Text(_) => {}
            }
        }
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Renders `template` against `envelope`, or lists every placeholder whose field is absent.
/// The rendered body may hold at most `max_bytes` bytes of JSON: the size is counted while
/// rendering, and rendering stops at the first value that would pass it, so a small template
/// that repeats a large field cannot make the server build a huge body first.
pub fn render(
    template: &Value,
    envelope: &Value,
    at: &str,
    max_bytes: usize,
) -> Result<Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut budget = Budget { left: max_bytes };
    match render_value(template, envelope, at, &mut errors, &mut budget) {
        Err(TooLarge) => Err(vec![too_large(at, max_bytes)]),
        Ok(out) if errors.is_empty() => Ok(out),
        Ok(_) => Err(errors),
    }
}

/// Only the size check of [`render`]: the error when `template` renders more than
/// `max_bytes` for `envelope` (missing fields are not its concern). Saving an endpoint runs
/// it against the examples of the event types it subscribes to.
pub fn over_limit(
    template: &Value,
    envelope: &Value,
    at: &str,
    max_bytes: usize,
) -> Option<FieldError> {
    let mut budget = Budget { left: max_bytes };
    render_value(template, envelope, at, &mut Vec::new(), &mut budget)
        .err()
        .map(|TooLarge| too_large(at, max_bytes))
}

fn too_large(at: &str, max_bytes: usize) -> FieldError {
    FieldError::new(
        at,
        format!(
            "renders a body larger than the limit of {max_bytes} bytes \
             (--max-rendered-bytes); repeat fewer or smaller fields"
        ),
    )
}

/// The output would pass the limit.
struct TooLarge;

/// What is left of the output limit, in bytes of serialised JSON.
struct Budget {
    left: usize,
}

impl Budget {
    fn spend(&mut self, bytes: usize) -> Result<(), TooLarge> {
        self.left = self.left.checked_sub(bytes).ok_or(TooLarge)?;
        Ok(())
    }

    /// Spends the serialised size of `v`, walking it only as far as the budget reaches.
    fn spend_value(&mut self, v: &Value) -> Result<(), TooLarge> {
        let bytes = json_len_within(v, self.left).ok_or(TooLarge)?;
        self.spend(bytes)
    }
}

fn render_value(
    t: &Value,
    env: &Value,
    at: &str,
    errors: &mut Vec<FieldError>,
    budget: &mut Budget,
) -> Result<Value, TooLarge> {
    Ok(match t {
        Value::String(s) => render_string(s, env, at, errors, budget)?,
        Value::Array(items) => {
            budget.spend(2 + items.len().saturating_sub(1))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                out.push(render_value(v, env, &format!("{at}[{i}]"), errors, budget)?);
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            budget.spend(2 + map.len().saturating_sub(1))?;
            let mut out = Map::new();
            for (k, v) in map {
                budget.spend(json_string_len(k) + 1)?;
                let rendered = render_value(v, env, &format!("{at}.{k}"), errors, budget)?;
                out.insert(k.clone(), rendered);
            }
            Value::Object(out)
        }
        other => {
            budget.spend_value(other)?;
            other.clone()
        }
    })
}

/// The values at the placeholder's field (borrowed: nothing is copied before it is paid for).
fn lookup<'e>(
    raw: &str,
    env: &'e Value,
    at: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Found<'e>> {
    let field = raw.trim();
    let path = match parse_path(field) {
        Ok(p) => p,
        Err(e) => {
            errors.push(FieldError::new(
                at,
                format!("placeholder {{{{{raw}}}}}: {e}"),
            ));
            return None;
        }
    };
    let found = resolve(env, &path);
    match found.as_slice() {
        [] => {
            errors.push(FieldError::new(
                at,
                format!("{field} is missing in the payload"),
            ));
            None
        }
        [one] if !field.contains("[*]") => Some(Found::One(one)),
        _ => Some(Found::Many(found)),
    }
}

enum Found<'e> {
    One(&'e Value),
    /// A `[*]` path: its values become an array.
    Many(Vec<&'e Value>),
}

impl Found<'_> {
    fn into_value(self, budget: &mut Budget) -> Result<Value, TooLarge> {
        match self {
            Found::One(v) => {
                budget.spend_value(v)?;
                Ok(v.clone())
            }
            Found::Many(vs) => {
                budget.spend(2 + vs.len().saturating_sub(1))?;
                vs.iter().try_for_each(|v| budget.spend_value(v))?;
                Ok(Value::Array(vs.into_iter().cloned().collect()))
            }
        }
    }
}

fn render_string(
    s: &str,
    env: &Value,
    at: &str,
    errors: &mut Vec<FieldError>,
    budget: &mut Budget,
) -> Result<Value, TooLarge> {
    let parts = pieces(s);
    if let [Piece::Field(raw)] = parts.as_slice() {
        return match lookup(raw, env, at, errors) {
            Some(found) => found.into_value(budget),
            None => Ok(Value::Null),
        };
    }
    if !parts.iter().any(|p| matches!(p, Piece::Field(_))) {
        budget.spend(json_string_len(s))?;
        return Ok(Value::String(s.to_string()));
    }
    // The quotes; every piece then pays for its own escaped bytes.
    budget.spend(2)?;
    let mut out = String::new();
    for p in parts {
        let text = match p {
            Piece::Text(t) => std::borrow::Cow::Borrowed(t),
            Piece::Field(raw) => match lookup(raw, env, at, errors) {
                Some(Found::One(Value::String(v))) => std::borrow::Cow::Borrowed(v.as_str()),
                Some(found) => {
                    // Paid as JSON before it is written out as text, so that writing
                    // cannot allocate past the limit either.
                    let mut probe = Budget { left: budget.left };
                    let value = found.into_value(&mut probe)?;
                    std::borrow::Cow::Owned(value.to_string())
                }
                None => continue,
            },
            Piece::Unclosed => {
                errors.push(FieldError::new(at, "has '{{' without a closing '}}'"));
                continue;
            }
        };
        budget.spend(json_string_len(&text) - 2)?;
        out.push_str(&text);
    }
    Ok(Value::String(out))
}

enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
    Unclosed,
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        match rest[open + 2..].find("}}") {
            Some(close) => {
                out.push(Piece::Field(&rest[open + 2..open + 2 + close]));
                rest = &rest[open + 2 + close + 2..];
            }
            None => {
                out.push(Piece::Unclosed);
                return out;
            }
        }
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn walk(v: &Value, at: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(s, at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| walk(x, &format!("{at}[{i}]"), f)),
        Value::Object(m) => m.iter().for_each(|(k, x)| walk(x, &format!("{at}.{k}"), f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> Value {
        json!({"id": "evt_1", "event_type": "order.created",
               "data": {"order": {"id": "o-7", "total": 42.5, "lines": [{"sku": "A"}, {"sku": "B"}]}, "paid": true}})
    }

    #[test]
    fn typed_values_are_kept_and_text_is_interpolated() {
        let t = json!({
            "order_id": "{{ data.order.id }}",
            "amount": "{{data.order.total}}",
            "paid": "{{ data.paid }}",
            "order": "{{ data.order }}",
            "skus": "{{ data.order.lines[*].sku }}",
            "note": "Order {{ data.order.id }} for {{ data.order.total }} EUR",
            "fixed": 1,
            "list": ["{{ event_type }}", "x"]
        });
        let out = render(&t, &env(), "template", 1 << 20).unwrap();
        assert_eq!(out["order_id"], "o-7");
        assert_eq!(out["amount"], 42.5);
        assert_eq!(out["paid"], true);
        assert_eq!(out["order"]["lines"][1]["sku"], "B");
        assert_eq!(out["skus"], json!(["A", "B"]));
        assert_eq!(out["note"], "Order o-7 for 42.5 EUR");
        assert_eq!(out["fixed"], 1);
        assert_eq!(out["list"][0], "order.created");
    }

    #[test]
    fn missing_fields_and_bad_syntax_are_named() {
        let errs = render(
            &json!({"a": "{{ data.nope }}", "b": ["x {{ data.order.zip }}"]}),
            &env(),
            "template",
            1 << 20,
        )
        .unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.path.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("template.a", "data.nope is missing in the payload"),
                ("template.b[0]", "data.order.zip is missing in the payload")
            ]
        );
        assert!(check(&json!({"a": "{{ data..x }}"}), "template").is_err());
        assert!(check(&json!({"a": "{{ data.x"}), "template").is_err());
        assert!(check(&json!({"a": "{{ data.x }}", "b": "plain"}), "template").is_ok());
    }

    #[test]
    fn the_rendered_size_is_counted_exactly_and_capped_while_rendering() {
        let env = json!({"data": {"s": "ab\"c", "n": 12, "o": {"k": [true, null]}}});
        let t = json!({"a": "{{ data.s }}", "b": "x {{ data.n }} {{ data.o }}", "c": [1, "{{ data.o }}"]});
        let body = render(&t, &env, "template", 1 << 20).unwrap();
        let exact = serde_json::to_string(&body).unwrap().len();
        assert!(
            render(&t, &env, "template", exact).is_ok(),
            "exactly at the cap fits"
        );
        let errs = render(&t, &env, "template", exact - 1).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "template");
        assert!(
            errs[0].message.contains(&format!("{}", exact - 1)),
            "{errs:?}"
        );
    }

    #[test]
    fn amplification_stops_at_the_cap_instead_of_building_the_body() {
        // 500 copies of a 100 kB field would be 50 MB; the cap is 1 MB.
        let env = json!({"data": {"x": "y".repeat(100_000)}});
        let many: serde_json::Map<String, Value> = (0..500)
            .map(|i| (format!("f{i}"), json!("{{ data.x }}")))
            .collect();
        let interpolated = json!({"t": "{{ data.x }}".repeat(500)});
        for t in [Value::Object(many), interpolated] {
            let errs = render(&t, &env, "template", 1 << 20).unwrap_err();
            assert!(errs[0].message.contains("1048576 bytes"), "{errs:?}");
        }
    }
}

#[cfg(test)]
mod preset_tests {
    use crate::types::presets::Preset;
    use serde_json::json;

    /// Every preset's templates are valid, and render an alert and any event.
    #[test]
    fn presets_render_alerts_and_events() {
        let alert = json!({"id": "evt_1", "event_time": "2026-12-07T00:00:00Z", "event_type": "hookline.alert.fired",
            "current_context": {}, "data": {"text": "Alert: crm failing. crm has failed 3 times in a row (threshold 3)."}});
        let order = json!({"id": "evt_2", "event_time": "2026-12-07T00:00:00Z", "event_type": "order.created",
            "current_context": {}, "data": {"id": "o-1"}});
        for preset in Preset::ALL {
            for (types, envelope) in [
                (vec!["hookline.alert.*".to_owned()], &alert),
                (vec!["*".to_owned()], &order),
            ] {
                let template = preset.template(&types);
                super::check(&template, "template").unwrap();
                let body = super::render(&template, envelope, "template", 1 << 20).unwrap();
                let text = body.to_string();
                assert!(!text.contains("{{"), "{preset:?}: {text}");
            }
        }
        let slack = super::render(
            &Preset::Slack.template(&[
                "hookline.alert.fired".into(),
                "hookline.alert.resolved".into(),
            ]),
            &alert,
            "template",
            1 << 20,
        )
        .unwrap();
        assert_eq!(
            slack,
            json!({"text": "Alert: crm failing. crm has failed 3 times in a row (threshold 3)."})
        );
        let slack = super::render(
            &Preset::Slack.template(&["order.*".into()]),
            &order,
            "template",
            1 << 20,
        )
        .unwrap();
        assert_eq!(
            slack,
            json!({"text": "order.created evt_2: {\"id\":\"o-1\"}"})
        );
    }
}
