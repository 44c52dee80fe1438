//! A small blocking HTTP/1.1 client for the provider's endpoints (discovery, JWKS,
//! token): one request per connection, `Content-Length`, chunked or close-delimited
//! bodies, a deadline on the whole exchange. `https://` goes through rustls (aws-lc-rs)
//! with the system's trust store (`SSL_CERT_FILE`/`SSL_CERT_DIR` when set).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The largest response body read (bytes).
const MAX_BODY: usize = 1 << 20;

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body, de-chunked.
    pub body: Vec<u8>,
}

/// The TLS client configuration: the system's roots, built once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CFG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CFG.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for c in found.certs {
            let _ = roots.add(c);
        }
        if roots.is_empty() {
            return Err("no trusted CA certificates found on this system".into());
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(cfg))
    })
    .clone()
}

/// Splits `http[s]://host[:port]/path` into (TLS, host, port, path).
pub fn split_url(url: &str) -> Result<(bool, String, u16, String), String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(format!("{url}: not an http or https URL"));
    };
    let (auth, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match auth.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || auth.starts_with('[') => (
            h.to_owned(),
            p.parse().map_err(|_| format!("{url}: bad port"))?,
        ),
        _ => (auth.to_owned(), if tls { 443 } else { 80 }),
    };
    Ok((tls, host, port, path.to_owned()))
}

/// Performs one request. `body`: (content type, bytes) for a POST.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
    timeout: Duration,
) -> Result<Response, String> {
    let (tls, host, port, path) = split_url(url)?;
    let deadline = Instant::now() + timeout;
    let addr = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    let tcp =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{url}: connect: {e}"))?;
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    let mut s: Box<dyn ReadWrite> = if tls {
        let name = rustls::pki_types::ServerName::try_from(
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        )
        .map_err(|e| format!("{url}: {e}"))?;
        let mut conn = rustls::ClientConnection::new(tls_config()?, name)
            .map_err(|e| format!("{url}: {e}"))?;
        let mut tcp = tcp;
        // The handshake first, so that its errors (an untrusted certificate) are told.
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)
                .map_err(|e| format!("{url}: TLS handshake: {e}"))?;
        }
        Box::new(rustls::StreamOwned::new(conn, tcp))
    } else {
        Box::new(tcp)
    };
    let default_port = if tls { 443 } else { 80 };
    let host_hdr = if port == default_port {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host_hdr}\r\nConnection: close\r\nAccept: application/json\r\nUser-Agent: gatehouse\r\n"
    );
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some((ct, b)) = body {
        req.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    let mut out = req.into_bytes();
    if let Some((_, b)) = body {
        out.extend_from_slice(b);
    }
    s.write_all(&out)
        .map_err(|e| format!("{url}: write: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if Instant::now() > deadline {
            return Err(format!("{url}: timed out"));
        }
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("{url}: read: {e}")),
        }
        if buf.len() > MAX_BODY + 16384 {
            return Err(format!("{url}: response too large"));
        }
        if let Some(r) = complete(&buf) {
            return r.map_err(|e| format!("{url}: {e}"));
        }
    }
    complete(&buf)
        .unwrap_or_else(|| close_delimited(&buf))
        .map_err(|e| format!("{url}: {e}"))
}

/// A connection, plain or TLS.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn status_and_headers(head: &[u8]) -> Result<(u16, Vec<(String, String)>), String> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers))
}

/// The response if `buf` holds all of it (`None`: more is needed or the body ends
/// at close).
fn complete(buf: &[u8]) -> Option<Result<Response, String>> {
    let end = head_end(buf)?;
    let (status, headers) = match status_and_headers(&buf[..end]) {
        Ok(x) => x,
        Err(e) => return Some(Err(e)),
    };
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let body = &buf[end..];
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return dechunk(body).map(|b| Ok(Response { status, body: b }));
    }
    if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if len > MAX_BODY {
            return Some(Err("response too large".into()));
        }
        return (body.len() >= len).then(|| {
            Ok(Response {
                status,
                body: body[..len].to_vec(),
            })
        });
    }
    if status == 204 || status == 304 {
        return Some(Ok(Response {
            status,
            body: Vec::new(),
        }));
    }
    None
}

fn close_delimited(buf: &[u8]) -> Result<Response, String> {
    let end = head_end(buf).ok_or("truncated response")?;
    let (status, _) = status_and_headers(&buf[..end])?;
    Ok(Response {
        status,
        body: buf[end..].to_vec(),
    })
}

/// The body of a complete chunked encoding, `None` while incomplete.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let i = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..i]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[i + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// GETs `url` and parses its JSON body; any status but 200 is an error.
pub fn get_json(url: &str, timeout: Duration) -> Result<serde_json::Value, String> {
    let r = request("GET", url, &[], None, timeout)?;
    if r.status != 200 {
        return Err(format!("{url}: status {}", r.status));
    }
    serde_json::from_slice(&r.body).map_err(|e| format!("{url}: not JSON: {e}"))
}
