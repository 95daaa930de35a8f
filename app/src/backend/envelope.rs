//! The envelope: what an event looks like to its receivers (unless an endpoint has a
//! template), `{id, event_time, event_type, current_context, data}`. Publishing builds it
//! once per event; previews and template checks build samples of it.

use crate::time_fmt::Timestamp;
use serde_json::Value;

/// The envelope every receiver gets (unless its endpoint has a template). Takes `data` by
/// value: a payload of several megabytes is moved into it, not copied.
pub fn envelope(id: &str, at: i64, event_type: &str, context: Value, data: Value) -> Value {
    let mut m = serde_json::Map::with_capacity(5);
    m.insert("id".into(), Value::String(id.to_owned()));
    m.insert("event_time".into(), Value::String(Timestamp(at).rfc3339()));
    m.insert("event_type".into(), Value::String(event_type.to_owned()));
    m.insert("current_context".into(), context);
    m.insert("data".into(), data);
    Value::Object(m)
}
