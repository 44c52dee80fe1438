//! Address converters: `ipmask(mask4[,mask6])`, and `host_only` / `port_only`, which
//! split a Host header value (`name`, `name:80`, `127.0.0.1:80`, `[::1]:80`).

use super::row::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] = &[
    ConvDef::custom("ipmask", SmpType::Ip, IpMask::build).args(&[S, S], 1),
    ConvDef::new("host_only", SmpType::Str, host_only),
    ConvDef::new("port_only", SmpType::Int, port_only),
];

/// Where the port of a Host value starts: after the last `:` not inside `[…]`.
fn port_colon(v: &[u8]) -> Option<usize> {
    let i = v.iter().rposition(|&c| c == b':' || c == b']')?;
    (v[i] == b':').then_some(i)
}

/// `host_only`: the host without its port, in lower case.
fn host_only(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, mut e) = as_str(cur, buf);
    if let Some(i) = port_colon(&buf[s..e]) {
        e = s + i;
    }
    buf[s..e].make_ascii_lowercase();
    Some(Cur::Str(s, e))
}

/// `port_only`: the port's leading digits as an integer; 0 without a port.
fn port_only(_: &Args, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
    let (s, e) = as_str(cur, buf);
    let v = &buf[s..e];
    let port = port_colon(v).map_or(0, |i| {
        v[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u32, |n, &c| {
                n.wrapping_mul(10).wrapping_add(u32::from(c - b'0'))
            })
    });
    Some(Cur::Int(port.into()))
}

/// Masks applied to an address.
#[derive(Debug)]
struct IpMask {
    v4: u32,
    v6: Option<u128>,
}

impl IpMask {
    fn build(args: &[ArgVal]) -> Result<Box<dyn Conv>, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgVal::Str(s)) => s.to_string(),
            _ => String::new(),
        };
        let m4 = text(0);
        let v4 = match m4.parse::<u32>() {
            Ok(n) if n <= 32 => u32::MAX.checked_shl(32 - n).unwrap_or(0),
            _ => {
                let a: Ipv4Addr = m4
                    .parse()
                    .map_err(|_| format!("'{m4}' is not a valid IPv4 mask"))?;
                u32::from(a)
            }
        };
        let m6 = text(1);
        let v6 = if m6.is_empty() {
            None
        } else {
            Some(match m6.parse::<u32>() {
                Ok(n) if n <= 128 => u128::MAX.checked_shl(128 - n).unwrap_or(0),
                _ => {
                    let a: Ipv6Addr = m6
                        .parse()
                        .map_err(|_| format!("'{m6}' is not a valid IPv6 mask"))?;
                    u128::from(a)
                }
            })
        };
        Ok(Box::new(IpMask { v4, v6 }))
    }
}

impl Conv for IpMask {
    fn step(&self, cur: Cur, buf: &mut Vec<u8>) -> Option<Cur> {
        let ip = match cur {
            Cur::Ip(ip) => ip,
            Cur::Str(s, e) => std::str::from_utf8(&buf[s..e]).ok()?.parse().ok()?,
            _ => return None,
        };
        Some(Cur::Ip(match ip {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & self.v4).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & self.v6?).into()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::s;

    #[test]
    fn ipmask_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("ipmask(24)", "192.168.1.77", Some("192.168.1.0")),
            ("ipmask(255.255.0.0)", "192.168.1.77", Some("192.168.0.0")),
            ("ipmask(24)", "2001:db8::1", None),
            ("ipmask(24,64)", "2001:db8:0:1:2::1", Some("2001:db8:0:1::")),
            ("ipmask(24,ffff::)", "2001:db8::1", Some("2001::")),
        ];
        for (chain, input, want) in cases {
            assert_eq!(s(chain, input).as_deref(), *want, "{chain} on {input}");
        }
    }

    #[test]
    fn host_only_and_port_only_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("host_only", "WWW.Example.com:8080", Some("www.example.com")),
            ("host_only", "example.com", Some("example.com")),
            ("host_only", "127.0.0.1:80", Some("127.0.0.1")),
            ("host_only", "[::1]:80", Some("[::1]")),
            ("host_only", "[::1]", Some("[::1]")),
            ("port_only", "example.com:8080", Some("8080")),
            ("port_only", "example.com", Some("0")),
            ("port_only", "[::1]:443", Some("443")),
            ("port_only", "[::1]", Some("0")),
            ("port_only", "host:", Some("0")),
            ("port_only", "host:12ab", Some("12")),
        ];
        for (chain, input, want) in cases {
            assert_eq!(s(chain, input).as_deref(), *want, "{chain} on {input}");
        }
    }
}
