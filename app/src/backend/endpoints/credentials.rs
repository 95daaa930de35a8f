//! Credentials across an edit: which stored ones a PATCH or the editor keeps (sent back as
//! `***`), the rule that they never follow the endpoint to another host, and what the
//! audit log says about them (that they changed, never their values).

use crate::types::FieldError;
use crate::types::endpoints::{EndpointInput, MASK};
use serde_json::{Map, Value, json};

/// Fills every credential of `new` sent as `***` (or, for auth, left empty, as the editor
/// does) from `stored`: the auth's when its kind is unchanged, a secret header's when
/// `stored` has a secret header of that name. Returns the paths of the kept ones.
pub fn keep_stored_credentials(new: &mut EndpointInput, stored: &EndpointInput) -> Vec<String> {
    let same_auth_kind = std::mem::discriminant(&new.auth) == std::mem::discriminant(&stored.auth);
    let stored = stored.credentials();
    let mut kept = Vec::new();
    for (path, value) in new.credentials_mut() {
        let is_auth = path.starts_with("auth.");
        if !(value == MASK || (is_auth && value.is_empty())) {
            continue;
        }
        let old = if is_auth {
            stored.get(&path).filter(|_| same_auth_kind)
        } else {
            stored
                .iter()
                .find(|(p, _)| p.eq_ignore_ascii_case(&path))
                .map(|(_, v)| v)
        };
        if let Some(old) = old {
            *value = old.clone();
            kept.push(path);
        }
    }
    kept
}

/// A header that was secret, is no longer marked so, and was sent back as `***`: its value
/// must be sent, or the mask itself would be stored (and the old value exposed later if
/// it were kept).
pub fn unmarked_but_masked(old: &EndpointInput, new: &EndpointInput) -> Vec<FieldError> {
    new.headers
        .iter()
        .filter(|(name, value)| {
            *value == MASK && old.header_is_secret(name) && !new.header_is_secret(name)
        })
        .map(|(name, _)| {
            FieldError::new(
                format!("headers.{name}"),
                "is no longer marked secret: send its value itself, *** keeps only secret values",
            )
        })
        .collect()
}

/// `scheme://host:port` of a URL, or the text itself when it does not parse (then any
/// edit counts as a move).
fn origin(url: &str) -> String {
    url::Url::parse(url.trim())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

fn token_origin(settings: &EndpointInput) -> Option<String> {
    match &settings.auth {
        crate::types::endpoints::EndpointAuth::Oauth2 { token_url, .. } => Some(origin(token_url)),
        _ => None,
    }
}

/// Stored credentials never follow an endpoint to a new host: when the origin of `url` or
/// of the OAuth2 `token_url` changes, each credential in `kept` must be sent again in the
/// same request. One error per credential, so the answer says exactly what to send.
pub fn kept_across_origins(
    old: &EndpointInput,
    new: &EndpointInput,
    kept: &[String],
) -> Vec<FieldError> {
    let moves = [
        ("url", Some(origin(&old.url)), Some(origin(&new.url))),
        ("auth.token_url", token_origin(old), token_origin(new)),
    ];
    let Some((field, from, to)) =
        moves
            .into_iter()
            .find_map(|(field, from, to)| match (from, to) {
                (Some(from), Some(to)) if from != to => Some((field, from, to)),
                _ => None,
            })
    else {
        return Vec::new();
    };
    kept.iter()
        .map(|path| {
            FieldError::new(
                path.clone(),
                format!(
                    "must be sent again: {field} moves from {from} to {to}, and a stored credential never follows an endpoint to another host"
                ),
            )
        })
        .collect()
}

/// `{"auth.token": "changed", "headers.X-Api-Key": "set"}`: which credentials an edit set,
/// changed or removed, for the audit log, without either value.
pub fn credential_changes(old: &EndpointInput, new: &EndpointInput) -> Map<String, Value> {
    let (old, new) = (old.credentials(), new.credentials());
    let mut out = Map::new();
    for path in old.keys().chain(new.keys()) {
        let what = match (old.get(path), new.get(path)) {
            (Some(a), Some(b)) if a != b => "changed",
            (None, Some(_)) => "set",
            (Some(_), None) => "removed",
            _ => continue,
        };
        out.insert(path.clone(), json!(what));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(v: Value) -> EndpointInput {
        serde_json::from_value(v).unwrap()
    }

    fn stored() -> EndpointInput {
        settings(json!({
            "name": "n", "url": "https://a.example/hook",
            "headers": {"X-Api-Key": "k1", "X-Team": "ops", "X-Plain": "p"},
            "secret_headers": ["X-Team"],
            "auth": {"type": "basic", "username": "u", "password": "p1"}
        }))
    }

    #[test]
    fn masked_and_blank_credentials_keep_the_stored_ones_of_the_same_kind() {
        let mut new = stored().masked();
        assert_eq!(new.headers["X-Api-Key"], "***");
        assert_eq!(new.headers["X-Team"], "***");
        assert_eq!(new.headers["X-Plain"], "p");
        let kept = keep_stored_credentials(&mut new, &stored());
        assert_eq!(new, stored());
        assert_eq!(
            kept,
            vec!["auth.password", "headers.X-Api-Key", "headers.X-Team"]
        );

        let mut blank = stored();
        blank.auth = settings(json!({"name": "n", "url": "https://a.example/",
            "auth": {"type": "basic", "username": "v", "password": ""}}))
        .auth;
        keep_stored_credentials(&mut blank, &stored());
        assert_eq!(
            blank.auth,
            crate::types::endpoints::EndpointAuth::Basic {
                username: "v".into(),
                password: "p1".into()
            }
        );

        let mut other_kind = stored();
        other_kind.auth = crate::types::endpoints::EndpointAuth::Bearer {
            token: "***".into(),
        };
        let kept = keep_stored_credentials(&mut other_kind, &stored());
        assert!(
            !kept.contains(&"auth.token".to_string()),
            "a new kind needs its own credential"
        );

        let mut sent = stored();
        sent.headers.insert("X-Api-Key".into(), "k2".into());
        let kept = keep_stored_credentials(&mut sent, &stored());
        assert!(kept.is_empty() && sent.headers["X-Api-Key"] == "k2");
    }

    #[test]
    fn an_unmarked_header_needs_its_value() {
        let mut new = stored().masked();
        new.secret_headers.clear();
        keep_stored_credentials(&mut new, &stored());
        let errors = unmarked_but_masked(&stored(), &new);
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["headers.X-Team"]);
        new.headers.insert("X-Team".into(), "ops".into());
        assert!(unmarked_but_masked(&stored(), &new).is_empty());
    }

    #[test]
    fn kept_credentials_do_not_follow_a_new_origin() {
        let old = stored();
        let kept = vec!["auth.password".to_string(), "headers.X-Team".to_string()];
        let mut same_host = old.clone();
        same_host.url = "https://a.example:443/other/path".into();
        assert!(kept_across_origins(&old, &same_host, &kept).is_empty());
        for moved in [
            "https://b.example/hook",
            "http://a.example/hook",
            "https://a.example:8443/hook",
        ] {
            let mut new = old.clone();
            new.url = moved.into();
            let errors = kept_across_origins(&old, &new, &kept);
            let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
            assert_eq!(paths, vec!["auth.password", "headers.X-Team"], "{moved}");
            assert!(
                errors[0]
                    .message
                    .contains("url moves from https://a.example"),
                "{}",
                errors[0].message
            );
        }
        let oauth = |token_url: &str| {
            settings(
                json!({"name": "n", "url": "https://a.example/", "auth": {"type": "oauth2",
                "token_url": token_url, "client_id": "c", "client_secret": "s"}}),
            )
        };
        let errors = kept_across_origins(
            &oauth("https://id.example/token"),
            &oauth("https://evil.example/token"),
            &["auth.client_secret".to_string()],
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("auth.token_url moves"),
            "{}",
            errors[0].message
        );
        assert!(kept_across_origins(&old, &old, &kept).is_empty());
    }

    #[test]
    fn the_audit_says_which_credentials_changed_without_values() {
        let old = stored();
        let mut new = stored();
        new.headers.insert("X-Api-Key".into(), "k2".into());
        new.headers.remove("X-Team");
        new.headers.insert("X-Token".into(), "t".into());
        let changes = Value::Object(credential_changes(&old, &new));
        assert_eq!(
            changes,
            json!({"headers.X-Api-Key": "changed", "headers.X-Team": "removed", "headers.X-Token": "set"})
        );
        assert!(!changes.to_string().contains("k2") && !changes.to_string().contains("k1"));
    }
}
