//! Body templates: a JSON document whose strings may hold `{{ path }}` placeholders into the
//! event envelope. A string that is exactly one placeholder takes the value with its type
//! (a number stays a number, an object stays an object); a placeholder inside longer text
//! is interpolated as text. A missing field is an error naming the template location and
//! the field, never a silent `null`.
//!
//! ```json
//! {"order_id": "{{ data.id }}", "amount": "{{ data.total }}", "note": "Order {{ data.id }} placed"}
//! ```

use super::filter::{parse_path, resolve};
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
pub fn render(template: &Value, envelope: &Value, at: &str) -> Result<Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    let out = render_value(template, envelope, at, &mut errors);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn render_value(t: &Value, env: &Value, at: &str, errors: &mut Vec<FieldError>) -> Value {
    match t {
        Value::String(s) => render_string(s, env, at, errors),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| render_value(v, env, &format!("{at}[{i}]"), errors))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        render_value(v, env, &format!("{at}.{k}"), errors),
                    )
                })
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

fn lookup(raw: &str, env: &Value, at: &str, errors: &mut Vec<FieldError>) -> Option<Value> {
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
        [one] if !field.contains("[*]") => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    }
}

fn render_string(s: &str, env: &Value, at: &str, errors: &mut Vec<FieldError>) -> Value {
    let parts = pieces(s);
    if let [Piece::Field(raw)] = parts.as_slice() {
        return lookup(raw, env, at, errors).unwrap_or(Value::Null);
    }
    if !parts.iter().any(|p| matches!(p, Piece::Field(_))) {
        return Value::String(s.to_string());
    }
    let mut out = String::new();
    for p in parts {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(raw) => match lookup(raw, env, at, errors) {
                Some(Value::String(v)) => out.push_str(&v),
                Some(v) => out.push_str(&v.to_string()),
                None => {}
            },
            Piece::Unclosed => errors.push(FieldError::new(at, "has '{{' without a closing '}}'")),
        }
    }
    Value::String(out)
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
        let out = render(&t, &env(), "template").unwrap();
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
}
