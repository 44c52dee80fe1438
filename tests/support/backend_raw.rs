//! A raw-recording HTTP/1.1 origin for byte-exact comparisons: it keeps every byte it
//! receives (over all connections, in arrival order) and answers each request once it
//! is complete by strict HTTP/1.1 framing (CRLF line ends, Content-Length or chunked).
//! Framing it cannot read is never answered, so a proxy forwarding framing it did not
//! normalise shows up as a timeout and as the raw bytes. A `CONNECT` gets a bodyless
//! `200` and everything after it is recorded as tunnel data.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::acceptor::Acceptor;
use super::backend_http::lock;
use super::config::Config;
use super::daemon::{Daemon, Gatehouse, Haproxy};
use super::http1::{find, is_timeout};
use super::local;

/// The answer to every complete request (HEAD gets the head only).
pub const RAW_REPLY: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

#[derive(Debug, Default)]
struct Log {
    /// Every byte received, all connections, in arrival order.
    bytes: Vec<u8>,
    /// Complete requests answered.
    answered: usize,
}

/// A running raw-recording server; stops on drop.
#[derive(Debug)]
pub struct RawBackend {
    log: Arc<Mutex<Log>>,
    acceptor: Acceptor,
}

impl RawBackend {
    /// Starts it on a free 127.0.0.1 port.
    pub fn start() -> RawBackend {
        let log = Arc::new(Mutex::new(Log::default()));
        let l = Arc::clone(&log);
        let acceptor = Acceptor::start(move |mut s, _id, stats| {
            let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
            let mut pending = Vec::new();
            let mut tunnel = false;
            let mut buf = [0u8; 16 * 1024];
            while !stats.stop.load(Ordering::SeqCst) {
                let n = match s.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => n,
                    Err(e) if is_timeout(&e) => continue,
                    Err(_) => return,
                };
                lock(&l).bytes.extend_from_slice(&buf[..n]);
                if tunnel {
                    continue;
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some((len, kind)) = request_end(&pending) {
                    pending.drain(..len);
                    let reply: &[u8] = match kind {
                        Kind::Connect => b"HTTP/1.1 200 OK\r\n\r\n",
                        Kind::Head => &RAW_REPLY[..RAW_REPLY.len() - 2],
                        Kind::Other => RAW_REPLY,
                    };
                    if s.write_all(reply).is_err() {
                        return;
                    }
                    lock(&l).answered += 1;
                    if kind == Kind::Connect {
                        tunnel = true;
                        lock(&l).bytes.extend_from_slice(b"<tunnel>");
                        pending.clear();
                        break;
                    }
                }
            }
        });
        RawBackend { log, acceptor }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// How many bytes were received so far (a mark for [`RawBackend::received_since`]).
    pub fn mark(&self) -> usize {
        lock(&self.log).bytes.len()
    }

    /// The bytes received after `mark`.
    pub fn received_since(&self, mark: usize) -> Vec<u8> {
        lock(&self.log).bytes.get(mark..).unwrap_or(&[]).to_vec()
    }

    /// Complete requests answered so far.
    pub fn answered(&self) -> usize {
        lock(&self.log).answered
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Head,
    Other,
}

/// Length of the first complete request in `b` by strict framing, with its kind.
fn request_end(b: &[u8]) -> Option<(usize, Kind)> {
    let head_end = find(b, b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&b[..head_end]).to_ascii_lowercase();
    let kind = if head.starts_with("connect ") {
        Kind::Connect
    } else if head.starts_with("head ") {
        Kind::Head
    } else {
        Kind::Other
    };
    let mut length = 0usize;
    let mut chunked = false;
    for line in head.split("\r\n").skip(1) {
        if let Some(v) = line.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("transfer-encoding:") {
            chunked = v.trim() == "chunked";
        }
    }
    if kind == Kind::Connect {
        return Some((head_end, kind));
    }
    if !chunked {
        return (b.len() >= head_end + length).then_some((head_end + length, kind));
    }
    let mut pos = head_end;
    loop {
        let eol = pos + find(&b[pos..], b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&b[pos..eol]).ok()?, 16).ok()?;
        pos = eol + 2;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let eol = pos + find(&b[pos..], b"\r\n")?;
                let empty = eol == pos;
                pos = eol + 2;
                if empty {
                    return Some((pos, kind));
                }
            }
        }
        if b.len() < pos + size + 2 {
            return None;
        }
        if &b[pos + size..pos + size + 2] != b"\r\n" {
            return None;
        }
        pos += size + 2;
    }
}

/// Sends `raw` on a new connection to `addr` and reads one response (head, then a
/// Content-Length body unless the request is HEAD or a CONNECT got 2xx; without a
/// length, until close). Returns the status (`0` if none came within `timeout`).
pub fn exchange_status(addr: SocketAddr, raw: &[u8], timeout: Duration) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_nodelay(true);
    if s.write_all(raw).is_err() {
        return 0;
    }
    let mut c = super::http1::BufConn::new(s);
    let head = match c.read_head() {
        Ok(Some(h)) => h,
        _ => return 0,
    };
    let Ok(h) = super::http1::parse_head(&head) else {
        return 0;
    };
    let status: u16 = h.second.parse().unwrap_or(0);
    let method = raw.split(|&c| c == b' ').next().unwrap_or(b"");
    let bodyless = method == b"HEAD" || (method == b"CONNECT" && (200..300).contains(&status));
    if !bodyless {
        match h
            .header("content-length")
            .and_then(|v| v.trim().parse().ok())
        {
            Some(n) => {
                let _ = c.read_exact_body(n);
            }
            None => {
                let _ = c.read_to_close();
            }
        }
    }
    status
}

/// One proxy (haproxy or gatehouse) in front of its own [`RawBackend`], for
/// side-by-side comparisons: the config template names the listener `{port}` and the
/// server address `{srv}`.
#[derive(Debug)]
pub struct RawSide {
    /// The running proxy (stderr holds its `log stderr` lines).
    pub proxy: Daemon,
    /// The proxy's listening port.
    pub port: u16,
    /// The server behind it.
    pub server: RawBackend,
}

impl RawSide {
    /// Starts the real haproxy (`reference`) or gatehouse with `template`.
    pub fn start(template: &str, reference: bool) -> RawSide {
        let server = RawBackend::start();
        let cfg = Config::new(template)
            .listen_port("port")
            .var("srv", server.addr());
        let proxy = if reference {
            Haproxy::start_config(&cfg).0
        } else {
            Gatehouse::start_config(&cfg).0
        };
        RawSide {
            proxy,
            port: cfg.port("port"),
            server,
        }
    }

    /// Sends `raw` on a new connection: the status the client got (see
    /// [`exchange_status`], 3 s without an answer gives 0) and the bytes the server
    /// received meanwhile.
    pub fn run(&self, raw: &[u8]) -> (u16, Vec<u8>) {
        let mark = self.server.mark();
        let status = exchange_status(local(self.port), raw, Duration::from_secs(3));
        (status, self.server.received_since(mark))
    }
}
