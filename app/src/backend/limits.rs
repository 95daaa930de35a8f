//! What one request may cost, checked before the work: how deep its JSON nests, how large
//! a body a template may render, how many bytes a batch of events may carry. The sizes
//! come from the configuration at start ([`Limits`]); the depth is fixed.

use crate::types::FieldError;
use serde_json::Value;

/// JSON deeper than this is refused before it is parsed into a tree. serde_json stops at
/// 128 with an error that names no place; real payloads, schemas and filters stay far below.
pub const MAX_JSON_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body a template may render, in bytes of JSON (preview, and every delivery).
    pub max_rendered_bytes: usize,
    /// Largest batch of events, in bytes of event data (`data`, `context`, names).
    pub max_batch_bytes: usize,
}

impl Limits {
    /// Both default to the largest request body, so what one request may send is what one
    /// template may render and one batch may carry.
    pub fn from_body_limit(max_body_bytes: usize) -> Self {
        Self {
            max_rendered_bytes: max_body_bytes,
            max_batch_bytes: max_body_bytes,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::from_body_limit(1024 * 1024)
    }
}

/// The bytes `s` takes as a JSON string, quotes and escapes included.
pub fn json_string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..0x20 => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// The serialised size of `v` if it is at most `max` bytes, found by walking `v` only as far
/// as `max` reaches (so asking about a huge value costs no more than `max`).
pub fn json_len_within(v: &Value, max: usize) -> Option<usize> {
    let mut left = max;
    spend_value(v, &mut left)?;
    Some(max - left)
}

fn spend(left: &mut usize, bytes: usize) -> Option<()> {
    *left = left.checked_sub(bytes)?;
    Some(())
}

fn spend_value(v: &Value, left: &mut usize) -> Option<()> {
    match v {
        Value::Null => spend(left, 4),
        Value::Bool(b) => spend(left, if *b { 4 } else { 5 }),
        Value::Number(n) => spend(left, n.to_string().len()),
        Value::String(s) => spend(left, json_string_len(s)),
        Value::Array(items) => {
            spend(left, 2 + items.len().saturating_sub(1))?;
            items.iter().try_for_each(|x| spend_value(x, left))
        }
        Value::Object(map) => {
            spend(left, 2 + map.len().saturating_sub(1))?;
            map.iter().try_for_each(|(k, x)| {
                spend(left, json_string_len(k) + 1)?;
                spend_value(x, left)
            })
        }
    }
}

/// A batch carries at most `max` bytes of event data (`data`, `context`, type and tenant
/// names), counted before any schema check or routing runs; the walk stops at the limit.
pub fn check_batch_bytes(
    events: &[crate::types::events::PublishEvent],
    max: usize,
) -> crate::error::AppResult<()> {
    let mut left = max;
    for e in events {
        let names = e.event_type.len() + e.tenant.as_ref().map_or(0, String::len);
        let used = left
            .checked_sub(names)
            .and_then(|rest| json_len_within(&e.data, rest).map(|n| n + names))
            .and_then(|n| {
                let context = e.context.as_ref().unwrap_or(&Value::Null);
                Some(n + json_len_within(context, left - n)?)
            });
        match used {
            Some(n) => left -= n,
            None => {
                return Err(crate::error::AppError::invalid(
                    "events",
                    format!(
                        "the batch holds more than {max} bytes of event data; split it into smaller batches"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Screens JSON text before it is parsed, naming the place (`events[3].data.a`) under
/// `at`: refuses nesting deeper than [`MAX_JSON_DEPTH`] (a deep document would fail deep
/// inside serde_json, or a recursive walk after it, with a message that names no place),
/// and a NUL character (`\u0000`) in any string, which neither database stores as text
/// (Postgres refuses it) so that both answer the same 422. Only brackets outside strings
/// count; whether the text is valid JSON is left to the parser that runs next.
pub fn check_json_text(text: &[u8], at: &str) -> Result<(), FieldError> {
    enum Frame {
        Object { key: Option<String> },
        Array { index: usize },
    }
    let place = |stack: &[Frame]| {
        let mut path = at.to_string();
        for frame in stack {
            match frame {
                Frame::Object { key: Some(k) } if path.is_empty() => path.push_str(k),
                Frame::Object { key: Some(k) } => {
                    path.push('.');
                    path.push_str(k);
                }
                Frame::Object { key: None } => {}
                Frame::Array { index } => path.push_str(&format!("[{index}]")),
            }
        }
        path
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    if text[i] == b'\\' {
                        if text[i + 1..].starts_with(b"u0000") {
                            return Err(FieldError::new(
                                place(&stack),
                                "holds a NUL character (\\u0000), which cannot be stored",
                            ));
                        }
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                if expect_key && let Some(Frame::Object { key }) = stack.last_mut() {
                    let end = i.min(text.len());
                    *key = Some(String::from_utf8_lossy(&text[start..end]).into_owned());
                    expect_key = false;
                }
            }
            open @ (b'{' | b'[') => {
                if stack.len() >= MAX_JSON_DEPTH {
                    return Err(FieldError::new(
                        place(&stack),
                        format!("nests deeper than {MAX_JSON_DEPTH} levels"),
                    ));
                }
                stack.push(if open == b'{' {
                    Frame::Object { key: None }
                } else {
                    Frame::Array { index: 0 }
                });
                expect_key = open == b'{';
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { .. }) => expect_key = true,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// JSON typed into a form field: refused with its field named when it nests too deep or
/// does not parse; `None` when the field is blank.
pub fn parse_json_field(text: &str, field: &str) -> Result<Option<Value>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    check_json_text(text.as_bytes(), field)?;
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| FieldError::new(field, format!("is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_and_nul_are_found_outside_and_inside_strings_and_the_place_is_named() {
        assert!(check_json_text(nested(MAX_JSON_DEPTH).as_bytes(), "").is_ok());
        let deep = format!(
            r#"{{"events": [{{"x": "[[[{{"}}, {{"data": {{"a": {}}}}}]}}"#,
            nested(MAX_JSON_DEPTH)
        );
        let err = check_json_text(deep.as_bytes(), "").unwrap_err();
        assert!(
            err.path.starts_with("events[1].data.a[0][0]"),
            "{}",
            err.path
        );
        assert_eq!(err.message, "nests deeper than 64 levels");
        let escaped = r#"{"k\"[[[[": 1}"#;
        assert!(check_json_text(escaped.as_bytes(), "").is_ok());
        // A NUL is refused where it is; an escaped backslash before `u0000` is not one.
        let err = check_json_text(br#"{"data": {"a": [1, "x\u0000"]}}"#, "").unwrap_err();
        assert_eq!(err.path, "data.a[1]");
        assert!(err.message.contains("NUL"), "{}", err.message);
        assert!(check_json_text(br#"{"data": "\\u0000"}"#, "").is_ok());
        let err = parse_json_field(&nested(MAX_JSON_DEPTH + 1), "schema").unwrap_err();
        assert!(err.path.starts_with("schema["), "{}", err.path);
        assert_eq!(parse_json_field("  ", "schema").unwrap(), None);
        assert!(parse_json_field("{", "schema").is_err());
    }

    #[test]
    fn sizes_are_exact_and_walks_stop_at_the_limit() {
        let v = json!({"a": "x\"\u{1}", "b": [1, true, null], "c": {"d": -2.5}});
        let exact = serde_json::to_string(&v).unwrap().len();
        assert_eq!(json_len_within(&v, exact), Some(exact));
        assert_eq!(json_len_within(&v, exact - 1), None);
    }
}
