//! Checking an endpoint's settings as a whole, reporting every problem with its path.

use super::super::domain::EventTypeName;
use super::super::filter;
use super::template;
use crate::types::FieldError;
use crate::types::endpoints::{EndpointAuth, EndpointInput, MASK};
use std::time::Duration;

/// Headers Hookline sets itself; an endpoint may not override them.
const RESERVED_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "authorization",
];

/// Checks every setting, reporting all problems with their paths. `known_types` answers
/// whether an exact event type name exists.
pub fn validate(input: &EndpointInput, known_types: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut err = |p: String, m: String| errors.push(FieldError::new(p, m));
    // Not blank, and at most 100 as sent (the document's maxLength counts it so).
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        err("name".into(), "must be 1 to 100 characters".into());
    }
    if input.description.chars().count() > 2000 {
        err(
            "description".into(),
            "must be at most 2000 characters".into(),
        );
    }
    if let Err(m) = check_url(&input.url) {
        err("url".into(), m);
    }
    if input.event_types.is_empty() {
        err(
            "event_types".into(),
            "list at least one event type, or \"*\" for all".into(),
        );
    }
    for (i, pattern) in input.event_types.iter().enumerate() {
        let at = format!("event_types[{i}]");
        if pattern == "*" {
            continue;
        }
        if let Some(prefix) = pattern.strip_suffix(".*") {
            if EventTypeName::parse(prefix).is_err() {
                err(
                    at,
                    format!("'{pattern}' is not a valid wildcard; use e.g. order.*"),
                );
            }
        } else if EventTypeName::parse(pattern).is_err() {
            err(
                at,
                format!("'{pattern}' is not an event type name, a prefix.* wildcard or *"),
            );
        } else if !known_types(pattern) && !pattern.starts_with("hookline.") {
            err(at, format!("there is no event type '{pattern}'"));
        }
    }
    if let Some(f) = &input.filter
        && !f.is_null()
        && let Err(e) = filter::parse(f, "filter")
    {
        errors.extend(e);
    }
    let mut err = |p: String, m: String| errors.push(FieldError::new(p, m));
    if input.headers.len() > 50 {
        err("headers".into(), "at most 50 headers".into());
    }
    for (name, value) in &input.headers {
        let at = format!("headers.{name}");
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        {
            err(at, "is not a valid header name".into());
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            err(
                at,
                "is set by Hookline and cannot be overridden (use auth for Authorization)".into(),
            );
        } else if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) || value.len() > 8192 {
            err(at, "must be one line of at most 8192 bytes".into());
        }
    }
    for (i, name) in input.secret_headers.iter().enumerate() {
        if !input.headers.keys().any(|h| h.eq_ignore_ascii_case(name)) {
            err(
                format!("secret_headers[{i}]"),
                format!("names no header in headers ('{name}')"),
            );
        }
    }
    for (path, value) in input.credentials() {
        if value == MASK {
            err(
                path,
                "is the mask ***, which keeps a stored value, and there is none here to keep: send the value itself".into(),
            );
        }
    }
    match &input.auth {
        EndpointAuth::None => {}
        EndpointAuth::ApiKey { header, value } => {
            let reserved = RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str())
                && !header.eq_ignore_ascii_case("authorization");
            if header.is_empty() || reserved {
                err(
                    "auth.header".into(),
                    "must be a header name such as X-Api-Key".into(),
                );
            }
            if value.is_empty() {
                err("auth.value".into(), "is required".into());
            }
        }
        EndpointAuth::Bearer { token } if token.is_empty() => {
            err("auth.token".into(), "is required".into())
        }
        EndpointAuth::Bearer { .. } => {}
        EndpointAuth::Basic { username, password } => {
            if username.is_empty() || username.contains(':') {
                err(
                    "auth.username".into(),
                    "is required and may not contain ':'".into(),
                );
            }
            if password.is_empty() {
                err("auth.password".into(), "is required".into());
            }
        }
        EndpointAuth::Oauth2 {
            token_url,
            client_id,
            client_secret,
            ..
        } => {
            if let Err(m) = check_url(token_url) {
                err("auth.token_url".into(), m);
            }
            if client_id.is_empty() {
                err("auth.client_id".into(), "is required".into());
            }
            if client_secret.is_empty() {
                err("auth.client_secret".into(), "is required".into());
            }
        }
        EndpointAuth::Jwt { .. } => {
            for e in super::jwt::JwtSettings::of(&input.auth)
                .map(|j| j.check())
                .unwrap_or_default()
            {
                err(e.path, e.message);
            }
        }
    }
    if let Some(tls) = &input.tls {
        for e in super::tls::check(tls) {
            err(e.path, e.message);
        }
    }
    match crate::duration::parse(&input.timeout) {
        Ok(d) if d >= Duration::from_millis(100) && d <= Duration::from_secs(300) => {}
        Ok(_) => err("timeout".into(), "must be between 100ms and 5m".into()),
        Err(e) => err("timeout".into(), e),
    }
    if let Some(schedule) = &input.retry_schedule {
        if schedule.len() > 25 {
            err("retry_schedule".into(), "at most 25 retries".into());
        }
        for (i, d) in schedule.iter().enumerate() {
            match crate::duration::parse(d) {
                Ok(d) if d <= Duration::from_secs(7 * 86_400) => {}
                Ok(_) => err(format!("retry_schedule[{i}]"), "must be at most 7d".into()),
                Err(e) => err(format!("retry_schedule[{i}]"), e),
            }
        }
    }
    if let Some(rules) = &input.response_rules {
        use crate::types::endpoints::status_pattern_ok;
        for (field, list) in [("success", &rules.success), ("no_retry", &rules.no_retry)] {
            if list.len() > 20 {
                err(
                    format!("response_rules.{field}"),
                    "at most 20 statuses".into(),
                );
            }
            for (i, p) in list.iter().enumerate() {
                if !status_pattern_ok(p) {
                    err(
                        format!("response_rules.{field}[{i}]"),
                        format!("'{p}' is not a status: use a code (100-599) or a class (1xx-5xx)"),
                    );
                }
            }
        }
        if let Some(body) = &rules.body
            && !body_path_ok(&body.path)
        {
            err(
                "response_rules.body.path".into(),
                "must be dotted keys such as ok or result.status (letters, digits, _ and -; at most 8 keys of 64)".into(),
            );
        }
    }
    if let Some(r) = input.rate_limit_per_minute
        && !(1..=1_000_000).contains(&r)
    {
        err(
            "rate_limit_per_minute".into(),
            "must be between 1 and 1000000".into(),
        );
    }
    if let Some(c) = input.max_concurrency
        && !(1..=1000).contains(&c)
    {
        err(
            "max_concurrency".into(),
            "must be between 1 and 1000".into(),
        );
    }
    if let Some(b) = &input.batch {
        if !(1..=1000).contains(&b.max_events) {
            err(
                "batch.max_events".into(),
                "must be between 1 and 1000".into(),
            );
        }
        match crate::duration::parse(&b.max_wait) {
            Ok(d) if d >= Duration::from_millis(1) && d <= Duration::from_secs(60) => {}
            Ok(_) => err(
                "batch.max_wait".into(),
                "must be between 1ms and 60s".into(),
            ),
            Err(e) => err("batch.max_wait".into(), e),
        }
        if input.ordered {
            err(
                "batch".into(),
                "cannot be combined with ordered delivery".into(),
            );
        }
    }
    if let Some(t) = &input.tenant
        && let Err(m) = super::super::domain::check_tenant(t)
    {
        err("tenant".into(), m.into());
    }
    if let Some(t) = &input.template
        && !t.is_null()
        && let Err(e) = template::check(t, "template")
    {
        errors.extend(e);
    }
    errors
}

pub(super) fn check_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("needs a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; use auth".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    Ok(())
}

/// Dotted keys: `ok`, `result.status` (each starts with a letter or `_`; at most 8 of 64).
pub fn body_path_ok(path: &str) -> bool {
    let keys: Vec<&str> = path.split('.').collect();
    keys.len() <= 8
        && keys.iter().all(|k| {
            let mut chars = k.chars();
            k.len() <= 64
                && chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn input(v: Value) -> EndpointInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn settings_are_checked_with_paths() {
        let ok = input(
            json!({"name": "crm", "url": "https://crm.example.com/hooks", "event_types": ["order.*", "stock.low"]}),
        );
        assert_eq!(validate(&ok, &|n| n == "stock.low"), vec![]);
        assert_eq!(ok.timeout, "30s");
        let bad = input(json!({
            "name": "", "url": "ftp://x", "event_types": ["Order", "nope.created"],
            "headers": {"Content-Type": "text/plain", "X-Ok": "a\r\nb"},
            "auth": {"type": "basic", "username": "", "password": "p"},
            "timeout": "10m", "retry_schedule": ["5s", "later"], "rate_limit_per_minute": 0,
            "max_concurrency": 5000, "batch": {"max_events": 0, "max_wait": "2m"}, "ordered": true,
            "tenant": "a b", "filter": {"field": "data.x", "op": "nah"}, "template": {"a": "{{ data..x }}"}
        }));
        let errs = validate(&bad, &|_| false);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        for p in [
            "name",
            "url",
            "event_types[0]",
            "event_types[1]",
            "filter.op",
            "headers.Content-Type",
            "headers.X-Ok",
            "auth.username",
            "timeout",
            "retry_schedule[1]",
            "rate_limit_per_minute",
            "max_concurrency",
            "batch.max_events",
            "batch.max_wait",
            "batch",
            "tenant",
            "template.a",
        ] {
            assert!(paths.contains(&p), "{p} missing in {paths:?}");
        }
        assert!(check_url("https://user:pw@x.example/").is_err());
        assert!(
            check_url("http://127.0.0.1:8080/hook").is_ok(),
            "private targets are checked at delivery, not here"
        );
    }

    #[test]
    fn secret_headers_must_exist_and_masks_need_a_stored_value() {
        let bad = input(json!({
            "name": "n", "url": "https://x.example/", "headers": {"X-Team": "a", "X-Api-Key": "***"},
            "secret_headers": ["x-team", "X-Gone"], "auth": {"type": "bearer", "token": "***"}
        }));
        let errs = validate(&bad, &|_| true);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["secret_headers[1]", "auth.token", "headers.X-Api-Key"],
            "{errs:?}"
        );
    }
}
