//! Reading the `Cookie` headers of a request: one place for the guards that look for the
//! session cookie and the portal cookie.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// Every `name=value` pair of the request's `Cookie` headers, names and values trimmed.
pub fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.trim(), value.trim()))
}

/// The value of the cookie `name`, if the request carries it.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    pairs(headers).find(|(n, _)| *n == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; hookline_portal=hlp_x".parse().unwrap());
        h.append(COOKIE, "b = 2".parse().unwrap());
        assert_eq!(value(&h, "hookline_portal"), Some("hlp_x"));
        assert_eq!(value(&h, "b"), Some("2"));
        assert_eq!(value(&h, "hookline"), None);
        assert_eq!(pairs(&h).count(), 3);
    }
}
