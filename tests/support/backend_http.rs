//! A scripted HTTP/1.1 origin server for tests: keep-alive, content-length
//! and chunked request bodies, answers `200` with its name as body and an
//! `x-backend: <name>` header, records every request and counts accepted
//! connections. Behaviour (status, delay, close, raw reply, drop after
//! reading, body echo) is set at start and can be changed while running.
//! `Upgrade: websocket` requests get `101` and then a raw byte echo.
//! Dropping the backend closes all its connections.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::acceptor::{Acceptor, ConnStats};
use super::http1::{BufConn, Framing, is_timeout, parse_head};
use super::{DEFAULT_TIMEOUT, wait_until};

/// One request as the backend received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Request method, e.g. `GET`.
    pub method: String,
    /// Request target as sent, e.g. `/a?b=c`.
    pub uri: String,
    /// Protocol version, e.g. `HTTP/1.1`.
    pub version: String,
    /// Header fields in received order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Decoded body (chunked framing removed).
    pub body: Vec<u8>,
    /// The exact head bytes received (start line + headers + CRLF CRLF).
    pub raw_head: Vec<u8>,
    /// 1-based index of the connection this request came on.
    pub conn: usize,
}

impl RecordedRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        super::http1::header_value(&self.headers, name)
    }

    /// All values of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// What the backend does with each request.
#[derive(Debug, Clone)]
struct Behavior {
    status: u16,
    delay: Duration,
    close_after_response: bool,
    raw_reply: Option<Vec<u8>>,
    read_then_close: bool,
    echo_body: bool,
    extra_headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

#[derive(Debug)]
struct Shared {
    name: String,
    behavior: Mutex<Behavior>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// Locks a mutex, ignoring poisoning (a panicking handler thread must not
/// hide what was recorded).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Builder for [`HttpBackend`]; finish with [`HttpBackendBuilder::start`].
#[derive(Debug, Clone)]
pub struct HttpBackendBuilder {
    name: String,
    behavior: Behavior,
}

impl HttpBackendBuilder {
    /// Waits `d` before answering each request (after reading it).
    pub fn delay(mut self, d: Duration) -> Self {
        self.behavior.delay = d;
        self
    }

    /// Answers with status `code` instead of 200.
    pub fn status(mut self, code: u16) -> Self {
        self.behavior.status = code;
        self
    }

    /// Adds `Connection: close` and closes after each response.
    pub fn close_after_response(mut self) -> Self {
        self.behavior.close_after_response = true;
        self
    }

    /// Writes exactly `bytes` as the reply to each request, then closes.
    pub fn raw_reply(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.behavior.raw_reply = Some(bytes.into());
        self
    }

    /// Reads each request fully, then closes without answering.
    pub fn read_request_then_close(mut self) -> Self {
        self.behavior.read_then_close = true;
        self
    }

    /// Replies with the request body instead of the backend name.
    pub fn echo_body(mut self) -> Self {
        self.behavior.echo_body = true;
        self
    }

    /// Replies with `body` instead of the backend name.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.behavior.body = Some(body.into());
        self
    }

    /// Adds a response header to every normal reply.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.behavior
            .extra_headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving.
    pub fn start(self) -> HttpBackend {
        let shared = Arc::new(Shared {
            name: self.name,
            behavior: Mutex::new(self.behavior),
            requests: Mutex::new(Vec::new()),
        });
        let sh = Arc::clone(&shared);
        let acceptor = Acceptor::start(move |stream, id, stats| {
            let _ = serve_conn(stream, &sh, stats, id);
        });
        HttpBackend { shared, acceptor }
    }
}

/// A running test HTTP server; stops on drop.
#[derive(Debug)]
pub struct HttpBackend {
    shared: Arc<Shared>,
    acceptor: Acceptor,
}

impl HttpBackend {
    /// Starts a default backend named `name` (200, body = name).
    pub fn start(name: &str) -> HttpBackend {
        Self::builder(name).start()
    }

    /// Options for a backend named `name`.
    pub fn builder(name: &str) -> HttpBackendBuilder {
        HttpBackendBuilder {
            name: name.to_string(),
            behavior: Behavior {
                status: 200,
                delay: Duration::ZERO,
                close_after_response: false,
                raw_reply: None,
                read_then_close: false,
                echo_body: false,
                extra_headers: Vec::new(),
                body: None,
            },
        }
    }

    /// The listening address (127.0.0.1:port).
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.acceptor.addr().port()
    }

    /// The backend's name (reply body and `x-backend` value).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Sends `GET path` with `extra` header lines to the proxy listening on `port`, on a
    /// connection it closes after the response (`Connection: close`). The raw response,
    /// and the head of the request this backend received for it, if any (without its
    /// `connection:` line, which differs with the server connection mode only).
    pub fn exchange_through(&self, port: u16, path: &str, extra: &str) -> (String, Option<String>) {
        let before = self.request_count();
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: ex.com\r\n{extra}Connection: close\r\n\r\n");
        let out = super::send_raw_with(
            super::local(port),
            req.as_bytes(),
            std::time::Duration::from_secs(3),
            false,
        );
        let got = self.requests();
        let seen = (got.len() > before).then(|| {
            let head = String::from_utf8_lossy(&got[got.len() - 1].raw_head).into_owned();
            head.lines()
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .collect::<Vec<_>>()
                .join("\n")
        });
        (String::from_utf8_lossy(&out).into_owned(), seen)
    }

    /// All requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// Waits until at least `n` requests arrived (panics after 10 s).
    pub fn wait_requests(&self, n: usize) -> Vec<RecordedRequest> {
        let ok = wait_until(DEFAULT_TIMEOUT, || self.request_count() >= n);
        assert!(
            ok,
            "backend {} got {} requests, expected at least {n}",
            self.name(),
            self.request_count()
        );
        self.requests()
    }

    /// Number of TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.acceptor.accepted()
    }

    /// Waits until every connection made to this backend before the call has
    /// been accepted (see [`Acceptor::sync`]): afterwards
    /// [`HttpBackend::connections`] is final for them. With a proxy's whole
    /// response read first (a close, or a complete response by its framing),
    /// "the server received nothing" can be checked without waiting.
    pub fn sync(&self) {
        self.acceptor.sync();
    }

    /// Number of accepted connections not yet closed.
    pub fn open_connections(&self) -> usize {
        self.acceptor.open()
    }

    /// Changes the status of subsequent replies.
    pub fn set_status(&self, code: u16) {
        lock(&self.shared.behavior).status = code;
    }

    /// Changes the delay before subsequent replies.
    pub fn set_delay(&self, d: Duration) {
        lock(&self.shared.behavior).delay = d;
    }

    /// Switches read-request-then-close mode on or off.
    pub fn set_read_then_close(&self, on: bool) {
        lock(&self.shared.behavior).read_then_close = on;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn serve_conn(
    stream: TcpStream,
    shared: &Shared,
    stats: &ConnStats,
    conn: usize,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    let mut c = BufConn::new(stream);
    loop {
        if stats.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let raw_head = match c.read_head() {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(()),
            Err(e) if is_timeout(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        let head = parse_head(&raw_head)?;
        let body = match head.framing() {
            Framing::Chunked => c.read_chunked_body()?,
            Framing::Length(n) => c.read_exact_body(n)?,
            Framing::None | Framing::Invalid => Vec::new(),
        };
        let websocket = head
            .header("upgrade")
            .is_some_and(|v| v.to_ascii_lowercase().contains("websocket"));
        let keep_alive = if head.third.eq_ignore_ascii_case("HTTP/1.0") {
            head.connection_has("keep-alive")
        } else {
            !head.connection_has("close")
        };
        let is_head = head.first.eq_ignore_ascii_case("HEAD");
        lock(&shared.requests).push(RecordedRequest {
            method: head.first.clone(),
            uri: head.second.clone(),
            version: head.third.clone(),
            headers: head.headers.clone(),
            body: body.clone(),
            raw_head,
            conn,
        });
        let b = lock(&shared.behavior).clone();
        if !b.delay.is_zero() {
            std::thread::sleep(b.delay);
        }
        if b.read_then_close {
            let _ = c.stream.shutdown(Shutdown::Both);
            return Ok(());
        }
        if let Some(raw) = &b.raw_reply {
            c.write_all(raw)?;
            let _ = c.stream.shutdown(Shutdown::Write);
            // Drain so the peer sees FIN, not RST.
            let _ = c.stream.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = c.read_to_close();
            return Ok(());
        }
        if websocket {
            return websocket_echo(c);
        }
        let close = b.close_after_response || !keep_alive;
        let payload = if b.echo_body {
            body
        } else {
            b.body
                .clone()
                .unwrap_or_else(|| shared.name.as_bytes().to_vec())
        };
        let mut resp = format!("HTTP/1.1 {} {}\r\n", b.status, reason(b.status));
        let bodyless = b.status == 204 || b.status == 304 || (100..200).contains(&b.status);
        if !bodyless {
            resp.push_str(&format!("content-length: {}\r\n", payload.len()));
            resp.push_str("content-type: text/plain\r\n");
        }
        resp.push_str(&format!("x-backend: {}\r\n", shared.name));
        for (n, v) in &b.extra_headers {
            resp.push_str(&format!("{n}: {v}\r\n"));
        }
        if close {
            resp.push_str("connection: close\r\n");
        }
        resp.push_str("\r\n");
        let mut out = resp.into_bytes();
        if !bodyless && !is_head {
            out.extend_from_slice(&payload);
        }
        c.write_all(&out)?;
        if close {
            let _ = c.stream.shutdown(Shutdown::Write);
            return Ok(());
        }
    }
}

fn websocket_echo(mut c: BufConn) -> io::Result<()> {
    c.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n",
    )?;
    let early = c.take_buffered();
    if !early.is_empty() {
        c.write_all(&early)?;
    }
    let mut stream = c.stream;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                stream.write_all(&buf[..n])?;
            }
            Err(e) if is_timeout(&e) => break,
            Err(e) => return Err(e),
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}
