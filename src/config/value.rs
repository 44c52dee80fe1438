//! Typed argument parsers shared by keywords: durations, sizes, ports, addresses.
//! Messages follow HAProxy's wording so that operators recognise them.

use super::model::{BindAddr, ServerAddr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// Parses a HAProxy time value: digits followed by an optional unit (`us`, `ms`, `s`, `m`,
/// `h`, `d`); milliseconds by default. `what` names the keyword for the error message.
pub fn duration(text: &str, what: &str) -> Result<Duration, String> {
    duration_with_unit(text, what, 1_000)
}

/// Like [`duration`] with a default unit given in microseconds per unit.
pub fn duration_with_unit(text: &str, what: &str, default_us: u64) -> Result<Duration, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return match text.chars().next() {
            Some(c) => Err(format!("unexpected character '{c}' in '{what}'")),
            None => Err(format!(
                "'{what}' expects an integer value (with an optional unit)"
            )),
        };
    }
    let value: u64 = text[..digits]
        .parse()
        .map_err(|_| format!("timer overflow in argument '{text}' to '{what}'"))?;
    let unit_us: u64 = match &text[digits..] {
        "" => default_us,
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        rest => {
            let c = rest.chars().next().unwrap_or(' ');
            return Err(format!("unexpected character '{c}' in '{what}'"));
        }
    };
    let us = value
        .checked_mul(unit_us)
        .filter(|us| *us / 1000 <= i32::MAX as u64)
        .ok_or_else(|| {
            format!("timer overflow in argument '{text}' to '{what}' (maximum value is 2147483647 ms or ~24.8 days)")
        })?;
    Ok(Duration::from_micros(us))
}

/// Parses a size with an optional `k`, `m`, `g` suffix (powers of 1024).
pub fn size(text: &str, what: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let value: u64 = text[..digits]
        .parse()
        .map_err(|_| format!("'{what}' expects a size, got '{text}'"))?;
    let mult = match text[digits..].to_ascii_lowercase().as_str() {
        "" => 1,
        "k" => 1024,
        "m" => 1024 * 1024,
        "g" => 1024 * 1024 * 1024,
        _ => return Err(format!("'{what}' expects a size, got '{text}'")),
    };
    Ok(value * mult)
}

/// Parses a non-negative integer argument of `what`.
pub fn uint(text: &str, what: &str) -> Result<u32, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{what}' expects an integer argument, got '{text}'"
        ));
    }
    text.parse()
        .map_err(|_| format!("'{what}' : value '{text}' is too large"))
}

/// Parses a port number 1..=65535 (0 accepted when `allow_zero`).
pub fn port(text: &str, allow_zero: bool) -> Result<u16, String> {
    match text.parse::<u32>() {
        Ok(p) if p <= 65535 && (allow_zero || p > 0) => Ok(p as u16),
        _ => Err(format!("invalid port '{text}'")),
    }
}

fn resolve_host(host: &str) -> Result<IpAddr, String> {
    if host.is_empty() || host == "*" {
        return Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(ip);
    }
    if let Some(ip) = inet_aton(h) {
        return Ok(IpAddr::V4(ip));
    }
    (h, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .map(|sa| sa.ip())
        .ok_or_else(|| format!("could not resolve address '{h}'"))
}

/// The legacy `inet_aton` forms HAProxy accepts (`1.2.3` = `1.2.0.3`, `10.1` = `10.0.0.1`).
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let nums: Vec<u32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let last = *nums.last()?;
    let n = nums.len();
    let mut v: u32 = 0;
    for (i, x) in nums[..n - 1].iter().enumerate() {
        if *x > 255 {
            return None;
        }
        v |= x << (24 - 8 * i);
    }
    let room = 32 - 8 * (n as u32 - 1);
    if room < 32 && last >= (1u32 << room) {
        return None;
    }
    Some(Ipv4Addr::from(v | last))
}

/// Splits `host:port` where the host may be an IPv6 literal (the last colon separates the
/// port, as HAProxy does; brackets are accepted too).
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some(end) = rest.find(']')
    {
        {
            let host = &rest[..end];
            let after = &rest[end + 1..];
            return (host, after.strip_prefix(':'));
        }
    }
    match s.rfind(':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// Parses one `bind` address (`IP:PORT`, `[IPv6]:PORT`, `:::PORT`, `*:P1-P2`, `ipv4@`,
/// `ipv6@`, `unix@PATH`, `/path`, `abns@NAME`, `fd@N`).
pub fn bind_addr(text: &str) -> Result<BindAddr, String> {
    let (family, rest) = match text.split_once('@') {
        Some((f, r)) => (Some(f), r),
        None => (None, text),
    };
    match family {
        Some("unix") => return Ok(BindAddr::Unix(PathBuf::from(rest))),
        Some("abns") => return Ok(BindAddr::Abns(rest.to_owned())),
        Some("fd") => {
            return rest
                .parse::<i32>()
                .ok()
                .filter(|n| *n >= 0)
                .map(BindAddr::Fd)
                .ok_or_else(|| format!("invalid file descriptor '{rest}' in '{text}'"));
        }
        Some("ipv4") | Some("ipv6") | None => {}
        Some("sockpair") | Some("udp") | Some("udp4") | Some("udp6") | Some("quic4")
        | Some("quic6") | Some("uxst") | Some("uxdg") | Some("tcp") | Some("tcp4")
        | Some("tcp6") => {
            return Err(format!(
                "address family '{}@' is not supported yet by gatehouse",
                family.unwrap_or_default()
            ));
        }
        Some(f) => return Err(format!("unknown address family '{f}@' in '{text}'")),
    }
    if family.is_none() && rest.starts_with('/') {
        return Ok(BindAddr::Unix(PathBuf::from(rest)));
    }
    let (host, port_text) = split_host_port(rest);
    let port_text = port_text.ok_or_else(|| format!("missing port number: '{text}'"))?;
    let (p1, p2) = match port_text.split_once('-') {
        Some((a, b)) => (port(a, true)?, port(b, true)?),
        None => {
            let p = port(port_text, true)?;
            (p, p)
        }
    };
    if p2 < p1 {
        return Err(format!("invalid port range '{port_text}'"));
    }
    let mut ip = resolve_host(host)?;
    match (family, ip) {
        (Some("ipv6"), IpAddr::V4(v4)) if v4.is_unspecified() => {
            ip = IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        }
        (Some("ipv6"), IpAddr::V4(_)) | (Some("ipv4"), IpAddr::V6(_)) => {
            return Err(format!(
                "address '{host}' does not match family '{}@'",
                family.unwrap_or_default()
            ));
        }
        _ => {}
    }
    Ok(BindAddr::Inet {
        ip,
        port_start: p1,
        port_end: p2,
    })
}

/// Parses a `server` address (`host[:port]`, `host:+N`, `unix@PATH`, `/path`, `abns@NAME`).
pub fn server_addr(text: &str) -> Result<ServerAddr, String> {
    let (family, rest) = match text.split_once('@') {
        Some((f, r)) if !f.contains(':') && !f.contains('/') => (Some(f), r),
        _ => (None, text),
    };
    match family {
        Some("unix") => return Ok(ServerAddr::Unix(PathBuf::from(rest))),
        Some("abns") => return Ok(ServerAddr::Abns(rest.to_owned())),
        Some("ipv4") | Some("ipv6") | None => {}
        Some(f) => {
            return Err(format!(
                "address family '{f}@' is not supported for servers"
            ));
        }
    }
    if family.is_none() && rest.starts_with('/') {
        return Ok(ServerAddr::Unix(PathBuf::from(rest)));
    }
    // A bare IPv6 address without port has several colons and no brackets.
    let bare_v6 =
        !rest.starts_with('[') && rest.parse::<Ipv6Addr>().is_ok() && !rest.ends_with(':');
    let (host, port_text) = if bare_v6 {
        (rest, None)
    } else {
        split_host_port(rest)
    };
    let (port_v, offset) = match port_text {
        None | Some("") => (None, None),
        Some(p) if p.starts_with('+') || p.starts_with('-') => {
            let n: i32 = p.parse().map_err(|_| format!("invalid port '{p}'"))?;
            (None, Some(n))
        }
        Some(p) => (Some(port(p, true)?), None),
    };
    if host.is_empty() {
        return Err(format!("missing address in '{text}'"));
    }
    Ok(ServerAddr::Inet {
        host: host.to_owned(),
        port: port_v,
        offset,
    })
}

/// Parses `IP[/MASK]` where MASK is a prefix length or a dotted mask.
pub fn network(text: &str) -> Result<(IpAddr, u8), String> {
    let (ip, mask) = match text.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (text, None),
    };
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("invalid network '{text}'"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match mask {
        None => max,
        Some(m) => match m.parse::<u8>() {
            Ok(b) if b <= max => b,
            Ok(_) => return Err(format!("invalid network mask in '{text}'")),
            Err(_) => {
                let m: Ipv4Addr = m
                    .parse()
                    .map_err(|_| format!("invalid network mask in '{text}'"))?;
                let v = u32::from(m);
                if v.leading_ones() + v.trailing_zeros() != 32 {
                    return Err(format!("invalid network mask in '{text}'"));
                }
                v.leading_ones() as u8
            }
        },
    };
    Ok((ip, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_default_to_milliseconds_and_take_units() {
        assert_eq!(duration("500", "t").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("5s", "t").unwrap(), Duration::from_secs(5));
        assert_eq!(duration("2m", "t").unwrap(), Duration::from_secs(120));
        assert_eq!(duration("1h", "t").unwrap(), Duration::from_secs(3600));
        assert_eq!(duration("1d", "t").unwrap(), Duration::from_secs(86400));
        assert_eq!(duration("10us", "t").unwrap(), Duration::from_micros(10));
        assert_eq!(
            duration("abc", "timeout client").unwrap_err(),
            "unexpected character 'a' in 'timeout client'"
        );
        assert_eq!(
            duration("5x", "t").unwrap_err(),
            "unexpected character 'x' in 't'"
        );
        assert!(duration("30d", "t").is_err());
    }

    #[test]
    fn bind_addresses_in_every_form() {
        let any4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            bind_addr(":80").unwrap(),
            BindAddr::Inet {
                ip: any4,
                port_start: 80,
                port_end: 80
            }
        );
        assert_eq!(
            bind_addr("*:80").unwrap(),
            BindAddr::Inet {
                ip: any4,
                port_start: 80,
                port_end: 80
            }
        );
        assert_eq!(
            bind_addr(":::8080").unwrap(),
            BindAddr::Inet {
                ip: "::".parse().unwrap(),
                port_start: 8080,
                port_end: 8080
            }
        );
        assert_eq!(
            bind_addr("[::1]:80").unwrap(),
            BindAddr::Inet {
                ip: "::1".parse().unwrap(),
                port_start: 80,
                port_end: 80
            }
        );
        assert_eq!(
            bind_addr("127.0.0.1:8000-8003").unwrap(),
            BindAddr::Inet {
                ip: "127.0.0.1".parse().unwrap(),
                port_start: 8000,
                port_end: 8003
            }
        );
        assert_eq!(
            bind_addr("ipv6@:80").unwrap(),
            BindAddr::Inet {
                ip: "::".parse().unwrap(),
                port_start: 80,
                port_end: 80
            }
        );
        assert_eq!(
            bind_addr("unix@/run/x.sock").unwrap(),
            BindAddr::Unix("/run/x.sock".into())
        );
        assert_eq!(
            bind_addr("/run/x.sock").unwrap(),
            BindAddr::Unix("/run/x.sock".into())
        );
        assert_eq!(bind_addr("abns@foo").unwrap(), BindAddr::Abns("foo".into()));
        assert_eq!(bind_addr("fd@3").unwrap(), BindAddr::Fd(3));
        assert_eq!(bind_addr(":99999").unwrap_err(), "invalid port '99999'");
        assert!(bind_addr("127.0.0.1").is_err());
        assert_eq!(
            bind_addr("1.2.3:80").unwrap(),
            BindAddr::Inet {
                ip: "1.2.0.3".parse().unwrap(),
                port_start: 80,
                port_end: 80
            }
        );
    }

    #[test]
    fn server_addresses() {
        assert_eq!(
            server_addr("10.0.0.1:80").unwrap(),
            ServerAddr::Inet {
                host: "10.0.0.1".into(),
                port: Some(80),
                offset: None
            }
        );
        assert_eq!(
            server_addr("10.0.0.1").unwrap(),
            ServerAddr::Inet {
                host: "10.0.0.1".into(),
                port: None,
                offset: None
            }
        );
        assert_eq!(
            server_addr("10.0.0.1:+1000").unwrap(),
            ServerAddr::Inet {
                host: "10.0.0.1".into(),
                port: None,
                offset: Some(1000)
            }
        );
        assert_eq!(
            server_addr("::1").unwrap(),
            ServerAddr::Inet {
                host: "::1".into(),
                port: None,
                offset: None
            }
        );
        assert_eq!(
            server_addr("127.0.0.1:70000").unwrap_err(),
            "invalid port '70000'"
        );
    }

    #[test]
    fn networks() {
        assert_eq!(
            network("10.0.0.0/8").unwrap(),
            ("10.0.0.0".parse().unwrap(), 8)
        );
        assert_eq!(
            network("10.0.0.0/255.255.0.0").unwrap(),
            ("10.0.0.0".parse().unwrap(), 16)
        );
        assert_eq!(network("::1").unwrap(), ("::1".parse().unwrap(), 128));
        assert!(network("10.0.0.0/33").is_err());
    }
}
