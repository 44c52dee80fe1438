//! The PROXY protocol (HAProxy's proxy-protocol.txt), versions 1 and 2: the header a
//! `bind … accept-proxy` line (or `tcp-request connection expect-proxy layer4`) reads
//! before anything else on a connection, whose addresses then replace the connection's
//! everywhere but in `tcp-request connection` rules; and the header `server …
//! send-proxy` / `send-proxy-v2` writes first on each server connection. Version 2
//! headers carry TLVs both ways: read ones are kept for `fc_pp_authority` and
//! `fc_pp_unique_id` (a `CRC32C` one is checked); written ones follow the server's
//! `proxy-v2-options` (`ssl`, `cert-cn`, `ssl-cipher`, `authority`, `unique-id`,
//! `crc32c`) in HAProxy's order, with the client's ALPN always.

use crate::acl::ProxyTlvs;
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

/// Reads one PROXY header (v1 or v2) from `s`, and nothing after it: its addresses and,
/// for a v2 header with any, its TLVs.
pub async fn read_header<S: AsyncRead + Unpin>(
    s: &mut S,
    timeout: Option<Duration>,
) -> Result<(Addresses, Option<ProxyTlvs>), HeaderError> {
    let read = read_inner(s);
    match timeout {
        Some(t) => tokio::time::timeout(t, read)
            .await
            .map_err(|_| HeaderError::Io)?,
        None => read.await,
    }
}

async fn read_inner<S: AsyncRead + Unpin>(
    s: &mut S,
) -> Result<(Addresses, Option<ProxyTlvs>), HeaderError> {
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
        return Ok((parse_v1(&line)?, None));
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
    let addrs = parse_v2(head[12], head[13], &body)?;
    let tlvs = tlvs_v2(&head, head[13], &body)?;
    Ok((addrs, (!tlvs.0.is_empty()).then_some(tlvs)))
}

/// The length of a v2 address block of family byte `fam`.
fn addr_len(fam: u8) -> usize {
    match fam {
        0x11 | 0x12 => 12,
        0x21 | 0x22 => 36,
        0x31 | 0x32 => 216,
        _ => 0,
    }
}

/// The TLVs after the address block of a v2 header (`head`: its first 16 bytes), as
/// HAProxy reads them: a `CRC32C` one must match the header, an `AUTHORITY` one is at
/// most 255 bytes and a `UNIQUE_ID` one at most 128; a TLV running past the end is
/// refused.
pub fn tlvs_v2(head: &[u8; 16], fam: u8, body: &[u8]) -> Result<ProxyTlvs, HeaderError> {
    let mut at = addr_len(fam).min(body.len());
    let mut out = Vec::new();
    while at < body.len() {
        let [kind, hi, lo] = *body.get(at..at + 3).ok_or(HeaderError::Invalid)? else {
            return Err(HeaderError::Invalid);
        };
        let len = u16::from_be_bytes([hi, lo]) as usize;
        let value = body.get(at + 3..at + 3 + len).ok_or(HeaderError::Invalid)?;
        match kind {
            ProxyTlvs::CRC32C => {
                let sent: [u8; 4] = value.try_into().map_err(|_| HeaderError::Invalid)?;
                let mut zeroed = body.to_vec();
                zeroed[at + 3..at + 7].fill(0);
                let crc = crc32c::crc32c_append(crc32c::crc32c(head), &zeroed);
                if crc != u32::from_be_bytes(sent) {
                    return Err(HeaderError::Invalid);
                }
            }
            ProxyTlvs::AUTHORITY if len > 255 => return Err(HeaderError::Invalid),
            ProxyTlvs::UNIQUE_ID if len > 128 => return Err(HeaderError::Invalid),
            _ => {}
        }
        out.push((kind, value.into()));
        at += 3 + len;
    }
    Ok(ProxyTlvs(out))
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

/// What a server's v2 header carries besides the addresses (HAProxy's
/// `make_proxy_line_v2`), each `None` when not sent.
#[derive(Debug, Default)]
pub struct V2Tlvs<'a> {
    /// `crc32c`: a checksum of the whole header.
    pub crc32c: bool,
    /// The client's ALPN protocol.
    pub alpn: Option<&'a [u8]>,
    /// `authority`: the authority received from the client's own PROXY header, else its
    /// SNI.
    pub authority: Option<&'a [u8]>,
    /// `unique-id`: the stream's unique id.
    pub unique_id: Option<&'a [u8]>,
    /// `ssl`: the SSL TLV.
    pub ssl: Option<SslTlv<'a>>,
}

/// The `PP2_TYPE_SSL` TLV.
#[derive(Debug, Default)]
pub struct SslTlv<'a> {
    /// The client came over TLS (`PP2_CLIENT_SSL`).
    pub client_ssl: bool,
    /// It presented a certificate (`PP2_CLIENT_CERT_CONN`, `PP2_CLIENT_CERT_SESS`).
    pub client_cert: bool,
    /// `PP2_SUBTYPE_SSL_VERSION` (`TLSv1.3`).
    pub version: Option<&'a str>,
    /// `cert-cn`: `PP2_SUBTYPE_SSL_CN`.
    pub cn: Option<&'a str>,
    /// `ssl-cipher`: `PP2_SUBTYPE_SSL_CIPHER`.
    pub cipher: Option<&'a str>,
}

fn tlv(out: &mut Vec<u8>, kind: u8, value: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

/// The version 2 header with TLVs, in HAProxy's order: `CRC32C`, `ALPN`, `AUTHORITY`,
/// `UNIQUE_ID`, `SSL`.
pub fn v2_with(src: Option<SocketAddr>, dst: Option<SocketAddr>, t: &V2Tlvs<'_>) -> Vec<u8> {
    let mut out = v2(src, dst);
    let crc_at = t.crc32c.then(|| {
        tlv(&mut out, ProxyTlvs::CRC32C, &[0; 4]);
        out.len() - 4
    });
    if let Some(a) = t.alpn {
        tlv(&mut out, ProxyTlvs::ALPN, a);
    }
    if let Some(a) = t.authority {
        tlv(&mut out, ProxyTlvs::AUTHORITY, a);
    }
    if let Some(u) = t.unique_id {
        tlv(&mut out, ProxyTlvs::UNIQUE_ID, u);
    }
    if let Some(ssl) = &t.ssl {
        let mut v = Vec::with_capacity(32);
        let client = u8::from(ssl.client_ssl) | if ssl.client_cert { 0x06 } else { 0 };
        v.push(client);
        // verify: 0, a certificate that did not verify never completes a handshake.
        v.extend_from_slice(&0u32.to_be_bytes());
        for (kind, val) in [(0x21, ssl.version), (0x22, ssl.cn), (0x23, ssl.cipher)] {
            if let Some(val) = val {
                tlv(&mut v, kind, val.as_bytes());
            }
        }
        tlv(&mut out, ProxyTlvs::SSL, &v);
    }
    let len = (out.len() - 16) as u16;
    out[14..16].copy_from_slice(&len.to_be_bytes());
    if let Some(at) = crc_at {
        let crc = crc32c::crc32c(&out);
        out[at..at + 4].copy_from_slice(&crc.to_be_bytes());
    }
    out
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
    fn tlvs_written_read_back_with_their_checksum() {
        let t = V2Tlvs {
            crc32c: true,
            alpn: Some(b"h2"),
            authority: Some(b"www.site.test"),
            unique_id: Some(b"abc-1"),
            ssl: Some(SslTlv {
                client_ssl: true,
                version: Some("TLSv1.3"),
                ..Default::default()
            }),
        };
        let h = v2_with(Some(a("1.2.3.4:5")), Some(a("6.7.8.9:10")), &t);
        let head: [u8; 16] = h[..16].try_into().unwrap();
        let tlvs = tlvs_v2(&head, h[13], &h[16..]).unwrap();
        assert_eq!(tlvs.get(ProxyTlvs::AUTHORITY), Some(&b"www.site.test"[..]));
        assert_eq!(tlvs.get(ProxyTlvs::UNIQUE_ID), Some(&b"abc-1"[..]));
        assert_eq!(tlvs.get(ProxyTlvs::ALPN), Some(&b"h2"[..]));
        assert_eq!(&tlvs.get(ProxyTlvs::SSL).unwrap()[..5], &[1, 0, 0, 0, 0]);
        assert_eq!(
            parse_v2(h[12], h[13], &h[16..]),
            Ok(Some((a("1.2.3.4:5"), a("6.7.8.9:10"))))
        );
        // A flipped byte fails the checksum.
        let mut bad = h.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            tlvs_v2(&head, bad[13], &bad[16..]),
            Err(HeaderError::Invalid)
        );
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
