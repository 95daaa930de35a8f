//! Idempotency keys: whose a key is (each API key, user and Hookline itself has its own)
//! and which request it stands for (a fingerprint), so that a key sent again answers with
//! the first event only when it comes from the same caller with the same request.

use super::super::Actor;
use super::super::access::actor::ActorKind;
use crate::error::AppError;
use crate::types::events::PublishEvent;
use serde_json::{Value, json};

/// An idempotency key as stored: whose it is, the request it came with, and where it was
/// sent (for the error that says it was reused).
pub(super) struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
    pub path: String,
    /// Until when the key answers with its first event.
    pub expires_at: i64,
}

/// Whose idempotency keys these are: each API key, each dashboard user and Hookline itself
/// has its own, so one caller's key can never answer with another caller's event.
pub(super) fn scope(actor: &Actor) -> String {
    let id = actor.id.as_deref().unwrap_or("");
    match actor.kind {
        ActorKind::ApiKey => format!("key:{id}"),
        ActorKind::User => format!("user:{id}"),
        ActorKind::Cli => "cli".into(),
        ActorKind::System => "hookline".into(),
        ActorKind::Source => format!("source:{id}"),
        ActorKind::PortalLink => format!("portal:{id}"),
    }
}

/// SHA-256 (hex) of the request an idempotency key stands for: event type, data, tenant and
/// context, with object keys sorted so that the same JSON in another key order is the same
/// request. A missing context is the empty object it defaults to.
pub(super) fn fingerprint(input: &PublishEvent, context: &Value) -> String {
    use sha2::{Digest, Sha256};
    // The canonical form of `{"context", "data", "event_type", "tenant"}` (keys in order),
    // fed to the hash as it is written: a large payload is neither copied nor rendered whole.
    let mut hash = Sha256::new();
    let mut field = |name: &str, v: &Value, first: bool| {
        hash.update(if first { "{\"" } else { ",\"" });
        hash.update(name);
        hash.update("\":");
        write_canonical(v, &mut |s: &[u8]| hash.update(s));
    };
    field("context", context, true);
    field("data", &input.data, false);
    field(
        "event_type",
        &Value::String(input.event_type.clone()),
        false,
    );
    field("tenant", &json!(input.tenant), false);
    hash.update("}");
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn write_canonical(v: &Value, out: &mut impl FnMut(&[u8])) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out(b"{");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out(b",");
                }
                write_scalar(&Value::String(k.clone()), out);
                out(b":");
                write_canonical(&map[k], out);
            }
            out(b"}");
        }
        Value::Array(items) => {
            out(b"[");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out(b",");
                }
                write_canonical(x, out);
            }
            out(b"]");
        }
        scalar => write_scalar(scalar, out),
    }
}

/// A scalar as JSON, written straight into `out` (a long string is not rendered apart).
fn write_scalar(v: &Value, out: &mut impl FnMut(&[u8])) {
    struct Feed<'a, F: FnMut(&[u8])>(&'a mut F);
    impl<F: FnMut(&[u8])> std::io::Write for Feed<'_, F> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            (self.0)(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let _ = serde_json::to_writer(Feed(out), v);
}

impl IdempotencyKey {
    /// The answer to this key sent again with another request.
    pub(super) fn reused(&self) -> AppError {
        AppError::IdempotencyKeyReused {
            path: self.path.clone(),
            message: format!(
                "'{}' was already used in the last 24 h for a different request \
                 (another event_type, data, tenant or context); send a new key for a new \
                 event, or repeat the first request unchanged to get its answer",
                self.key
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: Value, tenant: Option<&str>) -> PublishEvent {
        PublishEvent {
            event_type: "order.created".into(),
            data,
            tenant: tenant.map(str::to_owned),
            context: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn fingerprints_hash_the_canonical_request_as_before() {
        // Stored fingerprints stay valid: the same bytes as the canonical JSON of the whole
        // request object, written out at once.
        let input = event(
            json!({"b": "x\"\n", "a": [1.5, null, {"z": true, "y": 2}]}),
            Some("acme"),
        );
        let context = json!({"ip": "10.0.0.1"});
        let whole = json!({"event_type": input.event_type, "data": input.data,
                           "tenant": input.tenant, "context": context});
        let mut canonical = Vec::new();
        write_canonical(&whole, &mut |s: &[u8]| canonical.extend_from_slice(s));
        use sha2::{Digest, Sha256};
        let expected: String = Sha256::digest(&canonical)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(fingerprint(&input, &context), expected);
        assert!(String::from_utf8(canonical).unwrap().starts_with(
            r#"{"context":{"ip":"10.0.0.1"},"data":{"a":[1.5,null,{"y":2,"z":true}]"#
        ));
    }

    #[test]
    fn fingerprints_ignore_key_order_and_see_every_part() {
        let empty = json!({});
        let a = fingerprint(
            &event(json!({"a": 1, "b": [1, {"y": 2, "x": 1}]}), None),
            &empty,
        );
        let same = fingerprint(
            &event(json!({"b": [1, {"x": 1, "y": 2}], "a": 1}), None),
            &empty,
        );
        assert_eq!(a, same);
        assert_eq!(a.len(), 64);
        let others = [
            fingerprint(
                &event(json!({"a": 2, "b": [1, {"y": 2, "x": 1}]}), None),
                &empty,
            ),
            fingerprint(
                &event(json!({"a": 1, "b": [1, {"y": 2, "x": 1}]}), Some("t")),
                &empty,
            ),
            fingerprint(
                &event(json!({"a": 1, "b": [1, {"y": 2, "x": 1}]}), None),
                &json!({"r": 1}),
            ),
        ];
        assert!(others.iter().all(|o| *o != a));
    }

    #[test]
    fn every_caller_has_its_own_keys() {
        let key = Actor::api_key("key_1", "orders", false);
        let other = Actor::api_key("key_2", "orders", false);
        assert_ne!(scope(&key), scope(&other));
        assert_ne!(scope(&Actor::system()), scope(&Actor::cli()));
    }
}
