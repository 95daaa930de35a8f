//! The one HTTP client for every outbound request (deliveries, test-fire, OAuth2 token
//! fetches, anything added later). The SSRF policy, the no-redirect rule, the schemes
//! (HTTPS only when asked), and the body caps live here, so no caller can send a request
//! around them: the resolver drops refused addresses (the address checked is the address
//! connected to), and IP literals, which never reach a resolver, are checked before the
//! request is built. An endpoint with TLS settings (a client certificate, its own CAs) gets
//! a client of its own, built here with the same guard and kept while its settings hold.

use crate::engine::outbound::ssrf::{self, GuardedResolver, SsrfBlocked, TargetPolicy};
use crate::engine::outcome::ErrorClass;
use app::types::endpoints::EndpointTls;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clients for endpoints with TLS settings, by a hash of those settings; emptied when it
/// grows past this (they are rebuilt as used).
const MAX_TLS_CLIENTS: usize = 1024;

pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<TargetPolicy>,
    tls_clients: Arc<Mutex<HashMap<[u8; 32], reqwest::Client>>>,
}

/// Why a request was not sent or failed, for the attempt log.
pub type Failure = (ErrorClass, String);

impl GuardedClient {
    pub fn new(policy: TargetPolicy) -> anyhow::Result<GuardedClient> {
        let policy = Arc::new(policy);
        let client = builder(&policy).build()?;
        Ok(GuardedClient {
            client,
            policy,
            tls_clients: Default::default(),
        })
    }

    /// A POST to `url` with a time limit, once the URL passes the guard: http(s) only (https
    /// with `--https-only`), and an IP-literal host must be an allowed address.
    pub fn post(&self, url: &str, timeout: Duration) -> Result<reqwest::RequestBuilder, Failure> {
        self.post_to(url, timeout, false, None)
    }

    /// [`GuardedClient::post`] for an endpoint: HTTPS only when `https_only` (or the
    /// platform says so), through its own client when it has TLS settings.
    pub fn post_to(
        &self,
        url: &str,
        timeout: Duration,
        https_only: bool,
        tls: Option<&EndpointTls>,
    ) -> Result<reqwest::RequestBuilder, Failure> {
        let url =
            reqwest::Url::parse(url).map_err(|e| (ErrorClass::Request, format!("url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err((
                ErrorClass::Request,
                format!("url: the scheme {} is not http or https", url.scheme()),
            ));
        }
        if (https_only || self.policy.https_only) && url.scheme() != "https" {
            return Err((
                ErrorClass::HttpsRequired,
                "url: http:// is refused, this endpoint is delivered over HTTPS only".into(),
            ));
        }
        ssrf::check_literal(&self.policy, &url).map_err(|e| (ErrorClass::SsrfBlocked, e.0))?;
        let client = match tls {
            Some(t) if t.client_certificate.is_some() || t.ca_bundle.is_some() => {
                self.client_for(t)?
            }
            _ => self.client.clone(),
        };
        Ok(client.post(url).timeout(timeout))
    }

    /// The client of an endpoint with TLS settings: its CA bundle instead of the system's
    /// roots, its client certificate presented.
    fn client_for(&self, tls: &EndpointTls) -> Result<reqwest::Client, Failure> {
        let mut hash = Sha256::new();
        for part in [&tls.client_certificate, &tls.client_key, &tls.ca_bundle] {
            let part = part.as_deref().unwrap_or("");
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let key: [u8; 32] = hash.finalize().into();
        let mut clients = self.tls_clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let unusable = |what: &str, e: reqwest::Error| {
            (
                ErrorClass::Tls,
                format!(
                    "tls: the endpoint's {what} cannot be used: {}",
                    describe(&e)
                ),
            )
        };
        let mut b = builder(&self.policy);
        if let Some(ca) = &tls.ca_bundle {
            let roots = reqwest::Certificate::from_pem_bundle(ca.as_bytes())
                .map_err(|e| unusable("CA bundle", e))?;
            b = b.tls_certs_only(roots);
        }
        if let (Some(cert), Some(key)) = (&tls.client_certificate, &tls.client_key) {
            let identity = reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes())
                .map_err(|e| unusable("client certificate and key", e))?;
            b = b.identity(identity);
        }
        let client = b
            .build()
            .map_err(|e| unusable("client certificate, key or CA bundle", e))?;
        if clients.len() >= MAX_TLS_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Sends a request built by [`GuardedClient::post`].
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        request
            .send()
            .await
            .map_err(|e| (classify(&e), describe(&e)))
    }
}

/// Every client starts from this: the guarded resolver, no redirects, no proxy.
fn builder(policy: &Arc<TargetPolicy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver {
            policy: policy.clone(),
        }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .pool_max_idle_per_host(256)
        .connect_timeout(Duration::from_secs(10))
}

/// Which certificate problem the receiver's was, from rustls's words for it (the error
/// chain, lowercased): expired, issued for another name, or signed by an unknown CA.
fn certificate_class(text: &str) -> Option<ErrorClass> {
    if !text.contains("invalid peer certificate") {
        return None;
    }
    if text.contains("expired") {
        Some(ErrorClass::TlsExpired)
    } else if text.contains("not valid for name") || text.contains("notvalidforname") {
        Some(ErrorClass::TlsNameMismatch)
    } else if text.contains("unknownissuer") || text.contains("unknown issuer") {
        Some(ErrorClass::TlsUnknownCa)
    } else {
        None
    }
}

/// Reads at most `cap` bytes of the body within `timeout` (the rest is not waited for), and
/// says whether it was cut.
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    timeout: Duration,
) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let mut cut = false;
    let read = async {
        while let Ok(Some(chunk)) = response.chunk().await {
            buf.extend_from_slice(&chunk);
            if buf.len() > cap {
                cut = true;
                break;
            }
        }
    };
    if tokio::time::timeout(timeout, read).await.is_err() {
        cut = true;
    }
    buf.truncate(cap);
    (buf, cut)
}

pub fn classify(e: &reqwest::Error) -> ErrorClass {
    if e.is_timeout() {
        return ErrorClass::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(s) = source {
        if s.downcast_ref::<SsrfBlocked>().is_some() {
            return ErrorClass::SsrfBlocked;
        }
        text.push_str(&s.to_string().to_ascii_lowercase());
        text.push(' ');
        source = s.source();
    }
    // First: a name mismatch's words name the certificate's DnsName.
    if let Some(class) = certificate_class(&text) {
        class
    } else if text.contains("dns") || text.contains("lookup") || text.contains("no addresses") {
        ErrorClass::Dns
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        ErrorClass::Tls
    } else if e.is_connect() {
        ErrorClass::Connect
    } else {
        ErrorClass::Request
    }
}

/// The error with its causes, for the attempt log.
pub fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_problems_are_told_apart() {
        let c = |t: &str| certificate_class(&t.to_ascii_lowercase());
        assert_eq!(
            c(
                "client error (Connect): invalid peer certificate: certificate expired: verification time 1796592895 (UNIX), but certificate is not valid after 1609459200"
            ),
            Some(ErrorClass::TlsExpired)
        );
        assert_eq!(
            c(
                "invalid peer certificate: certificate not valid for name \"127.0.0.1\"; certificate is only valid for DnsName(\"receiver.example\")"
            ),
            Some(ErrorClass::TlsNameMismatch)
        );
        assert_eq!(
            c("invalid peer certificate: UnknownIssuer"),
            Some(ErrorClass::TlsUnknownCa)
        );
        assert_eq!(c("received fatal alert: CertificateRequired"), None);
    }
}
