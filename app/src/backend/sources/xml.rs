//! XML request bodies, read as JSON by one rule (with `quick-xml`):
//! - the document is an object with one key, the root element's name;
//! - an element with neither attributes nor child elements is its text (`""` if empty);
//! - otherwise it is an object: each attribute as `"@name"`, each child element under its
//!   name (an array when the name repeats), and its text, if any, as `"#text"`;
//! - text is trimmed; character and the five predefined entity references are resolved;
//!   CDATA is text.
//!
//! A DOCTYPE is refused (no entity of a partner's definition is ever expanded), as are
//! unknown entities, elements nested deeper than the JSON depth limit, and anything not
//! well-formed: each with the reason.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

/// How deep elements may nest (the same bound as JSON bodies).
const MAX_DEPTH: usize = 64;

struct Open {
    name: String,
    fields: Map<String, Value>,
    has_attributes: bool,
    has_children: bool,
    text: String,
}

fn open(e: &BytesStart) -> Result<Open, String> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut fields = Map::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("attribute in <{name}>: {err}"))?;
        let key = format!("@{}", String::from_utf8_lossy(a.key.as_ref()));
        let value = a
            .unescape_value()
            .map_err(|err| format!("attribute {key} in <{name}>: {err}"))?;
        fields.insert(key, Value::String(value.into_owned()));
    }
    Ok(Open {
        has_attributes: !fields.is_empty(),
        name,
        fields,
        has_children: false,
        text: String::new(),
    })
}

fn close(o: Open) -> Value {
    let text = o.text.trim().to_owned();
    if !o.has_attributes && !o.has_children {
        return Value::String(text);
    }
    let mut fields = o.fields;
    if !text.is_empty() {
        fields.insert("#text".into(), Value::String(text));
    }
    Value::Object(fields)
}

fn add_child(parent: &mut Open, name: String, value: Value) {
    parent.has_children = true;
    match parent.fields.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            parent.fields.insert(name, value);
        }
    }
}

/// Reads an XML body as JSON by the rule above.
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Value> = None;
    let mut buf = Vec::new();
    let bad =
        |e: quick_xml::Error, at: u64| format!("body is not well-formed XML at byte {at}: {e}");
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event_into(&mut buf).map_err(|e| bad(e, at))?;
        match event {
            Event::Start(e) => {
                if root.is_some() {
                    return Err("body has more than one root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("body nests elements deeper than {MAX_DEPTH}"));
                }
                stack.push(open(&e)?);
            }
            Event::Empty(e) => {
                let o = open(&e)?;
                let name = o.name.clone();
                let value = close(o);
                match stack.last_mut() {
                    Some(parent) => add_child(parent, name, value),
                    None if root.is_none() => {
                        root = Some(Value::Object(Map::from_iter([(name, value)])))
                    }
                    None => return Err("body has more than one root element".into()),
                }
            }
            Event::End(_) => {
                let o = stack
                    .pop()
                    .ok_or("body closes an element it never opened")?;
                let name = o.name.clone();
                let value = close(o);
                match stack.last_mut() {
                    Some(parent) => add_child(parent, name, value),
                    None => root = Some(Value::Object(Map::from_iter([(name, value)]))),
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| format!("body text: {e}"))?;
                match stack.last_mut() {
                    Some(o) => o.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("body has text outside its root element".into()),
                }
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| format!("body CDATA: {e}"))?;
                if let Some(o) = stack.last_mut() {
                    o.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| format!("body character reference: {e}"))?
                        .map(String::from)
                } else {
                    let name = String::from_utf8_lossy(&r).into_owned();
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                };
                let text = resolved.ok_or_else(|| {
                    format!(
                        "body refers to the unknown entity &{};",
                        String::from_utf8_lossy(&r)
                    )
                })?;
                if let Some(o) = stack.last_mut() {
                    o.text.push_str(&text);
                }
            }
            Event::DocType(_) => {
                return Err("body has a DOCTYPE, which is not accepted".into());
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(format!(
            "body ends inside <{}>",
            stack[stack.len() - 1].name
        ));
    }
    root.ok_or_else(|| "body has no root element".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elements_attributes_repeats_and_text_follow_the_rule() {
        let v = to_json(
            br#"<?xml version="1.0"?>
            <order id="o-1" currency="EUR">
              <total>12.50</total>
              <item sku="a">First &amp; best</item>
              <item sku="b"/>
              <note><![CDATA[<fragile>]]></note>
              <empty/>
              caf&#xE9;
            </order>"#,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"order": {
                "@id": "o-1", "@currency": "EUR",
                "total": "12.50",
                "item": [{"@sku": "a", "#text": "First & best"}, {"@sku": "b"}],
                "note": "<fragile>",
                "empty": "",
                "#text": "café"
            }})
        );
    }

    #[test]
    fn doctypes_unknown_entities_and_broken_documents_are_refused() {
        let lol = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><a>&lol;</a>"#;
        assert!(to_json(lol).unwrap_err().contains("DOCTYPE"));
        assert!(to_json(b"<a>&nope;</a>").unwrap_err().contains("&nope;"));
        assert!(to_json(b"<a><b></a>").is_err());
        assert!(
            to_json(b"<a></a><b/>")
                .unwrap_err()
                .contains("more than one root")
        );
        assert!(to_json(b"<a>").unwrap_err().contains("ends inside <a>"));
        assert!(to_json(b"").unwrap_err().contains("no root"));
        let deep = format!("{}{}", "<a>".repeat(65), "</a>".repeat(65));
        assert!(to_json(deep.as_bytes()).unwrap_err().contains("deeper"));
    }
}
