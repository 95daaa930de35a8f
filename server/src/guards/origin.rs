//! Cross-site request forgery: a write that a browser authenticates with the session
//! cookie must come from the dashboard's own origin. `SameSite=Lax` does not separate
//! another port or a sibling subdomain, so the browser's own word on where a request comes
//! from is checked: `Origin`, or when absent `Sec-Fetch-Site`, or when both are absent
//! `Referer`, against the public URL (`--public-url`).
//!
//! - Safe methods (GET, HEAD, OPTIONS) change nothing and pass.
//! - A request carrying `Authorization` (an API key) outside the server functions passes:
//!   a browser cannot add that header across origins without a CORS grant, which Hookline
//!   never gives, and cookies carry no authority on the REST API.
//! - A post to a source URL (`/in/…`) passes: the source's own verification is its only
//!   authority, and a session cookie grants nothing there.
//! - Otherwise evidence that names another origin is refused with 403. With no evidence
//!   at all, a request with the session cookie is refused (every current browser sends
//!   `Origin` on a POST, so only a non-browser client omits it, and it can sign in
//!   without a cookie jar); one without the cookie has no ambient authority to abuse and
//!   passes, so scripts can still sign in.

use super::{SERVER_FN_PREFIX, refusal};
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, ORIGIN, REFERER};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// `--public-url`: the scheme, host and port browsers use to reach the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Accepts `http(s)://host[:port]` with at most a trailing `/`: the origin is all that
    /// is compared, and Hookline serves from the root.
    pub fn parse(s: &str) -> Result<PublicUrl, String> {
        let url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must start with http:// or https://".into());
        }
        if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
            return Err("must name a host, without credentials".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(
                "must be an origin such as https://hooks.example.com, without a path".into(),
            );
        }
        Ok(PublicUrl(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct OriginPolicy {
    /// Serialised origins (`http://127.0.0.1:3000`), the first being the public URL.
    allowed: Vec<String>,
    cookie_name: &'static str,
}

impl OriginPolicy {
    /// The configured public URL, or `http://` plus the address actually listened on. A
    /// loopback address also admits `localhost` (the same machine by another name); an
    /// unspecified one (`0.0.0.0`) admits only loopback, and the caller should warn.
    pub fn new(public: Option<&PublicUrl>, listen: SocketAddr, cookie_name: &'static str) -> Self {
        let allowed = match public {
            Some(url) => vec![url.0.clone()],
            None => {
                let port = listen.port();
                let ip = match listen.ip() {
                    IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                    ip => ip,
                };
                let mut allowed = vec![format!("http://{}", SocketAddr::new(ip, port))];
                if ip.is_loopback() {
                    allowed.push(format!("http://localhost:{port}"));
                }
                allowed
            }
        };
        Self {
            allowed,
            cookie_name,
        }
    }

    /// The origin pages are expected to come from (for messages and the start-up log).
    pub fn public(&self) -> &str {
        &self.allowed[0]
    }

    fn admits(&self, url: &str) -> bool {
        url::Url::parse(url.trim())
            .map(|u| u.origin().ascii_serialization())
            .is_ok_and(|origin| self.allowed.contains(&origin))
    }

    fn carries_session_cookie(&self, headers: &HeaderMap) -> bool {
        app::backend::access::cookies::pairs(headers)
            .any(|(name, _)| name == self.cookie_name || name == app::types::portal::PORTAL_COOKIE)
    }

    /// Whether a request may go on; the refusal says what was wrong and what to do.
    pub fn judge(&self, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), AppError> {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Ok(());
        }
        if !path.starts_with(SERVER_FN_PREFIX) && headers.contains_key(AUTHORIZATION) {
            return Ok(());
        }
        // A source URL: partners post from anywhere, and cookies carry no authority there
        // (each source verifies its partner by its own scheme).
        if path.starts_with("/in/") {
            return Ok(());
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let refused = |what: String| {
            Err(AppError::forbidden(format!(
                "cross-origin request refused: {what}, not from {}. If this is the dashboard, \
                 start Hookline with --public-url set to the address in the browser's bar",
                self.public()
            )))
        };
        if let Some(origin) = header(ORIGIN.as_str()) {
            return if self.admits(origin) {
                Ok(())
            } else {
                refused(format!("it comes from {origin} (Origin)"))
            };
        }
        if let Some(site) = header("sec-fetch-site") {
            return if site.eq_ignore_ascii_case("same-origin") {
                Ok(())
            } else {
                refused(format!("the browser says it is {site} (Sec-Fetch-Site)"))
            };
        }
        if let Some(referer) = header(REFERER.as_str()) {
            return if self.admits(referer) {
                Ok(())
            } else {
                refused("it was sent from another page's address (Referer)".into())
            };
        }
        if self.carries_session_cookie(headers) {
            return Err(AppError::forbidden(format!(
                "a signed-in write must say where it comes from: send Origin: {} \
                 (browsers do; for scripts, use an API key on /api/v1 instead)",
                self.public()
            )));
        }
        Ok(())
    }
}

pub async fn enforce(
    State(policy): State<Arc<OriginPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    match policy.judge(request.method(), request.uri().path(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::warn!(
                method = %request.method(),
                path = request.uri().path(),
                origin = ?request.headers().get(ORIGIN),
                "cross-origin write refused"
            );
            refusal(request.uri().path(), refused)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOKIE_NAME: &str = "hookline_session";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn local() -> OriginPolicy {
        OriginPolicy::new(None, "127.0.0.1:3000".parse().unwrap(), COOKIE_NAME)
    }

    fn judge(policy: &OriginPolicy, path: &str, pairs: &[(&'static str, &str)]) -> bool {
        policy.judge(&Method::POST, path, &headers(pairs)).is_ok()
    }

    /// Whether a POST to a server function with these headers passes.
    fn sf(policy: &OriginPolicy, pairs: &[(&'static str, &str)]) -> bool {
        judge(policy, "/api/fn/x", pairs)
    }

    #[test]
    fn public_urls_are_origins() {
        assert_eq!(
            PublicUrl::parse("https://Hooks.Example.com/")
                .unwrap()
                .as_str(),
            "https://hooks.example.com"
        );
        assert_eq!(
            PublicUrl::parse("https://hooks.example.com:443")
                .unwrap()
                .as_str(),
            "https://hooks.example.com",
            "the default port is implied, as browsers send it"
        );
        assert_eq!(
            PublicUrl::parse("http://10.0.0.5:8080").unwrap().as_str(),
            "http://10.0.0.5:8080"
        );
        for bad in [
            "hooks.example.com",
            "ftp://hooks.example.com",
            "https://hooks.example.com/hookline",
            "https://user:pw@hooks.example.com",
            "https://hooks.example.com/?x=1",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_follows_the_listen_address() {
        let p = local();
        assert!(sf(&p, &[("origin", "http://127.0.0.1:3000")]));
        assert!(sf(&p, &[("origin", "http://localhost:3000")]));
        assert!(!sf(&p, &[("origin", "http://127.0.0.1:8081")]));
        let any = OriginPolicy::new(None, "0.0.0.0:3000".parse().unwrap(), COOKIE_NAME);
        assert_eq!(any.public(), "http://127.0.0.1:3000");
        let lan = OriginPolicy::new(None, "10.1.2.3:3000".parse().unwrap(), COOKIE_NAME);
        assert!(sf(&lan, &[("origin", "http://10.1.2.3:3000")]));
        assert!(!sf(&lan, &[("origin", "http://localhost:3000")]));
    }

    #[test]
    fn a_configured_public_url_is_the_only_origin() {
        let url = PublicUrl::parse("https://hooks.example.com").unwrap();
        let p = OriginPolicy::new(Some(&url), "127.0.0.1:3000".parse().unwrap(), COOKIE_NAME);
        assert!(sf(&p, &[("origin", "https://hooks.example.com")]));
        assert!(!sf(&p, &[("origin", "http://hooks.example.com")]));
        assert!(!sf(&p, &[("origin", "https://evil.example.com")]));
        assert!(!sf(&p, &[("origin", "http://127.0.0.1:3000")]));
        assert!(!sf(&p, &[("origin", "null")]));
    }

    #[test]
    fn without_origin_fetch_metadata_then_referer_decide() {
        let p = local();
        let cookie = ("cookie", "a=b; hookline_session=xyz");
        assert!(sf(&p, &[cookie, ("sec-fetch-site", "same-origin")]));
        assert!(!sf(&p, &[cookie, ("sec-fetch-site", "same-site")]));
        assert!(!sf(&p, &[cookie, ("sec-fetch-site", "cross-site")]));
        assert!(sf(
            &p,
            &[cookie, ("referer", "http://127.0.0.1:3000/users")]
        ));
        assert!(!sf(&p, &[cookie, ("referer", "http://127.0.0.1:8081/")]));
        // Origin wins when present.
        assert!(!sf(
            &p,
            &[
                cookie,
                ("origin", "http://127.0.0.1:8081"),
                ("sec-fetch-site", "same-origin")
            ]
        ));
    }

    #[test]
    fn no_evidence_is_refused_only_with_the_session_cookie() {
        let p = local();
        assert!(!sf(&p, &[("cookie", "hookline_session=xyz")]));
        assert!(judge(&p, "/api/fn/login", &[]));
        assert!(judge(
            &p,
            "/api/fn/login",
            &[("cookie", "hookline_session_other=1")]
        ));
    }

    #[test]
    fn api_keys_and_safe_methods_are_not_subject_to_it() {
        let p = local();
        let foreign = ("origin", "http://127.0.0.1:8081");
        assert!(judge(
            &p,
            "/api/v1/events",
            &[("authorization", "Bearer hlk_x")]
        ));
        assert!(judge(
            &p,
            "/api/v1/events",
            &[("authorization", "Bearer hlk_x"), foreign]
        ));
        assert!(!judge(&p, "/api/v1/events", &[foreign]));
        // Server functions authenticate by cookie, whatever else is sent.
        assert!(!sf(&p, &[("authorization", "Bearer hlk_x"), foreign]));
        let h = headers(&[foreign, ("cookie", "hookline_session=xyz")]);
        assert!(p.judge(&Method::GET, "/live/deliveries", &h).is_ok());
        assert!(p.judge(&Method::DELETE, "/api/fn/x", &h).is_err());
    }
}
