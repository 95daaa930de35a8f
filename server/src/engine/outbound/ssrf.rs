//! The SSRF guard. Destinations that resolve to loopback, private, link-local (cloud
//! metadata), multicast or otherwise special addresses are refused unless private targets
//! are allowed or an allow-list covers them. The check runs in the HTTP client's own DNS
//! resolver, so the address checked is the address connected to; IP-literal URLs are
//! checked before the request.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Why an address is not a public destination, or `None` when it is.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return special_v4(v4);
            }
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if s[0] & 0xffc0 == 0xfe80 || s[0] & 0xffc0 == 0xfec0 {
                Some("link-local")
            } else if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64: judge the embedded IPv4 address.
                special_v4(Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                ))
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some("documentation")
            } else {
                None
            }
        }
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some(if o == [169, 254, 169, 254] {
            "cloud metadata"
        } else {
            "link-local"
        })
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || ip.is_unspecified() || o[0] == 0 {
        Some("unspecified or broadcast")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("carrier-grade NAT")
    } else if o[0] >= 240 {
        Some("reserved")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignments")
    } else {
        None
    }
}

pub use app::backend::cidr::Cidr;

#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    pub allow_private: bool,
    pub allow: Vec<Cidr>,
    /// `--https-only`: no request goes to an `http://` URL.
    pub https_only: bool,
}

impl TargetPolicy {
    /// `Err(reason)` when `ip` may not be contacted.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match special_range(ip) {
            None => Ok(()),
            Some(_) if self.allow_private || self.allow.iter().any(|c| c.contains(ip)) => Ok(()),
            Some(kind) => Err(format!(
                "{ip} is a {kind} address; refused to prevent SSRF (allow it with --allow-private-targets or --allow-targets)"
            )),
        }
    }
}

/// Marks a refusal in the error chain, so the attempt log can say `ssrf_blocked`.
#[derive(Debug)]
pub struct SsrfBlocked(pub String);

impl std::fmt::Display for SsrfBlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SsrfBlocked {}

/// The client's resolver: resolves, then drops every address the policy refuses.
pub struct GuardedResolver {
    pub policy: Arc<TargetPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if found.is_empty() {
                return Err(format!("{host} has no addresses").into());
            }
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused = Some(e);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_default();
                return Err(Box::new(SsrfBlocked(format!("{host} resolves to {why}")))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// For URLs whose host is an IP literal (the resolver never sees those).
pub fn check_literal(policy: &TargetPolicy, url: &reqwest::Url) -> Result<(), SsrfBlocked> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    policy.check(ip).map_err(SsrfBlocked)
}

#[allow(dead_code)]
fn _assert_types(_: Ipv6Addr) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_refused() {
        let p = TargetPolicy::default();
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "ff02::1",
        ] {
            assert!(p.check(bad.parse().unwrap()).is_err(), "{bad}");
        }
        for good in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "172.32.0.1",
            "64:ff9b::808:808",
        ] {
            assert!(p.check(good.parse().unwrap()).is_ok(), "{good}");
        }
        assert!(
            p.check("169.254.169.254".parse().unwrap())
                .unwrap_err()
                .contains("cloud metadata")
        );
    }

    #[test]
    fn allow_list_and_switch() {
        let p = TargetPolicy {
            allow_private: false,
            https_only: false,
            allow: vec![
                Cidr::parse("10.0.0.0/8").unwrap(),
                Cidr::parse("127.0.0.1").unwrap(),
            ],
        };
        assert!(p.check("10.200.0.1".parse().unwrap()).is_ok());
        assert!(p.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(p.check("127.0.0.2".parse().unwrap()).is_err());
        assert!(p.check("192.168.0.1".parse().unwrap()).is_err());
        let open = TargetPolicy {
            allow_private: true,
            ..Default::default()
        };
        assert!(open.check("192.168.0.1".parse().unwrap()).is_ok());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
    }
}
