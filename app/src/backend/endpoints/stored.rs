//! The `endpoints.config` column: an endpoint's settings as stored, every credential
//! sealed. A type of its own, apart from the wire's `EndpointInput` (what callers send and
//! are shown) and the engine's `Target` (built once per catalog version):
//! - the stored form is lenient where the wire is strict: unknown fields are ignored, so a
//!   row written by a newer version still reads, and a missing field takes its default;
//! - its credentials are sealed: the only ways out are [`StoredConfig::open`] (for
//!   delivery and edits, server-side) and [`StoredConfig::masked`] (for answers).
//!
//! The field names are the stored JSON's, shared with the wire so old rows keep reading; a
//! change to either side is a change here, with its conversion.

use crate::error::{AppError, AppResult};
use crate::types::endpoints::{
    BatchSettings, BodyFormat, EndpointAuth, EndpointInput, EndpointTls, SensitiveData,
    SignatureScheme,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Serialize, Deserialize)]
pub struct StoredConfig {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "every_type")]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub filter: Option<Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_headers: Vec<String>,
    #[serde(default)]
    pub auth: EndpointAuth,
    #[serde(default = "thirty_seconds")]
    pub timeout: String,
    #[serde(default)]
    pub retry_schedule: Option<Vec<String>>,
    #[serde(default)]
    pub rate_limit_per_minute: Option<u32>,
    #[serde(default)]
    pub max_concurrency: Option<u32>,
    #[serde(default)]
    pub ordered: bool,
    #[serde(default)]
    pub batch: Option<BatchSettings>,
    #[serde(default)]
    pub format: BodyFormat,
    #[serde(default)]
    pub template: Option<Value>,
    #[serde(default)]
    pub sensitive_data: SensitiveData,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub https_only: bool,
    /// Its client key sealed like every credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<EndpointTls>,
    #[serde(default)]
    pub signature_scheme: SignatureScheme,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_rules: Option<crate::types::endpoints::ResponseRules>,
}

fn yes() -> bool {
    true
}

fn every_type() -> Vec<String> {
    vec!["*".into()]
}

fn thirty_seconds() -> String {
    "30s".into()
}

impl StoredConfig {
    /// Reads a stored row.
    pub fn parse(text: &str) -> Result<StoredConfig, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("settings always encode")
    }

    /// Settings made ready to store: each credential (`auth.client_secret`,
    /// `headers.X-Api-Key`, …) replaced by what `seal` makes of it for its path.
    pub fn seal(settings: &EndpointInput, seal: impl Fn(&str, &str) -> String) -> StoredConfig {
        let mut plain = settings.clone();
        for (path, value) in plain.credentials_mut() {
            *value = seal(&path, value);
        }
        StoredConfig::from_wire(plain)
    }

    /// The settings with each credential opened by `open` (for delivery and edits).
    pub fn open(self, open: impl Fn(&str, &str) -> AppResult<String>) -> AppResult<EndpointInput> {
        let mut settings = self.into_wire();
        for (path, value) in settings.credentials_mut() {
            *value = open(&path, value)?;
        }
        Ok(settings)
    }

    /// The settings with every credential shown as `***`: what answers and the dashboard
    /// show (nothing sealed or opened leaves).
    pub fn masked(self) -> EndpointInput {
        self.into_wire().masked()
    }

    /// Changes each sealed credential in place: `f` gets its path and stored text and
    /// answers the new text, or `None` to leave it. Returns how many changed.
    pub fn reseal_each<E>(
        &mut self,
        mut f: impl FnMut(&str, &str) -> Result<Option<String>, E>,
    ) -> Result<u64, E> {
        let mut settings = self.clone().into_wire();
        let mut changed = 0;
        for (path, value) in settings.credentials_mut() {
            if let Some(new) = f(&path, value)? {
                *value = new;
                changed += 1;
            }
        }
        *self = StoredConfig::from_wire(settings);
        Ok(changed)
    }

    fn from_wire(s: EndpointInput) -> StoredConfig {
        StoredConfig {
            name: s.name,
            url: s.url,
            description: s.description,
            enabled: s.enabled,
            event_types: s.event_types,
            filter: s.filter,
            headers: s.headers,
            secret_headers: s.secret_headers,
            auth: s.auth,
            timeout: s.timeout,
            retry_schedule: s.retry_schedule,
            rate_limit_per_minute: s.rate_limit_per_minute,
            max_concurrency: s.max_concurrency,
            ordered: s.ordered,
            batch: s.batch,
            format: s.format,
            template: s.template,
            sensitive_data: s.sensitive_data,
            tenant: s.tenant,
            https_only: s.https_only,
            tls: s.tls,
            signature_scheme: s.signature_scheme,
            response_rules: s.response_rules,
        }
    }

    fn into_wire(self) -> EndpointInput {
        EndpointInput {
            name: self.name,
            url: self.url,
            description: self.description,
            enabled: self.enabled,
            event_types: self.event_types,
            filter: self.filter,
            headers: self.headers,
            secret_headers: self.secret_headers,
            auth: self.auth,
            timeout: self.timeout,
            retry_schedule: self.retry_schedule,
            rate_limit_per_minute: self.rate_limit_per_minute,
            max_concurrency: self.max_concurrency,
            ordered: self.ordered,
            batch: self.batch,
            format: self.format,
            template: self.template,
            sensitive_data: self.sensitive_data,
            tenant: self.tenant,
            https_only: self.https_only,
            tls: self.tls,
            signature_scheme: self.signature_scheme,
            response_rules: self.response_rules,
        }
    }
}

/// A stored row that does not read: an internal error naming the endpoint.
pub fn unreadable(id: &str, e: serde_json::Error) -> AppError {
    AppError::internal(
        "stored endpoint settings are unreadable",
        format!("endpoint {id}: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_rows_read_and_newer_fields_are_ignored() {
        let c = StoredConfig::parse(
            r#"{"name":"a","url":"https://a.example","field_from_a_newer_version":1}"#,
        )
        .unwrap();
        assert!(c.enabled);
        assert_eq!(c.event_types, ["*"]);
        assert_eq!(c.timeout, "30s");
    }

    #[test]
    fn credentials_are_sealed_on_the_way_in_and_opened_or_masked_on_the_way_out() {
        let settings: EndpointInput = serde_json::from_value(json!({
            "name": "a", "url": "https://a.example",
            "headers": {"X-Api-Key": "k-123", "X-Plain": "p"},
            "auth": {"type": "basic", "username": "u", "password": "pw"}
        }))
        .unwrap();
        let stored = StoredConfig::seal(&settings, |path, v| format!("sealed({path}:{v})"));
        let text = stored.to_text();
        assert!(
            !text.contains("\"k-123\"") && !text.contains("\"pw\""),
            "{text}"
        );
        assert!(text.contains("sealed(headers.X-Api-Key:k-123)"), "{text}");
        assert!(text.contains("\"p\""), "a plain header stays plain: {text}");

        let back = StoredConfig::parse(&text)
            .unwrap()
            .open(|path, v| {
                Ok(v.strip_prefix(&format!("sealed({path}:"))
                    .and_then(|v| v.strip_suffix(')'))
                    .unwrap()
                    .to_owned())
            })
            .unwrap();
        assert_eq!(back, settings);
        let shown = StoredConfig::parse(&text).unwrap().masked();
        assert_eq!(shown.headers["X-Api-Key"], "***");
        assert_eq!(shown, settings.masked());
    }
}
