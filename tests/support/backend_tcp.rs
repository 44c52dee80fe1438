//! Raw TCP test servers: an echo server that honours half-close, a banner
//! server (FTP/SMTP-like greeting), and a black hole that accepts and never
//! answers (for timeout tests).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::acceptor::{Acceptor, ConnStats};
use super::backend_http::lock;
use super::http1::is_timeout;

/// Reads from `s` until EOF, timeout, error or server stop, calling `f`
/// with each chunk; returns true on a clean EOF.
fn pump(s: &mut TcpStream, stats: &ConnStats, mut f: impl FnMut(&[u8]) -> bool) -> bool {
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 16 * 1024];
    loop {
        if stats.stop.load(Ordering::SeqCst) {
            return false;
        }
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => {
                if !f(&buf[..n]) {
                    return false;
                }
            }
            Err(e) if is_timeout(&e) => continue,
            Err(_) => return false,
        }
    }
}

/// Echoes every byte back; when the client half-closes (read EOF) it
/// shuts down its own write side after echoing everything.
#[derive(Debug)]
pub struct TcpEcho {
    acceptor: Acceptor,
    bytes: Arc<AtomicUsize>,
}

impl TcpEcho {
    /// Starts an echo server on a free 127.0.0.1 port.
    pub fn start() -> TcpEcho {
        let bytes = Arc::new(AtomicUsize::new(0));
        let b = Arc::clone(&bytes);
        let acceptor = Acceptor::start(move |mut s, _id, stats| {
            let mut w = match s.try_clone() {
                Ok(w) => w,
                Err(_) => return,
            };
            let clean = pump(&mut s, stats, |chunk| {
                b.fetch_add(chunk.len(), Ordering::SeqCst);
                w.write_all(chunk).is_ok()
            });
            if clean {
                let _ = s.shutdown(Shutdown::Write);
            }
        });
        TcpEcho { acceptor, bytes }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.acceptor.accepted()
    }

    /// Waits until every connection made before the call has been accepted
    /// and counted (see [`Acceptor::sync`]).
    pub fn sync(&self) {
        self.acceptor.sync();
    }

    /// Total bytes echoed so far.
    pub fn bytes_echoed(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }
}

/// Writes a banner on accept, then records what the client sends until it
/// closes (like an FTP/SMTP greeting).
#[derive(Debug)]
pub struct TcpBanner {
    acceptor: Acceptor,
    received: Arc<Mutex<Vec<u8>>>,
}

impl TcpBanner {
    /// Starts a server greeting each connection with `banner`.
    pub fn start(banner: &[u8]) -> TcpBanner {
        let banner = banner.to_vec();
        let received = Arc::new(Mutex::new(Vec::new()));
        let r = Arc::clone(&received);
        let acceptor = Acceptor::start(move |mut s, _id, stats| {
            if s.write_all(&banner).is_err() {
                return;
            }
            if pump(&mut s, stats, |chunk| {
                lock(&r).extend_from_slice(chunk);
                true
            }) {
                let _ = s.shutdown(Shutdown::Write);
            }
        });
        TcpBanner { acceptor, received }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.acceptor.accepted()
    }

    /// Waits until every connection made before the call has been accepted
    /// and counted (see [`Acceptor::sync`]).
    pub fn sync(&self) {
        self.acceptor.sync();
    }

    /// All bytes clients sent, concatenated over connections.
    pub fn received(&self) -> Vec<u8> {
        lock(&self.received).clone()
    }
}

/// Accepts connections and never reads nor writes; they stay open until
/// the server is dropped (for connect/server timeout tests).
#[derive(Debug)]
pub struct BlackHole {
    acceptor: Acceptor,
}

impl BlackHole {
    /// Starts a black-hole server on a free 127.0.0.1 port.
    pub fn start() -> BlackHole {
        let acceptor = Acceptor::start(|_s, _id, stats| {
            while !stats.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        BlackHole { acceptor }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.acceptor.accepted()
    }

    /// Waits until every connection made before the call has been accepted
    /// and counted (see [`Acceptor::sync`]).
    pub fn sync(&self) {
        self.acceptor.sync();
    }
}

/// Per connection: bytes received and whether it ended with a clean EOF.
type ConnLog = Vec<(Vec<u8>, bool)>;

/// A server that sends `banner`, then half-closes (shuts its write side) at once and
/// keeps reading: a server-initiated half-close. Closes when the client does.
#[derive(Debug)]
pub struct HalfCloser {
    acceptor: Acceptor,
    conns: Arc<Mutex<ConnLog>>,
}

impl HalfCloser {
    /// Starts it on a free 127.0.0.1 port.
    pub fn start(banner: &[u8]) -> HalfCloser {
        let conns: Arc<Mutex<ConnLog>> = Arc::new(Mutex::new(Vec::new()));
        let (c, banner) = (Arc::clone(&conns), banner.to_vec());
        let acceptor = Acceptor::start(move |mut s, _id, stats| {
            let me = {
                let mut all = lock(&c);
                all.push((Vec::new(), false));
                all.len() - 1
            };
            if s.write_all(&banner).is_err() || s.shutdown(Shutdown::Write).is_err() {
                return;
            }
            let eof = pump(&mut s, stats, |chunk| {
                lock(&c)[me].0.extend_from_slice(chunk);
                true
            });
            lock(&c)[me].1 = eof;
        });
        HalfCloser { acceptor, conns }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// Per connection: the bytes the client sent after the half-close, and whether the
    /// client then closed cleanly (EOF).
    pub fn connections(&self) -> ConnLog {
        lock(&self.conns).clone()
    }

    /// Whether a connection received exactly `data` and then the client's EOF.
    pub fn got_then_eof(&self, data: &[u8]) -> bool {
        self.connections().iter().any(|(d, eof)| *eof && d == data)
    }
}

/// A listening socket whose accept queue is full and never drained: the kernel drops
/// new SYNs, so a connect to it hangs (a local stand-in for an unreachable server,
/// for `timeout connect`).
#[derive(Debug)]
pub struct NoAccept {
    listener: socket2::Socket,
    fillers: Vec<TcpStream>,
}

impl NoAccept {
    /// Binds a free 127.0.0.1 port with a backlog of 0 and fills its queue.
    pub fn start() -> NoAccept {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: SocketAddr = (std::net::Ipv4Addr::LOCALHOST, 0).into();
        listener.bind(&any.into()).expect("bind 127.0.0.1:0");
        listener.listen(0).expect("listen");
        let addr = listener
            .local_addr()
            .expect("local_addr")
            .as_socket()
            .expect("inet");
        let mut fillers = Vec::new();
        // Connect until one attempt hangs: from then on the queue is full.
        for _ in 0..16 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(_) => {
                    return NoAccept { listener, fillers };
                }
            }
        }
        panic!("NoAccept: the accept queue of {addr} never filled");
    }

    /// The address whose connects hang.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("local_addr")
            .as_socket()
            .expect("inet")
    }
}

/// A 127.0.0.1 port bound but never listening, held for the value's life: every
/// connect to it is refused (a server that is down), and no other socket — a test
/// server's port-0 bind, an outgoing connection's source port — can take it meanwhile,
/// as it could take a port closed right after a bind.
#[derive(Debug)]
pub struct Refusing {
    socket: socket2::Socket,
}

impl Refusing {
    /// Binds a free 127.0.0.1 port without listening.
    pub fn start() -> Refusing {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: SocketAddr = (std::net::Ipv4Addr::LOCALHOST, 0).into();
        socket.bind(&any.into()).expect("bind 127.0.0.1:0");
        Refusing { socket }
    }

    /// The address that refuses connections.
    pub fn addr(&self) -> SocketAddr {
        self.socket
            .local_addr()
            .expect("local_addr")
            .as_socket()
            .expect("inet")
    }
}
