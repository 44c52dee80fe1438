//! Test clients: raw byte exchange (`send_raw`) and a minimal HTTP/1.1
//! client with optional keep-alive connection reuse (`HttpClient`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use super::DEFAULT_TIMEOUT;
use super::http1::{BufConn, Framing, header_value, is_timeout, parse_head};

/// Connects to `addr`, writes `bytes`, and reads until the peer closes or
/// nothing arrives for 5 s; returns everything read.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    send_raw_with(addr, bytes, Duration::from_secs(5), false)
}

/// Like [`send_raw`] with an idle read `timeout`, optionally half-closing
/// (shutdown write) after sending.
pub fn send_raw_with(
    addr: SocketAddr,
    bytes: &[u8],
    timeout: Duration,
    half_close: bool,
) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)
        .unwrap_or_else(|e| panic!("send_raw: cannot connect to {addr}: {e}"));
    s.set_read_timeout(Some(timeout)).expect("set_read_timeout");
    if let Err(e) = s.write_all(bytes) {
        panic!("send_raw: write to {addr} failed: {e}");
    }
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => break,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("send_raw: read from {addr} failed: {e}"),
        }
    }
    out
}

/// Reads from `s` until the peer closes (EOF or reset) and returns
/// everything read; an error of kind `TimedOut` (carrying what was read) when
/// the peer is still open after `timeout` in total.
pub fn read_to_close(s: &mut TcpStream, timeout: Duration) -> io::Result<Vec<u8>> {
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "still open after {timeout:?}, read {:?}",
                    String::from_utf8_lossy(&out)
                ),
            ));
        }
        s.set_read_timeout(Some(left))?;
        match s.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

/// Whether nothing at all (no byte, no close) has arrived on `s` yet, looked
/// at without waiting.
pub fn nothing_arrived(s: &TcpStream) -> bool {
    let _ = s.set_nonblocking(true);
    let r = s.peek(&mut [0u8; 1]);
    let _ = s.set_nonblocking(false);
    matches!(&r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Connects to `addr`, writes `bytes` and reads until the peer closes: the
/// whole answer, with the close as the definite event that the peer is done
/// with the connection. Panics when the peer has not closed after
/// [`DEFAULT_TIMEOUT`].
pub fn send_until_close(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)
        .unwrap_or_else(|e| panic!("send_until_close: cannot connect to {addr}: {e}"));
    if let Err(e) = s.write_all(bytes) {
        // The peer may close before reading everything (a rejected request).
        if e.kind() != io::ErrorKind::ConnectionReset && e.kind() != io::ErrorKind::BrokenPipe {
            panic!("send_until_close: write to {addr} failed: {e}");
        }
    }
    read_to_close(&mut s, DEFAULT_TIMEOUT)
        .unwrap_or_else(|e| panic!("send_until_close: {addr} did not close: {e}"))
}

/// A parsed HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Protocol version of the status line, e.g. `HTTP/1.1`.
    pub version: String,
    /// Status code.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Header fields in received order.
    pub headers: Vec<(String, String)>,
    /// Decoded body.
    pub body: Vec<u8>,
}

impl Response {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// The body as (lossy) UTF-8.
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP/1.1 connection that can send several requests (keep-alive).
#[derive(Debug)]
pub struct HttpClient {
    addr: SocketAddr,
    conn: BufConn,
    closed: bool,
}

impl HttpClient {
    /// Connects to `addr` (10 s read timeout).
    pub fn connect(addr: SocketAddr) -> io::Result<HttpClient> {
        let stream = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?;
        stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(HttpClient {
            addr,
            conn: BufConn::new(stream),
            closed: false,
        })
    }

    /// Changes the read timeout for responses.
    pub fn set_timeout(&mut self, t: Duration) -> io::Result<()> {
        self.conn.stream.set_read_timeout(Some(t))
    }

    /// Sends `GET path` with `headers` (a `Host` header is added when
    /// missing) and reads the response, keeping the connection open.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> io::Result<Response> {
        self.request("GET", path, headers, b"")
    }

    /// Sends a request; a non-empty `body` gets a `Content-Length` unless
    /// `headers` already set `Content-Length` or `Transfer-Encoding` (then
    /// `body` is sent verbatim).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let mut req = format!("{method} {path} HTTP/1.1\r\n");
        let has = |n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        if !has("host") {
            req.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() && !has("content-length") && !has("transfer-encoding") {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw_request(&bytes, method.eq_ignore_ascii_case("HEAD"))
    }

    /// Writes pre-built request bytes and reads one response (`head_only`:
    /// the request was HEAD, so the response has no body).
    pub fn send_raw_request(&mut self, bytes: &[u8], head_only: bool) -> io::Result<Response> {
        self.conn.write_all(bytes)?;
        self.read_response(head_only)
    }

    /// Reads the next response from the connection (skipping nothing: a
    /// `1xx` interim response is returned as is).
    pub fn read_response(&mut self, head_only: bool) -> io::Result<Response> {
        let raw = self.conn.read_head()?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            )
        })?;
        let head = parse_head(&raw)?;
        let status: u16 = head.second.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status code {:?}", head.second),
            )
        })?;
        let bodyless = head_only || (100..200).contains(&status) || status == 204 || status == 304;
        let body = if bodyless {
            Vec::new()
        } else {
            match head.framing() {
                Framing::Chunked => self.conn.read_chunked_body()?,
                Framing::Length(n) => self.conn.read_exact_body(n)?,
                Framing::None | Framing::Invalid => {
                    self.closed = true;
                    self.conn.read_to_close()?
                }
            }
        };
        if head.connection_has("close")
            || head.first.eq_ignore_ascii_case("HTTP/1.0") && !head.connection_has("keep-alive")
        {
            self.closed = true;
        }
        Ok(Response {
            version: head.first,
            status,
            reason: head.third,
            headers: head.headers,
            body,
        })
    }

    /// Reads until the server closes the connection and returns the bytes
    /// that came after the last response; `TimedOut` if it is still open
    /// after `timeout`.
    pub fn read_to_close(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        let mut out = self.conn.take_buffered();
        out.extend(read_to_close(&mut self.conn.stream, timeout)?);
        self.closed = true;
        Ok(out)
    }

    /// Whether the server announced or performed a close.
    pub fn server_closed(&mut self) -> bool {
        if self.closed {
            return true;
        }
        // Peek without blocking long: EOF means the peer closed.
        let _ = self.conn.stream.set_nonblocking(true);
        let mut b = [0u8; 1];
        let r = self.conn.stream.peek(&mut b);
        let _ = self.conn.stream.set_nonblocking(false);
        matches!(r, Ok(0)) || matches!(&r, Err(e) if e.kind() == io::ErrorKind::ConnectionReset)
    }

    /// The underlying stream (for raw writes / shutdowns in tests).
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.conn.stream
    }
}

/// One-shot `GET` on a fresh connection (`Connection: close` is not added;
/// the connection is simply dropped after the response).
pub fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> io::Result<Response> {
    HttpClient::connect(addr)?.get(path, headers)
}

/// One-shot `GET` with `Connection: close` on a fresh connection that
/// reads the response and then waits for the proxy to close. The close is
/// the proxy's definite word that it finished the request (released its
/// server slot, pooled or closed the server connection, logged); panics if
/// anything follows the response or the close does not come.
pub fn http_get_until_close(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> io::Result<Response> {
    let mut c = HttpClient::connect(addr)?;
    let mut all = headers.to_vec();
    all.push(("Connection", "close"));
    let r = c.get(path, &all)?;
    let rest = c.read_to_close(DEFAULT_TIMEOUT)?;
    assert!(
        rest.is_empty(),
        "bytes after the response to GET {path}: {:?}",
        String::from_utf8_lossy(&rest)
    );
    Ok(r)
}

/// One-shot request with `method` and `body` on a fresh connection.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    HttpClient::connect(addr)?.request(method, path, headers, body)
}

/// A connection to `addr` from the local address `src` (any 127/8 address works on
/// loopback), so that a proxy can tell this client from another local one.
pub fn connect_from(src: std::net::IpAddr, addr: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None).expect("socket");
    let from = SocketAddr::new(src, 0);
    sock.bind(&from.into())
        .unwrap_or_else(|e| panic!("bind the client to {from}: {e}"));
    sock.connect_timeout(&addr.into(), DEFAULT_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect from {from} to {addr}: {e}"));
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(DEFAULT_TIMEOUT))
        .expect("set_read_timeout");
    s
}
