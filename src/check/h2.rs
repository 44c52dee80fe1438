//! HTTP checks over HTTP/2 (`check-proto h2`, a server's `proto h2`, or `h2` picked by
//! the check's ALPN, as HAProxy 2.6 chooses the check's multiplexer): the request the
//! HTTP rule set wrote as HTTP/1 is sent on one HTTP/2 stream, and the answer is
//! handed back to the expect steps as the HTTP/1 response they read (status line,
//! fields, `content-length`, the body up to the check's buffer).

use super::conn::Conn;
use super::run::Flavor;
use crate::config::model::{ServerOpts, ServerProto};
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

/// When HTTP checks speak HTTP/2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Never (`check-proto h1`, or not an HTTP check).
    Never,
    /// Always (`check-proto h2`, else the server's `proto h2`): h2c with prior
    /// knowledge, or over TLS.
    Always,
    /// When the check's TLS handshake picks `h2` by ALPN.
    Alpn,
}

impl Use {
    /// What a server's options say for a rule set of `flavor`.
    pub fn of(o: &ServerOpts, flavor: Flavor) -> Use {
        if flavor != Flavor::Http {
            return Use::Never;
        }
        match o.check_proto.or(o.proto) {
            Some(ServerProto::H2) => Use::Always,
            Some(_) => Use::Never,
            None => Use::Alpn,
        }
    }
}

/// Why the exchange failed.
#[derive(Debug)]
pub enum Failed {
    /// The connection failed.
    Io(std::io::Error),
    /// Not an HTTP/2 answer, or a malformed request.
    Protocol,
}

/// Sends `request` (HTTP/1 bytes) on an HTTP/2 stream over `conn`; the answer as an
/// HTTP/1 response, its body cut at `max` bytes.
pub async fn exchange(mut conn: Conn, request: &[u8], max: usize) -> Result<Vec<u8>, Failed> {
    conn.register().map_err(Failed::Io)?;
    match conn {
        Conn::Raw(_) => Err(Failed::Io(std::io::ErrorKind::NotConnected.into())),
        Conn::Tcp(s) => over(s, request, max).await,
        Conn::Unix(s) => over(s, request, max).await,
        Conn::Tls(s) => over(*s, request, max).await,
    }
}

async fn over<T>(io: T, request: &[u8], max: usize) -> Result<Vec<u8>, Failed>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (req, body) = parse_request(request).ok_or(Failed::Protocol)?;
    let (mut send, connection) = h2::client::handshake(io).await.map_err(fail)?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let r = async {
        let end = body.is_empty();
        let (resp, mut stream) = send.send_request(req, end).map_err(fail)?;
        if !end {
            stream.send_data(Bytes::from(body), true).map_err(fail)?;
        }
        let resp = resp.await.map_err(fail)?;
        let (parts, mut recv) = resp.into_parts();
        let mut data = Vec::new();
        while data.len() < max {
            match recv.data().await {
                Some(Ok(chunk)) => {
                    let _ = recv.flow_control().release_capacity(chunk.len());
                    data.extend_from_slice(&chunk);
                }
                Some(Err(e)) => return Err(fail(e)),
                None => break,
            }
        }
        data.truncate(max);
        Ok(as_http1(&parts, &data))
    }
    .await;
    driver.abort();
    r
}

fn fail(e: h2::Error) -> Failed {
    match e.into_io() {
        Some(io) => Failed::Io(io),
        None => Failed::Protocol,
    }
}

/// The HTTP/1 request the rule set wrote, as an `h2` request and its body.
fn parse_request(raw: &[u8]) -> Option<(http::Request<()>, Vec<u8>)> {
    let end = memchr::memmem::find(raw, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, uri) = (first.next()?, first.next()?);
    let mut b = http::Request::builder().method(method).uri(uri);
    for l in lines {
        let (n, v) = l.split_once(':')?;
        let n = n.trim().to_ascii_lowercase();
        if matches!(
            n.as_str(),
            "connection" | "keep-alive" | "proxy-connection" | "upgrade" | "transfer-encoding"
        ) {
            continue;
        }
        b = b.header(n, v.trim());
    }
    Some((b.body(()).ok()?, raw[end + 4..].to_vec()))
}

/// An HTTP/1 response the expect steps read.
fn as_http1(parts: &http::response::Parts, body: &[u8]) -> Vec<u8> {
    let status = parts.status;
    // HTTP/2 has no reason phrase: HAProxy's check reports none.
    let mut out = format!("HTTP/1.1 {} \r\n", status.as_u16()).into_bytes();
    for (n, v) in &parts.headers {
        if n == http::header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(n.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}
