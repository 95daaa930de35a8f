//! Address blocks (`10.0.0.0/8`, `::1/128`, a bare address for one host): the SSRF
//! guard's allowed targets, the sources' allowlists and the trusted proxies share this one
//! type. An IPv4 block also holds the IPv4-mapped IPv6 form of its addresses.

use std::net::IpAddr;

/// A CIDR block such as `10.0.0.0/8` or `::1/128` (a bare address means one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("'{s}': prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(Cidr { net, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.bits),
            (IpAddr::V4(n), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|a| prefix_eq(&n.octets(), &a.octets(), self.bits)),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = (bits / 8) as usize;
    let rest = bits % 8;
    a[..full] == b[..full] && (rest == 0 || (a[full] ^ b[full]) & (0xffu8 << (8 - rest)) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_their_addresses_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let net = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(net.contains(ip("192.0.2.77")));
        assert!(!net.contains(ip("192.0.3.1")));
        assert!(net.contains(ip("::ffff:192.0.2.9")), "v4-mapped");
        let one = Cidr::parse("10.1.2.3").unwrap();
        assert!(one.contains(ip("10.1.2.3")) && !one.contains(ip("10.1.2.4")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains(ip("2001:db8::1"))
        );
        for bad in ["", "10.0.0.0/33", "nope", "10.0.0/8"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }
}
