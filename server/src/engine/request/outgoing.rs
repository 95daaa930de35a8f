//! What a request carries, before it is signed: each event shaped for its endpoint (with
//! the event type's sensitive fields sent, masked or removed as the endpoint chose), the
//! body of one event or of a batch split by bytes, and, when the body still carries
//! sensitive values, a masked copy for the attempt log (which only admins see unmasked).

use crate::engine::outbound::http::Failure;
use crate::engine::outcome::ErrorClass;
use crate::engine::request;
use crate::engine::store::Claimed;
use crate::engine::target::Target;
use app::backend::catalog::sensitive::Redact;
use app::types::endpoints::{BodyFormat, SensitiveData};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One request, ready to sign and send: a single event or a batch.
pub struct Outgoing {
    /// `webhook-id`: the event id, or for a batch an id derived from its deliveries (the
    /// same when the same batch is retried).
    pub msg_id: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub batch_size: Option<usize>,
    /// `body` with every sensitive value masked, when it carries any.
    pub masked_body: Option<Vec<u8>>,
    /// The sensitive paths, by event type, that were masked or removed (for the attempt
    /// log, which withholds the body from non-admins when paths were added since).
    pub masked_for: BTreeMap<String, Vec<String>>,
    /// The `traceparent` of the publish that stored its (first) event, when traces are on.
    pub trace: Option<Arc<str>>,
}

pub type Prepared = Result<Outgoing, Failure>;

/// One event as its endpoint gets it, and its masked form when the two differ.
pub struct Shaped {
    pub sent: Value,
    pub masked: Option<Value>,
    /// Its event type and that type's sensitive paths, when it has any.
    pub masked_for: Option<(String, Vec<String>)>,
}

pub fn parse_envelope(envelope: Option<&str>) -> Result<Value, Failure> {
    envelope.and_then(|e| serde_json::from_str(e).ok()).ok_or((
        ErrorClass::Request,
        "the event's envelope is missing".to_string(),
    ))
}

/// Applies the endpoint's choice for sensitive fields, then its template (a template can
/// only place what is left). Routing saw the real values already.
pub fn shape(target: &Target, envelope: Value, max_bytes: usize) -> Result<Shaped, Failure> {
    // For XML the shaped event is checked here, so that one event XML cannot carry fails
    // alone and never its batch.
    let template = |v: Value| {
        let shaped = request::shape(&target.endpoint, v, max_bytes)
            .map_err(|e| (ErrorClass::Request, format!("template: {e}")))?;
        if target.endpoint.settings.format == BodyFormat::Xml {
            crate::engine::request::xml::check(&shaped, "event")
                .map_err(|e| (ErrorClass::Request, e.to_string()))?;
        }
        Ok(shaped)
    };
    let sensitive = envelope
        .get("event_type")
        .and_then(Value::as_str)
        .and_then(|t| target.sensitive.get(t).map(|p| (t.to_owned(), p.clone())));
    let Some((event_type, paths)) = sensitive else {
        return Ok(Shaped {
            sent: template(envelope)?,
            masked: None,
            masked_for: None,
        });
    };
    let masked_for = Some((event_type, paths.names()));
    let mut envelope = envelope;
    let how = match target.endpoint.settings.sensitive_data {
        SensitiveData::Send => {
            let mut masked = envelope.clone();
            let masked = paths
                .redact(&mut masked, Redact::Mask)
                .then(|| template(masked))
                .transpose()?;
            return Ok(Shaped {
                sent: template(envelope)?,
                masked,
                masked_for,
            });
        }
        SensitiveData::Mask => Redact::Mask,
        SensitiveData::Remove => Redact::Remove,
    };
    paths.redact(&mut envelope, how);
    Ok(Shaped {
        sent: template(envelope)?,
        masked: None,
        masked_for,
    })
}

/// The request for one event: its webhook-id is the event id, the same on every retry.
pub fn single(event_id: &str, envelope: Value, target: &Target, max_bytes: usize) -> Prepared {
    let shaped = shape(target, envelope, max_bytes)?;
    let encode = |v: &Value| {
        request::encode(&target.endpoint, v, max_bytes)
            .map_err(|e| (ErrorClass::Request, format!("template: {e}")))
    };
    let (body, content_type) = encode(&shaped.sent)?;
    let masked_body = match &shaped.masked {
        Some(m) => Some(encode(m)?.0),
        None => None,
    };
    Ok(Outgoing {
        msg_id: event_id.to_owned(),
        body,
        content_type,
        batch_size: None,
        masked_body,
        masked_for: shaped.masked_for.into_iter().collect(),
        trace: None,
    })
}

/// Requests for a batch's shaped events: in order, split into runs whose bodies together
/// stay within `cap` bytes (an event larger than the cap goes alone).
pub fn batches(
    ds: Vec<Claimed>,
    shaped: Vec<Shaped>,
    target: &Target,
    cap: usize,
) -> Vec<(Vec<Claimed>, Prepared)> {
    split_by_bytes(ds, shaped, cap)
        .into_iter()
        .map(|(ds, shaped)| {
            let prepared = batch(&ds, shaped, target);
            (ds, prepared)
        })
        .collect()
}

/// One batch request from its shaped events.
fn batch(ds: &[Claimed], shaped: Vec<Shaped>, target: &Target) -> Prepared {
    let body = |values: Vec<Value>| {
        request::batch_body(&target.endpoint, &values).map_err(|e| (ErrorClass::Request, e))
    };
    let (body_sent, content_type) = body(shaped.iter().map(|s| s.sent.clone()).collect())?;
    let masked_body = if shaped.iter().any(|s| s.masked.is_some()) {
        let masked = shaped
            .iter()
            .map(|s| s.masked.clone().unwrap_or_else(|| s.sent.clone()));
        Some(body(masked.collect())?.0)
    } else {
        None
    };
    Ok(Outgoing {
        msg_id: batch_id(ds),
        body: body_sent,
        content_type,
        batch_size: Some(ds.len()),
        masked_body,
        masked_for: shaped.into_iter().filter_map(|s| s.masked_for).collect(),
        trace: None,
    })
}

fn split_by_bytes(
    ds: Vec<Claimed>,
    shaped: Vec<Shaped>,
    cap: usize,
) -> Vec<(Vec<Claimed>, Vec<Shaped>)> {
    let mut out: Vec<(Vec<Claimed>, Vec<Shaped>)> = Vec::new();
    let mut size = 0;
    for (d, v) in ds.into_iter().zip(shaped) {
        let len = serde_json::to_vec(&v.sent).map_or(0, |b| b.len()) + 1;
        match out.last_mut() {
            Some((group, values)) if size + len <= cap => {
                group.push(d);
                values.push(v);
                size += len;
            }
            _ => {
                out.push((vec![d], vec![v]));
                size = len;
            }
        }
    }
    out
}

/// A batch's webhook-id: derived from its deliveries, so a retry of the same batch carries
/// the same id and receivers can deduplicate it.
fn batch_id(ds: &[Claimed]) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<&str> = ds.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    let digest = Sha256::digest(ids.join(",").as_bytes());
    let hex: String = digest[..13].iter().map(|b| format!("{b:02x}")).collect();
    format!("bat_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::backend::catalog::sensitive::SensitivePaths;
    use app::backend::endpoints::StoredEndpoint;
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn claimed(n: usize) -> Claimed {
        Claimed {
            id: format!("dlv_{n}"),
            event_id: format!("evt_{n}"),
            endpoint_id: "ep".into(),
            attempts: 0,
            lease_token: "lt".into(),
            test_fire: false,
        }
    }

    fn plain(v: Value) -> Shaped {
        Shaped {
            sent: v,
            masked: None,
            masked_for: None,
        }
    }

    fn target(extra: Value) -> Target {
        let mut v = json!({"name": "n", "url": "https://x.example/"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let endpoint = StoredEndpoint {
            id: "ep_1".into(),
            settings: serde_json::from_value(v).unwrap(),
            secrets: Vec::new(),
        };
        let paths = SensitivePaths::parse(&["data.card".to_string()], "f").unwrap();
        let by_type = HashMap::from([("order.paid".to_string(), Arc::new(paths))]);
        Target::build(&endpoint)
            .unwrap()
            .with_sensitive(Arc::new(by_type))
    }

    fn order(card: &str) -> Value {
        json!({"id": "evt_1", "event_type": "order.paid", "data": {"card": card, "total": 5}})
    }

    #[test]
    fn batches_split_by_bytes_in_order() {
        let ds: Vec<Claimed> = (0..5).map(claimed).collect();
        let big = json!({"x": "y".repeat(100)});
        let shaped = vec![
            plain(json!(1)),
            plain(json!(2)),
            plain(big.clone()),
            plain(json!(3)),
            plain(json!(4)),
        ];
        let groups = split_by_bytes(ds, shaped, 50);
        let ids: Vec<Vec<String>> = groups
            .iter()
            .map(|(g, _)| g.iter().map(|d| d.id.clone()).collect())
            .collect();
        assert_eq!(
            ids,
            [
                vec!["dlv_0", "dlv_1"],
                vec!["dlv_2"],
                vec!["dlv_3", "dlv_4"]
            ]
        );
        assert_eq!(groups[1].1[0].sent, big, "an event over the cap goes alone");
    }

    #[test]
    fn sensitive_fields_are_sent_masked_or_removed_as_the_endpoint_chose() {
        let send = single("evt_1", order("4242"), &target(json!({})), 1 << 20).unwrap();
        let sent: Value = serde_json::from_slice(&send.body).unwrap();
        assert_eq!(sent["data"]["card"], "4242");
        let logged: Value = serde_json::from_slice(&send.masked_body.unwrap()).unwrap();
        assert_eq!(logged["data"]["card"], "***");
        assert_eq!(logged["data"]["total"], 5);
        assert_eq!(send.masked_for["order.paid"], ["data.card"]);

        let mask = single(
            "evt_1",
            order("4242"),
            &target(json!({"sensitive_data": "mask"})),
            1 << 20,
        )
        .unwrap();
        let sent: Value = serde_json::from_slice(&mask.body).unwrap();
        assert_eq!(sent["data"]["card"], "***");
        assert!(mask.masked_body.is_none(), "what was sent is safe to show");

        let remove = target(json!({"sensitive_data": "remove", "format": "xml",
            "template": {"card": "{{ data.card }}", "total": "{{ data.total }}"}}));
        let failed = single("evt_1", order("4242"), &remove, 1 << 20)
            .err()
            .unwrap();
        assert!(failed.1.contains("data.card"), "{}", failed.1);
        let remove = target(json!({"sensitive_data": "remove",
            "template": {"total": "{{ data.total }}"}}));
        let sent = single("evt_1", order("4242"), &remove, 1 << 20).unwrap();
        assert_eq!(String::from_utf8(sent.body).unwrap(), r#"{"total":5}"#);
    }

    #[test]
    fn an_event_xml_cannot_carry_fails_alone_and_says_where() {
        let t = target(json!({"format": "xml"}));
        let bell =
            json!({"id": "evt_1", "event_type": "order.other", "data": {"note": "ding\u{7}"}});
        let failed = single("evt_1", bell.clone(), &t, 1 << 20).err().unwrap();
        assert!(
            failed.1.contains("event.data.note holds U+0007"),
            "{}",
            failed.1
        );
        assert!(
            shape(&t, bell, 1 << 20).is_err(),
            "refused while shaping a batch too"
        );
    }

    #[test]
    fn a_batch_logs_masked_only_where_events_carry_sensitive_values() {
        let t = target(json!({"batch": {"max_events": 10, "max_wait": "1s"}}));
        let other =
            json!({"id": "evt_2", "event_type": "order.other", "data": {"card": "visible"}});
        let shaped = vec![
            shape(&t, order("4242"), 1 << 20).unwrap(),
            shape(&t, other, 1 << 20).unwrap(),
        ];
        let out = batches(vec![claimed(1), claimed(2)], shaped, &t, 1 << 20);
        assert_eq!(out.len(), 1);
        let o = out[0].1.as_ref().ok().unwrap();
        let sent: Value = serde_json::from_slice(&o.body).unwrap();
        assert_eq!(sent[0]["data"]["card"], "4242");
        let logged: Value = serde_json::from_slice(o.masked_body.as_ref().unwrap()).unwrap();
        assert_eq!(logged[0]["data"]["card"], "***");
        assert_eq!(
            logged[1]["data"]["card"], "visible",
            "not sensitive in its type"
        );
        assert_eq!(o.masked_for.len(), 1);
    }
}
