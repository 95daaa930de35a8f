//! The path language that filters, templates and sensitive fields share:
//! `data.items[*].sku` is keys separated by dots, `[n]` for an array index and `[*]` for
//! every element.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
    Each,
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
