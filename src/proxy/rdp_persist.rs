//! `persist rdp-cookie[(NAME)]` in `mode tcp` (HAProxy 2.6's
//! `tcp_persist_rdp_cookie()`): the RDP cookie of the connection request (`msts` by
//! default) names a server as `<ip>.<port>.<anything>`, the address and port being
//! the decimal values of their network-order bytes read as host integers (what a
//! Windows terminal server broker writes: `msts=16777343.15629.0000` is
//! 127.0.0.1:3389). When a server of the backend has that IPv4 address and port and
//! is running (or `option persist` is set), the connection goes to it, before `stick`
//! rules and balancing.

use crate::runtime::backend::Backend;
use crate::runtime::server::ServerState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The server the RDP cookie in `payload` designates for `be`, if any.
pub fn designate(be: &Backend, payload: &[u8]) -> Option<Arc<ServerState>> {
    let name = be.persist_rdp_cookie.as_deref()?;
    let value = crate::acl::rdp_cookie_value(payload, name.as_bytes())?;
    let (addr, port) = decode(value)?;
    be.servers
        .iter()
        .find(|s| {
            let at = s.addr_override().unwrap_or(s.addr);
            let running = s.up.load(Ordering::Relaxed) && !s.maint.load(Ordering::Relaxed);
            matches!(at, SocketAddr::V4(a) if cookie_addr(a.ip().octets()) == addr
                && cookie_port(a.port()) == port)
                && (running || be.persist)
        })
        .cloned()
}

/// The cookie's integer for an IPv4 address: its network-order bytes read as a
/// little-endian integer (HAProxy compares with `sin_addr.s_addr` on the hosts it runs
/// on).
fn cookie_addr(octets: [u8; 4]) -> u32 {
    u32::from_le_bytes(octets)
}

/// The cookie's integer for a port: its network-order bytes read little-endian
/// (`ntohs()` of the value).
fn cookie_port(port: u16) -> u16 {
    port.swap_bytes()
}

/// `<addr>.<port>.`: C's `strtoul` on each part (leading spaces and a sign allowed,
/// the value truncated as HAProxy's assignments do), each followed by a dot.
fn decode(v: &[u8]) -> Option<(u32, u16)> {
    let (addr, rest) = strtoul(v);
    let rest = rest.strip_prefix(b".")?;
    let (port, rest) = strtoul(rest);
    rest.strip_prefix(b".")?;
    Some((addr as u32, port as u16))
}

/// C's `strtoul(s, &end, 10)`: the value and what follows it (all of `s` when no
/// digits came).
fn strtoul(s: &[u8]) -> (u64, &[u8]) {
    let mut i = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return (0, s);
    }
    let v = s[i..i + digits].iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    (if neg { v.wrapping_neg() } else { v }, &s[i + digits..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_broker_cookie() {
        // 127.0.0.1:3389, as a terminal server broker writes it.
        let addr = cookie_addr([127, 0, 0, 1]);
        let port = cookie_port(3389);
        assert_eq!((addr, port), (16777343, 15629));
        assert_eq!(decode(b"16777343.15629.0000"), Some((addr, port)));
        assert_eq!(decode(b"16777343.15629"), None);
        assert_eq!(decode(b"16777343"), None);
        assert_eq!(decode(b"x.15629.0"), None);
    }
}
