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
}
