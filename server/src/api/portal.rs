//! `GET /portal?link=<token>`: opens a portal link. A valid link becomes the portal cookie
//! (HttpOnly, until the link expires) and a redirect to `/portal`, so the token leaves the
//! address bar and the history; a refused one clears the cookie and redirects to
//! `/portal?refused=invalid|expired|revoked`, which the portal page explains. Anything else
//! goes on to the app.

use app::backend::access::portal_links::{PortalLinks, PortalRefusal};
use app::types::portal::PORTAL_COOKIE;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The portal cookie's attributes. HttpOnly always; `SameSite=Lax` unless the portal may be
/// framed by another site over HTTPS, where a Lax cookie would not be sent: then
/// `SameSite=None; Secure; Partitioned` (kept per embedding site, as browsers that block
/// third-party cookies allow). Cross-site writes stay refused by the origin check.
pub struct PortalCookie {
    attributes: &'static str,
}

impl PortalCookie {
    pub fn new(secure: bool, embeddable: bool) -> PortalCookie {
        let attributes = match (secure, embeddable) {
            (true, true) => "HttpOnly; SameSite=None; Secure; Partitioned; Path=/",
            (true, false) => "HttpOnly; SameSite=Lax; Secure; Path=/",
            (false, _) => "HttpOnly; SameSite=Lax; Path=/",
        };
        PortalCookie { attributes }
    }

    fn set(&self, token: &str, seconds: i64) -> String {
        format!(
            "{PORTAL_COOKIE}={token}; {}; Max-Age={seconds}",
            self.attributes
        )
    }
}

pub async fn open_link(
    links: Arc<PortalLinks>,
    cookie: Arc<PortalCookie>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET || request.uri().path() != "/portal" {
        return next.run(request).await;
    }
    let token = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "link")
            .map(|(_, v)| v.into_owned())
    });
    let Some(token) = token else {
        return next.run(request).await;
    };
    let (location, cookie) = match links.verify(&token).await {
        Ok(grant) => {
            let seconds = (grant.expires_at.0 - app::backend::now_ms()).max(0) / 1000;
            ("/portal".to_owned(), cookie.set(&token, seconds))
        }
        Err(why) => {
            let kind = match why {
                PortalRefusal::Invalid => "invalid",
                PortalRefusal::Expired(_) => "expired",
                PortalRefusal::Revoked(_) => "revoked",
            };
            (format!("/portal?refused={kind}"), cookie.set("", 0))
        }
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let (Ok(location), Ok(cookie)) = (
        HeaderValue::from_str(&location),
        HeaderValue::from_str(&cookie),
    ) {
        headers.insert(header::LOCATION, location);
        headers.insert(header::SET_COOKIE, cookie);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
