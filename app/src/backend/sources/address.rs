//! Whose request it is: the address a source's allowlist judges.

use crate::backend::cidr::Cidr;

/// The client's address: the connection's, or, when that is a trusted proxy, the last
/// address in `X-Forwarded-For` that is not one (proxies append what they saw, so
/// anything left of a trusted hop is the client's own claim and is not believed).
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
    trusted: &[Cidr],
) -> std::net::IpAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return ip,
            // An unreadable hop: stop at the last address we could trust.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // From a trusted proxy: the last hop it did not add itself.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("203.0.113.9"), &proxy),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                Some("198.51.100.1, 203.0.113.9, 10.0.0.7"),
                &proxy
            ),
            ip("203.0.113.9"),
            "a client's own claim left of the real hop is not believed"
        );
        // From anyone else the header is ignored.
        assert_eq!(
            client_address(ip("192.0.2.1"), Some("10.1.1.1"), &proxy),
            ip("192.0.2.1")
        );
        assert_eq!(client_address(ip("10.0.0.5"), None, &proxy), ip("10.0.0.5"));
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("nonsense"), &proxy),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("1.2.3.4"), &[]),
            ip("10.0.0.5")
        );
    }
}
