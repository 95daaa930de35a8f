//! How every request leaves: the one guarded HTTP client ([`http`]), which resolves and
//! connects only to addresses the target policy allows ([`ssrf`]), with no redirects,
//! capped response bodies and timeouts. Deliveries, OAuth2 token requests and nothing else
//! go through it.

pub mod http;
pub mod ssrf;
