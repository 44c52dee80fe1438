//! Address converters: `ipmask(mask4[,mask6])`.

use super::row::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The converters of this family.
pub(super) static CONVERTERS: &[ConvDef] =
    &[ConvDef::custom("ipmask", SmpType::Ip, IpMask::build).args(&[S, S], 1)];

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
}
