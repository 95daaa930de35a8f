//! The one HTTP client for every outbound request (deliveries, test-fire, OAuth2 token
//! fetches, anything added later). The SSRF policy, the no-redirect rule, the schemes and
//! the body caps live here, so no caller can send a request around them: the resolver
//! drops refused addresses (the address checked is the address connected to), and IP
//! literals, which never reach a resolver, are checked before the request is built.

use crate::engine::outbound::ssrf::{self, GuardedResolver, SsrfBlocked, TargetPolicy};
use crate::engine::outcome::ErrorClass;
use std::sync::Arc;
use std::time::Duration;

pub const USER_AGENT: &str = concat!("Hookline/", env!("CARGO_PKG_VERSION"));

#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<TargetPolicy>,
}

/// Why a request was not sent or failed, for the attempt log.
pub type Failure = (ErrorClass, String);

impl GuardedClient {
    pub fn new(policy: TargetPolicy) -> anyhow::Result<GuardedClient> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .pool_max_idle_per_host(256)
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(GuardedClient { client, policy })
    }

    /// A POST to `url` with a time limit, once the URL passes the guard: http(s) only, and
    /// an IP-literal host must be an allowed address.
    pub fn post(&self, url: &str, timeout: Duration) -> Result<reqwest::RequestBuilder, Failure> {
        let url =
            reqwest::Url::parse(url).map_err(|e| (ErrorClass::Request, format!("url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err((
                ErrorClass::Request,
                format!("url: the scheme {} is not http or https", url.scheme()),
            ));
        }
        ssrf::check_literal(&self.policy, &url).map_err(|e| (ErrorClass::SsrfBlocked, e.0))?;
        Ok(self.client.post(url).timeout(timeout))
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
    if text.contains("dns") || text.contains("lookup") || text.contains("no addresses") {
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
