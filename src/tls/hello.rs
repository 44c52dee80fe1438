//! Reading a TLS ClientHello from the bytes a client sent, without decrypting anything:
//! what `req.ssl_hello_type`, `req.ssl_ver` and `req.ssl_sni` return in `mode tcp`
//! (TLS passthrough), and whether more bytes are needed to tell (a `tcp-request
//! inspect-delay` then waits for them). Follows HAProxy's `payload.c`.

/// What a look at the buffer found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen<T> {
    /// The value.
    Found(T),
    /// Not there: not TLS, or not a hello, or no such extension.
    Absent,
    /// The bytes so far are not enough to tell.
    Short,
}

/// The handshake record's header: (record version, record length), or why not.
fn record(buf: &[u8]) -> Seen<(u32, usize)> {
    let Some(&first) = buf.first() else {
        return Seen::Short;
    };
    if !((0x14..=0x17).contains(&first) || first == 0xff) {
        return Seen::Absent;
    }
    if buf.len() < 5 {
        return Seen::Short;
    }
    let version = (u32::from(buf[1]) << 16) | u32::from(buf[2]);
    let len = (usize::from(buf[3]) << 8) | usize::from(buf[4]);
    if version < 0x0003_0000 || !(4..=(1 << 14) + 2048).contains(&len) {
        return Seen::Absent;
    }
    Seen::Found((version, len))
}

/// `req.ssl_hello_type`: 1 for a ClientHello, 2 for a ServerHello, once the whole
/// handshake message is in the buffer.
pub fn hello_type(buf: &[u8]) -> Seen<u8> {
    let (_, rec_len) = match record(buf) {
        Seen::Found(r) => r,
        Seen::Absent => return Seen::Absent,
        Seen::Short => return Seen::Short,
    };
    if buf[0] != 0x16 {
        return Seen::Absent;
    }
    let data = &buf[5..];
    if data.len() < 4 {
        return Seen::Short;
    }
    let hs_len = (usize::from(data[1]) << 16) | (usize::from(data[2]) << 8) | usize::from(data[3]);
    if hs_len + 4 > rec_len {
        return Seen::Absent;
    }
    if data.len() < hs_len + 4 {
        return Seen::Short;
    }
    Seen::Found(data[0])
}

/// `req.ssl_ver`: the ClientHello's version, `major << 16 | minor` (TLSv1.2 and
/// TLSv1.3 hellos both say 0x30003).
pub fn version(buf: &[u8]) -> Seen<u32> {
    match record(buf) {
        Seen::Found(_) if buf.len() < 11 => Seen::Short,
        Seen::Found(_) => Seen::Found((u32::from(buf[9]) << 16) | u32::from(buf[10])),
        Seen::Absent => Seen::Absent,
        Seen::Short => Seen::Short,
    }
}

/// `req.ssl_sni`: the host name of the ClientHello's server_name extension.
pub fn sni(buf: &[u8]) -> Seen<&[u8]> {
    match hello_type(buf) {
        Seen::Found(1) => {}
        Seen::Found(_) | Seen::Absent => return Seen::Absent,
        Seen::Short => return Seen::Short,
    }
    let hs_len = (usize::from(buf[6]) << 16) | (usize::from(buf[7]) << 8) | usize::from(buf[8]);
    let hello = &buf[9..9 + hs_len];
    server_name(hello).map_or(Seen::Absent, Seen::Found)
}

/// Walks a ClientHello body to its server_name extension.
fn server_name(h: &[u8]) -> Option<&[u8]> {
    // version (2), random (32), session id, cipher suites, compression methods.
    let mut at = 34;
    let sid = usize::from(*h.get(at)?);
    at += 1 + sid;
    let cs = (usize::from(*h.get(at)?) << 8) | usize::from(*h.get(at + 1)?);
    at += 2 + cs;
    let comp = usize::from(*h.get(at)?);
    at += 1 + comp;
    let ext_len = (usize::from(*h.get(at)?) << 8) | usize::from(*h.get(at + 1)?);
    at += 2;
    let exts = h.get(at..at + ext_len)?;
    let mut e = 0;
    while e + 4 <= exts.len() {
        let ty = (u16::from(exts[e]) << 8) | u16::from(exts[e + 1]);
        let len = (usize::from(exts[e + 2]) << 8) | usize::from(exts[e + 3]);
        let body = exts.get(e + 4..e + 4 + len)?;
        if ty == 0 {
            // server_name_list: length (2), then entries: type (1), length (2), name.
            let mut n = 2;
            while n + 3 <= body.len() {
                let nt = body[n];
                let nl = (usize::from(body[n + 1]) << 8) | usize::from(body[n + 2]);
                let name = body.get(n + 3..n + 3 + nl)?;
                if nt == 0 {
                    return Some(name);
                }
                n += 3 + nl;
            }
            return None;
        }
        e += 4 + len;
    }
    None
}

/// Whether the buffer already tells everything the hello fetches can say (a complete
/// hello, or bytes that are not one).
pub fn settled(buf: &[u8]) -> bool {
    hello_type(buf) != Seen::Short
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real ClientHello, made by rustls for `www.example.com`.
    fn hello() -> Vec<u8> {
        let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            crate::tls::provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let name = rustls_pki_types::ServerName::try_from("www.example.com").unwrap();
        let mut c = rustls::ClientConnection::new(std::sync::Arc::new(cfg), name).unwrap();
        let mut out = Vec::new();
        c.write_tls(&mut out).unwrap();
        out
    }

    #[test]
    fn a_client_hello_reads_as_in_haproxy() {
        let h = hello();
        assert_eq!(hello_type(&h), Seen::Found(1));
        assert_eq!(version(&h), Seen::Found(0x30003));
        assert_eq!(sni(&h), Seen::Found(&b"www.example.com"[..]));
        // Cut short: more is needed.
        assert_eq!(hello_type(&h[..h.len() - 1]), Seen::Short);
        assert_eq!(sni(&h[..20]), Seen::Short);
        assert!(!settled(&h[..3]) && settled(&h));
        // Not TLS at all.
        assert_eq!(hello_type(b"GET / HTTP/1.1\r\n"), Seen::Absent);
        assert!(settled(b"GET / HTTP/1.1\r\n"));
    }
}
