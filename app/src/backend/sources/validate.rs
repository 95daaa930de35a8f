//! A source's settings, checked before they are stored: every problem with its path.

use crate::backend::cidr::Cidr;
use crate::types::FieldError;
use crate::types::endpoints::MASK;
use crate::types::sources::{SourceInput, Verification};
use serde_json::Value;

/// Every problem with a source's settings, each with its path.
pub(super) fn validate(s: &SourceInput, known_type: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    // The same tenant rule as endpoints and events: a source's events carry it.
    if let Some(t) = &s.tenant
        && let Err(m) = crate::backend::domain::check_tenant(t)
    {
        errors.push(FieldError::new("tenant", m));
    }
    if s.name.trim().is_empty() {
        errors.push(FieldError::new("name", "is required"));
    }
    match crate::backend::domain::EventTypeName::parse_user_defined(&s.event_type) {
        Err(_) if s.event_type.starts_with("hookline") => errors.push(FieldError::new(
            "event_type",
            "the hookline.* names are Hookline's own events",
        )),
        Err(_) => errors.push(FieldError::new("event_type", "is not an event type name")),
        Ok(_) if !known_type(&s.event_type) => errors.push(FieldError::new(
            "event_type",
            format!("no event type {} (create it first)", s.event_type),
        )),
        Ok(_) => {}
    }
    if let Some(from) = &s.event_type_from {
        let places = [&from.header, &from.query, &from.json_path]
            .iter()
            .filter(|p| p.as_deref().is_some_and(|p| !p.trim().is_empty()))
            .count();
        if places != 1 {
            errors.push(FieldError::new(
                "event_type_from",
                "name exactly one of header, query or json_path",
            ));
        }
        for (value, target) in &from.map {
            if !known_type(target) {
                errors.push(FieldError::new(
                    format!("event_type_from.map.{value}"),
                    format!("no event type {target}"),
                ));
            }
        }
    }
    if let Some(n) = s.max_body_bytes
        && !(1..=crate::types::sources::MAX_SOURCE_BODY_BYTES).contains(&n)
    {
        errors.push(FieldError::new(
            "max_body_bytes",
            format!(
                "must be between 1 and {} (10 MiB)",
                crate::types::sources::MAX_SOURCE_BODY_BYTES
            ),
        ));
    }
    if let Some(d) = &s.dedup {
        if d.header.is_some() && d.json_path.is_some() {
            errors.push(FieldError::new(
                "dedup",
                "name at most one of header or json_path",
            ));
        }
        use crate::types::sources::MAX_DEDUP_WINDOW_SECS;
        if let Some(w) = d.window_secs
            && !(60..=MAX_DEDUP_WINDOW_SECS).contains(&w)
        {
            errors.push(FieldError::new(
                "dedup.window_secs",
                format!("must be between 60 and {MAX_DEDUP_WINDOW_SECS} (30 days)"),
            ));
        }
    }
    use crate::types::sources::MAX_SOURCE_RATE_PER_SECOND;
    if let Some(n) = s.rate_limit_per_second
        && !(1..=MAX_SOURCE_RATE_PER_SECOND).contains(&n)
    {
        errors.push(FieldError::new(
            "rate_limit_per_second",
            format!("must be between 1 and {MAX_SOURCE_RATE_PER_SECOND}"),
        ));
    }
    if let Some(r) = &s.response {
        if !(200..300).contains(&r.status) {
            errors.push(FieldError::new("response.status", "must be a 2xx status"));
        }
        if let Some(b) = &r.body
            && let Err(e) = crate::backend::endpoints::template::check(b, "response.body")
        {
            errors.extend(e);
        }
    }
    if let Some(t) = &s.transform {
        let mut check = |v: &Value, at: &str| {
            if let Err(e) = crate::backend::endpoints::template::check(v, at) {
                errors.extend(e);
            }
        };
        check(&t.data, "transform.data");
        if let Some(c) = &t.context {
            check(c, "transform.context");
        }
    }
    for (i, c) in s.allowed_ips.iter().enumerate() {
        if Cidr::parse(c).is_err() {
            errors.push(FieldError::new(
                format!("allowed_ips[{i}]"),
                "is not an address or CIDR such as 192.0.2.0/24",
            ));
        }
    }
    // A signed timestamp older than this is a replay, however the clocks drift.
    let (tolerance, leeway) = match &s.verification {
        Verification::StandardWebhooks { tolerance_secs, .. }
        | Verification::Stripe { tolerance_secs, .. }
        | Verification::Slack { tolerance_secs, .. }
        | Verification::Hmac { tolerance_secs, .. } => (Some(*tolerance_secs), None),
        Verification::Jwt { leeway_secs, .. } => (None, Some(*leeway_secs)),
        _ => (None, None),
    };
    if tolerance.is_some_and(|t| t > crate::types::sources::MAX_TOLERANCE_SECS) {
        errors.push(FieldError::new(
            "verification.tolerance_secs",
            format!(
                "must be at most {} (a week)",
                crate::types::sources::MAX_TOLERANCE_SECS
            ),
        ));
    }
    if leeway.is_some_and(|l| l > crate::types::sources::MAX_LEEWAY_SECS) {
        errors.push(FieldError::new(
            "verification.leeway_secs",
            format!(
                "must be at most {} (a day)",
                crate::types::sources::MAX_LEEWAY_SECS
            ),
        ));
    }
    let mut v = s.verification.clone();
    for (path, value) in v.secrets_mut() {
        if value.trim().is_empty() {
            errors.push(FieldError::new(
                format!("verification.{path}"),
                "is required",
            ));
        }
    }
    match &s.verification {
        Verification::StandardWebhooks { secret, .. } => {
            use base64::Engine;
            let raw = secret.strip_prefix("whsec_").unwrap_or(secret);
            if secret != MASK
                && base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .is_err()
            {
                errors.push(FieldError::new(
                    "verification.secret",
                    "must be whsec_ followed by base64",
                ));
            }
        }
        Verification::Hmac {
            header,
            signed,
            timestamp_header,
            ..
        } => {
            if header.trim().is_empty() {
                errors.push(FieldError::new("verification.header", "is required"));
            }
            if !signed.contains("{body}") {
                errors.push(FieldError::new(
                    "verification.signed",
                    "must contain {body}, e.g. {timestamp}.{body}",
                ));
            }
            if signed.contains("{timestamp}") && timestamp_header.is_none() {
                errors.push(FieldError::new(
                    "verification.timestamp_header",
                    "is required when {timestamp} is signed",
                ));
            }
        }
        Verification::Jwt { algorithm, key, .. } if key != MASK => {
            use crate::types::sources::JwtAlgorithm;
            use jsonwebtoken::DecodingKey;
            let bad = match algorithm {
                JwtAlgorithm::HS256 => false,
                JwtAlgorithm::RS256 => DecodingKey::from_rsa_pem(key.as_bytes()).is_err(),
                JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(key.as_bytes()).is_err(),
            };
            if bad {
                errors.push(FieldError::new(
                    "verification.key",
                    format!("must be the partner's {algorithm:?} public key in PEM"),
                ));
            }
        }
        Verification::ApiKey { header, query, .. } if header.is_none() && query.is_none() => {
            errors.push(FieldError::new(
                "verification.header",
                "say where the key comes: header or query",
            ));
        }
        _ => {}
    }
    errors
}
