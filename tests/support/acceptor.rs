//! The accept loop shared by all test servers: binds 127.0.0.1 on a free
//! port, runs a handler thread per connection, counts connections and, on
//! drop, stops accepting and shuts every open connection down (so a proxy
//! sees the server "die"). [`Acceptor::sync`] is a barrier: once it returns,
//! every connection made to the server before the call has been accepted
//! and counted, so "the server saw no connection" can be checked at once.

use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::backend_http::lock;
use super::{DEFAULT_TIMEOUT, wait_until};

/// Counters and stop flag visible to handlers.
#[derive(Debug, Default)]
pub struct ConnStats {
    /// Connections accepted so far.
    pub accepted: AtomicUsize,
    /// Connections whose handler has not returned yet.
    pub open: AtomicUsize,
    /// Set when the server is being dropped.
    pub stop: AtomicBool,
}

/// A listening socket with a thread per accepted connection.
#[derive(Debug)]
pub struct Acceptor {
    addr: SocketAddr,
    stats: Arc<ConnStats>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    probes: Arc<Probes>,
    thread: Option<JoinHandle<()>>,
}

/// Barrier connections of [`Acceptor::sync`]: announced by their local
/// port before they connect, swallowed (not counted, not handled) when
/// accepted.
#[derive(Debug, Default)]
struct Probes {
    /// Local ports of probes connecting now.
    pending: Mutex<Vec<u16>>,
    /// Local ports of probes the accept loop has taken.
    seen: Mutex<Vec<u16>>,
}

impl Acceptor {
    /// Starts accepting; `handler(stream, conn_index_from_1, stats)` runs
    /// on its own thread for each connection.
    pub fn start<F>(handler: F) -> Acceptor
    where
        F: Fn(TcpStream, usize, &ConnStats) + Send + Sync + 'static,
    {
        let listener = super::bind_local();
        let addr = listener.local_addr().expect("test server: local_addr");
        let stats = Arc::new(ConnStats::default());
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let probes = Arc::new(Probes::default());
        let (st, cs, pr) = (Arc::clone(&stats), Arc::clone(&conns), Arc::clone(&probes));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let Ok(peer) = stream.peer_addr() {
                    let mut pending = lock(&pr.pending);
                    if let Some(i) = pending.iter().position(|p| *p == peer.port()) {
                        pending.remove(i);
                        lock(&pr.seen).push(peer.port());
                        continue;
                    }
                }
                if let Ok(clone) = stream.try_clone() {
                    lock(&cs).push(clone);
                }
                let id = st.accepted.fetch_add(1, Ordering::SeqCst) + 1;
                st.open.fetch_add(1, Ordering::SeqCst);
                let (h, st2) = (Arc::clone(&handler), Arc::clone(&st));
                std::thread::spawn(move || {
                    h(stream, id, &st2);
                    st2.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Acceptor {
            addr,
            stats,
            conns,
            probes,
            thread: Some(thread),
        }
    }

    /// A barrier on the accept queue: connects a probe (not counted, not
    /// handled) and waits until the accept loop took it. The kernel queues
    /// connections in arrival order and the loop counts each before taking
    /// the next, so afterwards [`Acceptor::accepted`] includes every
    /// connection made before this call. Panics if the probe is not taken
    /// within [`DEFAULT_TIMEOUT`].
    pub fn sync(&self) {
        use socket2::{Domain, Socket, Type};
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("sync: socket");
        sock.bind(&SocketAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).into())
            .expect("sync: bind the probe");
        let port = sock
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|a| a.port())
            .expect("sync: probe port");
        lock(&self.probes.pending).push(port);
        sock.connect_timeout(&self.addr.into(), DEFAULT_TIMEOUT)
            .expect("sync: connect the probe");
        let taken = wait_until(DEFAULT_TIMEOUT, || {
            let mut seen = lock(&self.probes.seen);
            let found = seen.iter().position(|p| *p == port);
            found.map(|i| seen.remove(i)).is_some()
        });
        assert!(
            taken,
            "sync: the accept loop of {} did not take the probe",
            self.addr
        );
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Shared counters.
    pub fn stats(&self) -> &Arc<ConnStats> {
        &self.stats
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.stats.accepted.load(Ordering::SeqCst)
    }

    /// Connections still being handled.
    pub fn open(&self) -> usize {
        self.stats.open.load(Ordering::SeqCst)
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stats.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for s in lock(&self.conns).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// A scripted server for the life of the test binary: listens on 127.0.0.1 (a port
/// [`super::bind_local`] picks) and runs `serve` on its own thread for each connection.
/// Its address.
pub fn serve_each(serve: fn(TcpStream)) -> SocketAddr {
    let listener = super::bind_local();
    let addr = listener.local_addr().expect("test server: local_addr");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || serve(conn));
        }
    });
    addr
}
