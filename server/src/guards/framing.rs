//! Who may show Hookline's pages in a frame. The dashboard: nobody (`X-Frame-Options: DENY`
//! and `Content-Security-Policy: frame-ancestors 'none'`), so no other site can overlay it
//! and trick an admin into clicks. The tenant portal (`/portal`): Hookline itself and the
//! origins `--portal-frame-ancestor` names, so a product can embed it for its customers;
//! there the CSP decides and `X-Frame-Options` is left out (it has no way to allow one
//! origin).

use super::origin::PublicUrl;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// At most this many embedding origins: each is sent on every portal page.
pub const MAX_ANCESTORS: usize = 16;

pub struct FramePolicy {
    portal: HeaderValue,
    embeddable: bool,
}

impl FramePolicy {
    pub fn new(ancestors: &[PublicUrl]) -> anyhow::Result<FramePolicy> {
        if ancestors.len() > MAX_ANCESTORS {
            anyhow::bail!(
                "--portal-frame-ancestor names {} origins; at most {MAX_ANCESTORS}",
                ancestors.len()
            );
        }
        let mut policy = "frame-ancestors 'self'".to_owned();
        for origin in ancestors {
            policy.push(' ');
            policy.push_str(origin.as_str());
        }
        Ok(FramePolicy {
            portal: HeaderValue::from_str(&policy)?,
            embeddable: !ancestors.is_empty(),
        })
    }

    /// True when another origin may frame the portal.
    pub fn embeddable(&self) -> bool {
        self.embeddable
    }
}

/// The portal's pages (not its server functions: those are never framed, only called).
pub fn is_portal_page(path: &str) -> bool {
    path == "/portal" || path.starts_with("/portal/")
}

pub async fn enforce(
    State(policy): State<Arc<FramePolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let portal = is_portal_page(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if portal {
        headers.insert(CONTENT_SECURITY_POLICY, policy.portal.clone());
        headers.remove(X_FRAME_OPTIONS);
    } else {
        if !headers.contains_key(CONTENT_SECURITY_POLICY) {
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
        }
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_policy_names_self_and_each_origin() {
        let origins: Vec<PublicUrl> = ["https://app.example.com", "http://localhost:8080/"]
            .iter()
            .map(|s| PublicUrl::parse(s).unwrap())
            .collect();
        let policy = FramePolicy::new(&origins).unwrap();
        assert_eq!(
            policy.portal,
            "frame-ancestors 'self' https://app.example.com http://localhost:8080"
        );
        assert!(policy.embeddable());
        assert!(!FramePolicy::new(&[]).unwrap().embeddable());
        let many = vec![origins[0].clone(); MAX_ANCESTORS + 1];
        assert!(FramePolicy::new(&many).is_err());
        assert!(is_portal_page("/portal") && is_portal_page("/portal/deliveries"));
        assert!(!is_portal_page("/portals") && !is_portal_page("/api/fn/portal_overview"));
    }
}
