//! The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 and 2: the header a
//! `bind … accept-proxy` line (or `tcp-request connection expect-proxy layer4`) reads
//! before anything else on a connection, whose addresses then replace the connection's
//! everywhere but in `tcp-request connection` rules; and the header `server …
//! send-proxy` / `send-proxy-v2` writes first on each server connection.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The version 2 signature.
const SIG: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// Why a PROXY header was refused (the connection is closed).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    /// Not a PROXY header at all.
    #[error("Received something which does not look like a PROXY protocol header")]
    NotProxy,
    /// A PROXY header that does not parse.
    #[error("Received an invalid PROXY protocol header")]
    Invalid,
    /// The client closed, failed or took longer than `timeout client`.
    #[error("Timeout or error while waiting for a PROXY protocol header")]
    Io,
}

/// The addresses a header carries: client (source) and proxy (destination). `None` for
/// `UNKNOWN` (v1) and `LOCAL` (v2): the connection's own addresses stay.
pub type Addresses = Option<(SocketAddr, SocketAddr)>;

/// Reads one PROXY header (v1 or v2) from `s`, and nothing after it.
pub async fn read_header<S: AsyncRead + Unpin>(
    s: &mut S,
    timeout: Option<Duration>,
) -> Result<Addresses, HeaderError> {
    let read = read_inner(s);
    match timeout {
        Some(t) => tokio::time::timeout(t, read)
            .await
            .map_err(|_| HeaderError::Io)?,
        None => read.await,
    }
}

async fn read_inner<S: AsyncRead + Unpin>(s: &mut S) -> Result<Addresses, HeaderError> {
    let io = |_: io::Error| HeaderError::Io;
    let mut head = [0u8; 16];
    s.read_exact(&mut head[..6]).await.map_err(io)?;
    if &head[..6] == b"PROXY " {
        // Version 1: a line of at most 107 bytes, read up to its LF.
        let mut line = b"PROXY ".to_vec();
        while !line.ends_with(b"\r\n") {
            if line.len() >= 107 {
                return Err(HeaderError::Invalid);
            }
            let mut b = [0u8; 1];
            s.read_exact(&mut b).await.map_err(io)?;
            line.push(b[0]);
        }
        return parse_v1(&line);
    }
    if head[..6] != SIG[..6] {
        return Err(HeaderError::NotProxy);
    }
    s.read_exact(&mut head[6..]).await.map_err(io)?;
    if &head[..12] != SIG {
        return Err(HeaderError::NotProxy);
    }
    let len = u16::from_be_bytes([head[14], head[15]]) as usize;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.map_err(io)?;
    parse_v2(head[12], head[13], &body)
}

/// Parses a version 1 line (`PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n`).
pub fn parse_v1(line: &[u8]) -> Result<Addresses, HeaderError> {
    let text = std::str::from_utf8(line).map_err(|_| HeaderError::Invalid)?;
    let text = text.strip_suffix("\r\n").ok_or(HeaderError::Invalid)?;
    let mut w = text.split(' ');
    if w.next() != Some("PROXY") {
        return Err(HeaderError::NotProxy);
    }
    let fam = w.next().ok_or(HeaderError::Invalid)?;
    if fam == "UNKNOWN" {
        return Ok(None);
    }
    let parts: Vec<&str> = w.collect();
    let [src, dst, sport, dport] = parts[..] else {
        return Err(HeaderError::Invalid);
    };
    let ip = |s: &str| -> Result<IpAddr, HeaderError> {
        let a: IpAddr = s.parse().map_err(|_| HeaderError::Invalid)?;
        match (fam, a) {
            ("TCP4", IpAddr::V4(_)) | ("TCP6", IpAddr::V6(_)) => Ok(a),
            _ => Err(HeaderError::Invalid),
        }
    };
    let port = |s: &str| -> Result<u16, HeaderError> {
        if s.len() > 1 && s.starts_with('0') {
            return Err(HeaderError::Invalid);
        }
        s.parse().map_err(|_| HeaderError::Invalid)
    };
    Ok(Some((
        SocketAddr::new(ip(src)?, port(sport)?),
        SocketAddr::new(ip(dst)?, port(dport)?),
    )))
}

/// Parses a version 2 header's command byte, family byte and address block.
pub fn parse_v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Result<Addresses, HeaderError> {
    if ver_cmd >> 4 != 2 {
        return Err(HeaderError::Invalid);
    }
    match ver_cmd & 0x0f {
        0 => return Ok(None), // LOCAL
        1 => {}               // PROXY
        _ => return Err(HeaderError::Invalid),
    }
    match fam {
        0x11 if body.len() >= 12 => {
            let ip = |o: usize| {
                IpAddr::V4(Ipv4Addr::new(
                    body[o],
                    body[o + 1],
                    body[o + 2],
                    body[o + 3],
                ))
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            Ok(Some((
                SocketAddr::new(ip(0), port(8)),
                SocketAddr::new(ip(4), port(10)),
            )))
        }
        0x21 if body.len() >= 36 => {
            let ip = |o: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&body[o..o + 16]);
                IpAddr::V6(Ipv6Addr::from(b))
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            Ok(Some((
                SocketAddr::new(ip(0), port(32)),
                SocketAddr::new(ip(16), port(34)),
            )))
        }
        // UNSPEC, unix or UDP: the connection's own addresses stay.
        0x00 | 0x31 | 0x32 | 0x12 | 0x22 => Ok(None),
        _ => Err(HeaderError::Invalid),
    }
}

/// Both addresses in one family (an IPv4 one mapped into IPv6 when the other is IPv6).
fn same_family(src: SocketAddr, dst: SocketAddr) -> (SocketAddr, SocketAddr) {
    let v6 = |a: SocketAddr| match a.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), a.port()),
        IpAddr::V6(_) => a,
    };
    if src.is_ipv4() == dst.is_ipv4() {
        (src, dst)
    } else {
        (v6(src), v6(dst))
    }
}

/// The version 1 header for a client `src` that connected to `dst` (`PROXY UNKNOWN`
/// when one is not known: a unix socket client).
pub fn v1(src: Option<SocketAddr>, dst: Option<SocketAddr>) -> Vec<u8> {
    let (Some(src), Some(dst)) = (src, dst) else {
        return b"PROXY UNKNOWN\r\n".to_vec();
    };
    let (s, d) = same_family(src, dst);
    let fam = if s.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {fam} {} {} {} {}\r\n",
        s.ip(),
        d.ip(),
        s.port(),
        d.port()
    )
    .into_bytes()
}

/// The version 2 header (`LOCAL` when an address is not known).
pub fn v2(src: Option<SocketAddr>, dst: Option<SocketAddr>) -> Vec<u8> {
    let mut out = SIG.to_vec();
    let (Some(src), Some(dst)) = (src, dst) else {
        out.extend_from_slice(&[0x20, 0x00, 0, 0]);
        return out;
    };
    let (s, d) = same_family(src, dst);
    match (s.ip(), d.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            out.extend_from_slice(&[0x21, 0x11, 0, 12]);
            out.extend_from_slice(&a.octets());
            out.extend_from_slice(&b.octets());
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            out.extend_from_slice(&[0x21, 0x21, 0, 36]);
            out.extend_from_slice(&a.octets());
            out.extend_from_slice(&b.octets());
        }
        _ => unreachable!("same_family gives one family"),
    }
    out.extend_from_slice(&s.port().to_be_bytes());
    out.extend_from_slice(&d.port().to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_written_read_back() {
        let (s, d) = (a("192.0.2.1:5000"), a("198.51.100.2:443"));
        assert_eq!(
            v1(Some(s), Some(d)),
            b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n"
        );
        assert_eq!(parse_v1(&v1(Some(s), Some(d))), Ok(Some((s, d))));
        let h = v2(Some(s), Some(d));
        assert_eq!(parse_v2(h[12], h[13], &h[16..]), Ok(Some((s, d))));
        let (s6, d6) = (a("[2001:db8::1]:1"), a("[2001:db8::2]:2"));
        let h = v2(Some(s6), Some(d6));
        assert_eq!(parse_v2(h[12], h[13], &h[16..]), Ok(Some((s6, d6))));
        assert_eq!(v1(None, None), b"PROXY UNKNOWN\r\n");
        assert_eq!(parse_v1(b"PROXY UNKNOWN\r\n"), Ok(None));
    }

    #[test]
    fn malformed_v1_lines_are_refused() {
        for bad in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"[..],
            b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        ] {
            assert_eq!(parse_v1(bad), Err(HeaderError::Invalid), "{bad:?}");
        }
    }
}
