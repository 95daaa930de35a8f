//! The endpoint editor's state: one signal per input, filled from the current settings and
//! built back into an `EndpointInput` (typing mistakes reported on their paths).

use crate::types::FieldError;
use crate::types::endpoints::{
    BatchSettings, BodyFormat, DEFAULT_JWT_TTL_SECONDS, EndpointAuth, EndpointInput, EndpointTls,
    JwtAlgorithm, SensitiveData, SignatureScheme,
};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// One header being edited: a stable key for the list, name and value.
pub(super) type HeaderRow = (usize, RwSignal<String>, RwSignal<String>);

/// The editor's state, one signal per input.
#[derive(Clone, Copy)]
pub(super) struct Draft {
    pub(super) name: RwSignal<String>,
    pub(super) url: RwSignal<String>,
    pub(super) description: RwSignal<String>,
    pub(super) enabled: RwSignal<bool>,
    pub(super) all_types: RwSignal<bool>,
    pub(super) chosen: RwSignal<Vec<String>>,
    pub(super) wildcards: RwSignal<String>,
    pub(super) headers: RwSignal<Vec<HeaderRow>>,
    /// Carried over unchanged: which headers the endpoint marks secret (set over the API).
    pub(super) secret_headers: RwSignal<Vec<String>>,
    pub(super) auth_kind: RwSignal<String>,
    pub(super) auth_header: RwSignal<String>,
    pub(super) auth_secret: RwSignal<String>,
    pub(super) auth_user: RwSignal<String>,
    pub(super) token_url: RwSignal<String>,
    pub(super) client_id: RwSignal<String>,
    pub(super) scope: RwSignal<String>,
    pub(super) jwt_algorithm: RwSignal<String>,
    /// The JWT's configured claims, as a JSON object.
    pub(super) jwt_claims: RwSignal<String>,
    pub(super) jwt_ttl: RwSignal<String>,
    pub(super) jwt_key_id: RwSignal<String>,
    pub(super) timeout: RwSignal<String>,
    pub(super) retry: RwSignal<String>,
    pub(super) rate: RwSignal<String>,
    pub(super) concurrency: RwSignal<String>,
    pub(super) ordered: RwSignal<bool>,
    pub(super) format: RwSignal<String>,
    pub(super) sensitive: RwSignal<SensitiveData>,
    pub(super) tenant: RwSignal<String>,
    pub(super) filter: RwSignal<String>,
    pub(super) template: RwSignal<String>,
    pub(super) batch_on: RwSignal<bool>,
    pub(super) batch_max: RwSignal<String>,
    pub(super) batch_wait: RwSignal<String>,
    pub(super) https_only: RwSignal<bool>,
    pub(super) client_certificate: RwSignal<String>,
    /// Blank keeps a stored key (sent as `***`).
    pub(super) client_key: RwSignal<String>,
    pub(super) has_client_key: bool,
    pub(super) ca_bundle: RwSignal<String>,
    /// `v1` or `v1a`.
    pub(super) signature_scheme: RwSignal<String>,
    /// The response rules as JSON (blank: the defaults).
    pub(super) response_rules: RwSignal<String>,
}

fn pretty(v: &Option<serde_json::Value>) -> String {
    v.as_ref()
        .filter(|v| !v.is_null())
        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
        .unwrap_or_default()
}

impl Draft {
    pub(super) fn new(current: Option<&EndpointInput>, known: &[String]) -> Draft {
        let d = current.cloned().unwrap_or(EndpointInput {
            name: String::new(),
            url: String::new(),
            description: String::new(),
            enabled: true,
            event_types: vec!["*".into()],
            filter: None,
            headers: BTreeMap::new(),
            secret_headers: Vec::new(),
            auth: EndpointAuth::None,
            timeout: "30s".into(),
            retry_schedule: None,
            rate_limit_per_minute: None,
            max_concurrency: None,
            ordered: false,
            batch: None,
            format: BodyFormat::Json,
            template: None,
            sensitive_data: SensitiveData::Send,
            tenant: None,
            https_only: false,
            tls: None,
            signature_scheme: SignatureScheme::V1,
            response_rules: None,
        });
        let chosen: Vec<String> = d
            .event_types
            .iter()
            .filter(|t| known.contains(t))
            .cloned()
            .collect();
        let wildcards: Vec<String> = d
            .event_types
            .iter()
            .filter(|t| *t != "*" && !known.contains(t))
            .cloned()
            .collect();
        let (kind, header, user, token_url, client_id, scope) = match &d.auth {
            EndpointAuth::None => ("none", "", "", "", "", String::new()),
            EndpointAuth::ApiKey { header, .. } => {
                ("api_key", header.as_str(), "", "", "", String::new())
            }
            EndpointAuth::Bearer { .. } => ("bearer", "", "", "", "", String::new()),
            EndpointAuth::Basic { username, .. } => {
                ("basic", "", username.as_str(), "", "", String::new())
            }
            EndpointAuth::Oauth2 {
                token_url,
                client_id,
                scope,
                ..
            } => (
                "oauth2",
                "",
                "",
                token_url.as_str(),
                client_id.as_str(),
                scope.clone().unwrap_or_default(),
            ),
            EndpointAuth::Jwt { .. } => ("jwt", "", "", "", "", String::new()),
        };
        let (jwt_algorithm, jwt_claims, jwt_ttl, jwt_key_id) = match &d.auth {
            EndpointAuth::Jwt {
                algorithm,
                claims,
                ttl_seconds,
                key_id,
                ..
            } => (
                *algorithm,
                serde_json::to_string_pretty(claims).unwrap_or_default(),
                *ttl_seconds,
                key_id.clone().unwrap_or_default(),
            ),
            _ => (
                JwtAlgorithm::default(),
                "{}".to_string(),
                DEFAULT_JWT_TTL_SECONDS,
                String::new(),
            ),
        };
        let tls = d.tls.as_ref();
        Draft {
            name: RwSignal::new(d.name.clone()),
            url: RwSignal::new(d.url.clone()),
            description: RwSignal::new(d.description.clone()),
            enabled: RwSignal::new(d.enabled),
            all_types: RwSignal::new(d.event_types.iter().any(|t| t == "*")),
            chosen: RwSignal::new(chosen),
            wildcards: RwSignal::new(wildcards.join(", ")),
            headers: RwSignal::new(
                d.headers
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v))| (i, RwSignal::new(k.clone()), RwSignal::new(v.clone())))
                    .collect(),
            ),
            secret_headers: RwSignal::new(d.secret_headers.clone()),
            auth_kind: RwSignal::new(kind.to_string()),
            auth_header: RwSignal::new(header.to_string()),
            auth_secret: RwSignal::new(String::new()),
            auth_user: RwSignal::new(user.to_string()),
            token_url: RwSignal::new(token_url.to_string()),
            client_id: RwSignal::new(client_id.to_string()),
            scope: RwSignal::new(scope),
            jwt_algorithm: RwSignal::new(jwt_algorithm.as_str().to_string()),
            jwt_claims: RwSignal::new(jwt_claims),
            jwt_ttl: RwSignal::new(jwt_ttl.to_string()),
            jwt_key_id: RwSignal::new(jwt_key_id),
            timeout: RwSignal::new(d.timeout.clone()),
            retry: RwSignal::new(
                d.retry_schedule
                    .clone()
                    .map(|r| r.join(", "))
                    .unwrap_or_default(),
            ),
            rate: RwSignal::new(
                d.rate_limit_per_minute
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            ),
            concurrency: RwSignal::new(
                d.max_concurrency.map(|r| r.to_string()).unwrap_or_default(),
            ),
            ordered: RwSignal::new(d.ordered),
            format: RwSignal::new(
                if d.format == BodyFormat::Xml {
                    "xml"
                } else {
                    "json"
                }
                .to_string(),
            ),
            sensitive: RwSignal::new(d.sensitive_data),
            tenant: RwSignal::new(d.tenant.clone().unwrap_or_default()),
            filter: RwSignal::new(pretty(&d.filter)),
            template: RwSignal::new(pretty(&d.template)),
            batch_on: RwSignal::new(d.batch.is_some()),
            batch_max: RwSignal::new(
                d.batch
                    .as_ref()
                    .map(|b| b.max_events.to_string())
                    .unwrap_or_else(|| "100".into()),
            ),
            batch_wait: RwSignal::new(
                d.batch
                    .as_ref()
                    .map(|b| b.max_wait.clone())
                    .unwrap_or_else(|| "1s".into()),
            ),
            https_only: RwSignal::new(d.https_only),
            client_certificate: RwSignal::new(
                tls.and_then(|t| t.client_certificate.clone())
                    .unwrap_or_default(),
            ),
            client_key: RwSignal::new(String::new()),
            has_client_key: tls.is_some_and(|t| t.client_key.is_some()),
            ca_bundle: RwSignal::new(tls.and_then(|t| t.ca_bundle.clone()).unwrap_or_default()),
            signature_scheme: RwSignal::new(d.signature_scheme.as_str().to_string()),
            response_rules: RwSignal::new(pretty(
                &d.response_rules
                    .as_ref()
                    .and_then(|r| serde_json::to_value(r).ok()),
            )),
        }
    }

    /// The settings to send, or the problems the browser can already see.
    pub(super) fn build(&self) -> Result<EndpointInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let list = |s: String| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
        };
        use crate::pages::forms::{typed_json, typed_number};
        let rate = typed_number::<u32>(&mut errors, "rate_limit_per_minute", &self.rate.get());
        let concurrency =
            typed_number::<u32>(&mut errors, "max_concurrency", &self.concurrency.get());
        let batch_max = typed_number::<u32>(&mut errors, "batch.max_events", &self.batch_max.get());
        let filter = typed_json(&mut errors, "filter", &self.filter.get());
        let template = typed_json(&mut errors, "template", &self.template.get());
        let response_rules = typed_json(&mut errors, "response_rules", &self.response_rules.get())
            .and_then(|v| match serde_json::from_value(v) {
                Ok(r) => Some(r),
                Err(e) => {
                    errors.push(crate::types::FieldError::new(
                        "response_rules",
                        e.to_string(),
                    ));
                    None
                }
            });
        let mut event_types = if self.all_types.get() {
            vec!["*".to_string()]
        } else {
            self.chosen.get()
        };
        if !self.all_types.get() {
            event_types.extend(list(self.wildcards.get()));
        }
        let secret = self.auth_secret.get();
        let auth = match self.auth_kind.get().as_str() {
            "api_key" => EndpointAuth::ApiKey {
                header: self.auth_header.get().trim().into(),
                value: secret,
            },
            "bearer" => EndpointAuth::Bearer { token: secret },
            "basic" => EndpointAuth::Basic {
                username: self.auth_user.get().trim().into(),
                password: secret,
            },
            "oauth2" => EndpointAuth::Oauth2 {
                token_url: self.token_url.get().trim().into(),
                client_id: self.client_id.get().trim().into(),
                client_secret: secret,
                scope: Some(self.scope.get().trim().to_string()).filter(|s| !s.is_empty()),
            },
            "jwt" => {
                let claims = match typed_json(&mut errors, "auth.claims", &self.jwt_claims.get()) {
                    Some(serde_json::Value::Object(m)) => m.into_iter().collect(),
                    Some(_) => {
                        errors.push(FieldError::new("auth.claims", "must be a JSON object"));
                        BTreeMap::new()
                    }
                    None => BTreeMap::new(),
                };
                let ttl = typed_number::<u32>(&mut errors, "auth.ttl_seconds", &self.jwt_ttl.get());
                EndpointAuth::Jwt {
                    algorithm: JwtAlgorithm::parse(&self.jwt_algorithm.get()).unwrap_or_default(),
                    key: secret,
                    claims,
                    ttl_seconds: ttl.unwrap_or(DEFAULT_JWT_TTL_SECONDS),
                    key_id: Some(self.jwt_key_id.get().trim().to_string())
                        .filter(|k| !k.is_empty()),
                }
            }
            _ => EndpointAuth::None,
        };
        let headers = self
            .headers
            .get()
            .into_iter()
            .map(|(_, k, v)| (k.get().trim().to_string(), v.get()))
            .filter(|(k, v)| !k.is_empty() || !v.is_empty())
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let retry = list(self.retry.get());
        Ok(EndpointInput {
            name: self.name.get(),
            url: self.url.get(),
            description: self.description.get(),
            enabled: self.enabled.get(),
            event_types,
            filter,
            headers,
            secret_headers: self.secret_headers.get(),
            auth,
            timeout: self.timeout.get().trim().to_string(),
            retry_schedule: (!retry.is_empty()).then_some(retry),
            rate_limit_per_minute: rate,
            max_concurrency: concurrency,
            ordered: self.ordered.get(),
            batch: self.batch_on.get().then(|| BatchSettings {
                max_events: batch_max.unwrap_or(100),
                max_wait: self.batch_wait.get().trim().to_string(),
            }),
            format: if self.format.get() == "xml" {
                BodyFormat::Xml
            } else {
                BodyFormat::Json
            },
            template,
            sensitive_data: self.sensitive.get(),
            tenant: Some(self.tenant.get().trim().to_string()).filter(|t| !t.is_empty()),
            https_only: self.https_only.get(),
            tls: self.tls(),
            signature_scheme: if self.signature_scheme.get() == "v1a" {
                SignatureScheme::V1a
            } else {
                SignatureScheme::V1
            },
            response_rules,
        })
    }

    /// The TLS settings, `None` when all are blank; a blank key keeps the stored one.
    fn tls(&self) -> Option<EndpointTls> {
        let text = |s: RwSignal<String>| Some(s.get().trim().to_string()).filter(|v| !v.is_empty());
        let client_certificate = text(self.client_certificate);
        let client_key = text(self.client_key).or_else(|| {
            (self.has_client_key && client_certificate.is_some())
                .then(|| crate::types::endpoints::MASK.to_string())
        });
        let tls = EndpointTls {
            client_certificate,
            client_key,
            ca_bundle: text(self.ca_bundle),
        };
        (tls != EndpointTls::default()).then_some(tls)
    }
}
