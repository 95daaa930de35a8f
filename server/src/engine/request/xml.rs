//! JSON as XML, for endpoints with `format: xml`, written with quick-xml.
//!
//! - An object is an element per key; an array repeats `<item>`; `null` is an empty element
//!   with `nil="true"`; numbers and booleans are their JSON text.
//! - **Names.** A key is the element's name when it is an XML name (XML 1.0, without `:`).
//!   Otherwise each character that may not stand where it is becomes `_xHHHH_` (its code
//!   point in hex, as .NET's `XmlConvert.EncodeName` and SQL Server do): `a b` is
//!   `a_x0020_b`, `1st` is `_x0031_st`, `²` is `_x00B2_`. The `_` of a literal `_x` is
//!   written `_x005F_`, so two keys never share a name, and the empty key is `_x_`.
//! - **Text.** Characters XML 1.0 cannot carry at all (control characters other than tab,
//!   newline and carriage return; U+FFFE, U+FFFF) are refused with an error naming where
//!   they are, instead of being dropped.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;

#[derive(Debug, PartialEq, Eq)]
pub enum XmlError {
    /// The document passed its byte limit (it is never built whole).
    TooLarge,
    /// A string holds a character XML 1.0 cannot carry.
    Unwritable { at: String, ch: char },
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmlError::TooLarge => write!(f, "the XML body is larger than its limit"),
            XmlError::Unwritable { at, ch } => write!(
                f,
                "{at} holds U+{:04X}, which XML 1.0 cannot carry; send it as JSON or leave it out",
                *ch as u32
            ),
        }
    }
}

/// `value` as a document whose root element is `root`, at most `max_bytes` long.
pub fn document(value: &Value, root: &str, max_bytes: usize) -> Result<Vec<u8>, XmlError> {
    let mut w = start();
    element(&mut w, root, value, root, max_bytes)?;
    Ok(w.into_inner())
}

/// Several values as one document: `<events><event>…</event>…</events>`.
pub fn events(values: &[Value], max_bytes: usize) -> Result<Vec<u8>, XmlError> {
    let mut w = start();
    emit(&mut w, Event::Start(BytesStart::new("events")));
    for (i, v) in values.iter().enumerate() {
        element(&mut w, "event", v, &format!("events[{i}]"), max_bytes)?;
    }
    emit(&mut w, Event::End(BytesEnd::new("events")));
    Ok(w.into_inner())
}

/// Is every string in `value` writable (see the module's rule on text)?
pub fn check(value: &Value, at: &str) -> Result<(), XmlError> {
    match value {
        Value::String(s) => text_ok(s, at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check(v, &format!("{at}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| check(v, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

fn start() -> Writer<Vec<u8>> {
    let mut w = Writer::new(Vec::new());
    emit(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
    );
    w
}

/// Writing into memory cannot fail.
fn emit(w: &mut Writer<Vec<u8>>, event: Event<'_>) {
    let _ = w.write_event(event);
}

fn element(
    w: &mut Writer<Vec<u8>>,
    key: &str,
    value: &Value,
    at: &str,
    max: usize,
) -> Result<(), XmlError> {
    let name = encode_name(key);
    match value {
        Value::Null => {
            let mut empty = BytesStart::new(name.as_str());
            empty.push_attribute(("nil", "true"));
            emit(w, Event::Empty(empty));
        }
        Value::Object(map) => {
            emit(w, Event::Start(BytesStart::new(name.as_str())));
            for (k, v) in map {
                element(w, k, v, &format!("{at}.{k}"), max)?;
            }
            emit(w, Event::End(BytesEnd::new(name.as_str())));
        }
        Value::Array(items) => {
            emit(w, Event::Start(BytesStart::new(name.as_str())));
            for (i, v) in items.iter().enumerate() {
                element(w, "item", v, &format!("{at}[{i}]"), max)?;
            }
            emit(w, Event::End(BytesEnd::new(name.as_str())));
        }
        scalar => {
            let text = match scalar {
                Value::String(s) => {
                    text_ok(s, at)?;
                    std::borrow::Cow::Borrowed(s.as_str())
                }
                other => std::borrow::Cow::Owned(other.to_string()),
            };
            emit(w, Event::Start(BytesStart::new(name.as_str())));
            emit(w, Event::Text(BytesText::new(&text)));
            emit(w, Event::End(BytesEnd::new(name.as_str())));
        }
    }
    if w.get_ref().len() > max {
        return Err(XmlError::TooLarge);
    }
    Ok(())
}

fn text_ok(s: &str, at: &str) -> Result<(), XmlError> {
    match s.chars().find(|&c| !is_xml_char(c)) {
        Some(ch) => Err(XmlError::Unwritable {
            at: at.to_owned(),
            ch,
        }),
        None => Ok(()),
    }
}

/// XML 1.0 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 `NameStartChar`, without `:` (a namespace separator to every XML parser).
fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 `NameChar`, without `:`.
fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// The element name for `key` (see the module's rule on names).
pub fn encode_name(key: &str) -> String {
    if key.is_empty() {
        return "_x_".to_owned();
    }
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len());
    for (i, &c) in chars.iter().enumerate() {
        let allowed = if i == 0 {
            is_name_start(c)
        } else {
            is_name_char(c)
        };
        let starts_escape = c == '_' && chars.get(i + 1) == Some(&'x');
        if allowed && !starts_escape {
            out.push(c);
        } else {
            out.push_str(&format!("_x{:04X}_", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: &Value) -> String {
        String::from_utf8(document(v, "event", usize::MAX).unwrap()).unwrap()
    }

    /// Every element name and text in `xml`, read back by quick-xml's reader (which also
    /// proves the document well-formed).
    fn read_back(xml: &str) -> Vec<String> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = Vec::new();
        let mut text = String::new();
        loop {
            let event = reader.read_event().expect("well-formed XML");
            match &event {
                Event::Text(t) => text.push_str(&t.decode().unwrap()),
                Event::GeneralRef(r) => text.push_str(match &**r {
                    b"lt" => "<",
                    b"gt" => ">",
                    b"amp" => "&",
                    b"quot" => "\"",
                    b"apos" => "'",
                    other => panic!("unexpected entity {other:?}"),
                }),
                _ if !text.is_empty() => out.push(std::mem::take(&mut text)),
                _ => {}
            }
            match event {
                Event::Start(e) | Event::Empty(e) => {
                    out.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap())
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn json_becomes_well_formed_escaped_xml() {
        let x = text(
            &json!({"id": "evt_1", "data": {"total": 12.5, "note": "a<b & \"c\"",
            "items": [{"sku": "A"}, 2], "gone": null, "1st": true}}),
        );
        assert!(
            x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><event>"),
            "{x}"
        );
        assert!(x.ends_with("</event>"), "{x}");
        for piece in [
            "<id>evt_1</id>",
            "<total>12.5</total>",
            "<items><item><sku>A</sku></item><item>2</item></items>",
            "<gone nil=\"true\"/>",
            "<_x0031_st>true</_x0031_st>",
        ] {
            assert!(x.contains(piece), "{piece} in {x}");
        }
        assert!(read_back(&x).contains(&"a<b & \"c\"".to_string()));
    }

    #[test]
    fn every_key_gets_a_valid_name_and_no_two_share_one() {
        let keys = [
            "a b",
            "a_b",
            "a_x0020_b",
            "²",
            "x²",
            "1st",
            "_1st",
            "",
            "_x_",
            "a:b",
            "xml",
            "é",
            "a\u{1}b",
            "🙂",
            "-",
            ".",
            "_x",
        ];
        let names: Vec<String> = keys.iter().map(|k| encode_name(k)).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names[0], "a_x0020_b");
        assert_eq!(names[1], "a_b");
        assert_eq!(names[2], "a_x005F_x0020_b");
        assert_eq!(names[3], "_x00B2_");
        assert_eq!(names[9], "a_x003A_b");
        let object: serde_json::Map<String, Value> =
            keys.iter().map(|k| (k.to_string(), json!(1))).collect();
        let x = text(&Value::Object(object));
        let read = read_back(&x);
        for n in &names {
            assert!(read.contains(n), "{n} in {x}");
        }
    }

    #[test]
    fn characters_xml_cannot_carry_are_refused_with_their_place() {
        let v = json!({"data": {"lines": ["ok", "bell\u{7}"]}});
        assert_eq!(
            document(&v, "event", usize::MAX),
            Err(XmlError::Unwritable {
                at: "event.data.lines[1]".into(),
                ch: '\u{7}'
            })
        );
        assert!(check(&v, "event").is_err());
        let fine = json!({"t": "tab\tnewline\ncr\r and \u{1F642}"});
        assert!(check(&fine, "event").is_ok());
        assert!(read_back(&text(&fine)).contains(&"tab\tnewline\ncr\r and \u{1F642}".to_string()));
    }

    #[test]
    fn documents_stop_at_the_limit() {
        let v = json!({"items": vec![1; 1000], "text": "<&>".repeat(100)});
        let whole = document(&v, "event", usize::MAX).unwrap();
        assert_eq!(document(&v, "event", whole.len()), Ok(whole.clone()));
        assert_eq!(
            document(&v, "event", whole.len() - 1),
            Err(XmlError::TooLarge)
        );
        let json_size = serde_json::to_string(&v).unwrap().len();
        assert!(whole.len() > 3 * json_size, "XML outgrows its JSON");
    }

    #[test]
    fn batches_are_events_in_one_document() {
        let x = events(
            &[json!({"id": "evt_1"}), json!({"id": "evt_2"})],
            usize::MAX,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(x).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><events><event><id>evt_1</id></event><event><id>evt_2</id></event></events>"
        );
    }
}
