//! IP address and network patterns of ACLs (`src 10.0.0.0/8`, `::1`, `-m ip`), and the
//! IPv4/IPv6 cross-family matching rules of configuration.txt section 7.1.6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// An IPv4 or IPv6 network: an address with a mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IpNet {
    /// IPv4 network (address already masked) and mask.
    V4 { addr: u32, mask: u32 },
    /// IPv6 network (address already masked) and mask.
    V6 { addr: u128, mask: u128 },
}

fn bits4(n: u32) -> u32 {
    if n == 0 { 0 } else { u32::MAX << (32 - n) }
}

fn bits6(n: u32) -> u128 {
    if n == 0 { 0 } else { u128::MAX << (128 - n) }
}

/// Parses HAProxy's IPv4 forms, including the abbreviated `10.12` (= 10.0.0.12) and
/// `192.168.1` (= 192.168.0.1) forms of section 7.1.6 (inet_aton rules).
fn parse_v4(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        if p.is_empty() {
            return None;
        }
        nums.push(p.parse::<u32>().ok()?);
    }
    match nums.as_slice() {
        [a] => Some(*a),
        [a, b] if *a < 256 && *b < (1 << 24) => Some(a << 24 | b),
        [a, b, c] if *a < 256 && *b < 256 && *c < (1 << 16) => Some(a << 24 | b << 16 | c),
        [a, b, c, d] if [a, b, c, d].iter().all(|x| **x < 256) => {
            Some(a << 24 | b << 16 | c << 8 | d)
        }
        _ => None,
    }
}

impl IpNet {
    /// Parses `ADDR[/MASK]`: IPv4 masks as a bit count or a dotted mask, IPv6 masks as a
    /// bit count. Host names are resolved at load time unless `no_dns` (`-n`) is set
    /// (IPv4 only, as HAProxy does).
    pub(crate) fn parse(text: &str, no_dns: bool) -> Result<IpNet, String> {
        let bad = || format!("'{text}' is not a valid IPv4 or IPv6 address");
        let (addr, mask) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        if let Some(v4) = parse_v4(addr) {
            let mask = match mask {
                None => u32::MAX,
                Some(m) => match m.parse::<u32>() {
                    Ok(n) if n <= 32 => bits4(n),
                    Ok(_) => return Err(bad()),
                    Err(_) => {
                        let mv = parse_v4(m).filter(|_| m.contains('.')).ok_or_else(bad)?;
                        // a dotted mask must be contiguous ones
                        if mv.leading_ones() + mv.trailing_zeros() != 32 {
                            return Err(bad());
                        }
                        mv
                    }
                },
            };
            return Ok(IpNet::V4 {
                addr: v4 & mask,
                mask,
            });
        }
        if let Ok(v6) = addr.parse::<Ipv6Addr>() {
            let mask = match mask {
                None => u128::MAX,
                Some(m) => match m.parse::<u32>() {
                    Ok(n) if n <= 128 => bits6(n),
                    _ => return Err(bad()),
                },
            };
            return Ok(IpNet::V6 {
                addr: u128::from(v6) & mask,
                mask,
            });
        }
        if no_dns || addr.is_empty() || addr.contains(':') {
            return Err(bad());
        }
        // A host name: resolved once, at load time; HAProxy keeps its first IPv4 address.
        let resolved = (addr, 0u16).to_socket_addrs().map_err(|_| bad())?;
        let v4 = resolved
            .filter_map(|sa| match sa.ip() {
                IpAddr::V4(v4) => Some(u32::from(v4)),
                IpAddr::V6(_) => None,
            })
            .next()
            .ok_or_else(bad)?;
        let mask = match mask {
            None => u32::MAX,
            Some(m) => match m.parse::<u32>() {
                Ok(n) if n <= 32 => bits4(n),
                _ => return Err(bad()),
            },
        };
        Ok(IpNet::V4 {
            addr: v4 & mask,
            mask,
        })
    }

    /// True when `ip` is inside this network, following section 7.1.6: an IPv6 sample
    /// matches an IPv4 pattern through its `::ffff:a.b.c.d`, `::a.b.c.d` or
    /// `2002:a.b.c.d::` forms; an IPv4 sample is mapped to `::ffff:a.b.c.d` for IPv6
    /// patterns.
    pub(crate) fn contains(&self, ip: &IpAddr) -> bool {
        match (*self, ip) {
            (IpNet::V4 { addr, mask }, IpAddr::V4(v4)) => u32::from(*v4) & mask == addr,
            (IpNet::V4 { addr, mask }, IpAddr::V6(v6)) => match v6_embedded_v4(v6) {
                Some(v4) => u32::from(v4) & mask == addr,
                None => false,
            },
            (IpNet::V6 { addr, mask }, IpAddr::V6(v6)) => u128::from(*v6) & mask == addr,
            (IpNet::V6 { addr, mask }, IpAddr::V4(v4)) => {
                u128::from(v4.to_ipv6_mapped()) & mask == addr
            }
        }
    }
}

/// The IPv4 address an IPv6 one carries as `::ffff:V4`, `::V4` or `2002:V4::` (6to4).
fn v6_embedded_v4(v6: &Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    if s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] == 0x2002 && s[3..8] == [0, 0, 0, 0, 0] {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Parses an address found in a request header for `hdr_ip`: an IPv4 or IPv6 address,
/// IPv4 optionally followed by `:PORT` (dropped), as `req.hdr_ip` accepts. No allocation.
pub(crate) fn parse_header_ip(value: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(value).ok()?.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let (a, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    a.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}
