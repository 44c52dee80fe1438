//! Shared helpers for gatehouse integration tests: temp dirs and free ports,
//! haproxy.cfg templating, launching the real `gatehouse` / `haproxy`
//! binaries, scripted backends (HTTP, TCP echo, banner, black hole) and raw /
//! HTTP/1.1 test clients. Include from a test file with `mod support;`.
//!
//! Everything here is test-only code: helpers panic with a descriptive
//! message when the environment is broken, which is how a test fails.
#![allow(dead_code, unused_imports)]

pub mod acceptor;
pub mod backend_h2;
pub mod backend_http;
pub mod backend_raw;
pub mod backend_tcp;
pub mod cfgcheck;
pub mod client;
pub mod config;
pub mod daemon;
pub mod delayed_ack;
pub mod h2_bytes;
pub mod h2_ws;
pub mod handoff;
pub mod http1;
pub mod load;
pub mod log_line;
pub mod master;
pub mod nginx;
pub mod pg_cluster;
pub mod pki;
pub mod procnet;
pub mod route;
pub mod services;
pub mod socat;
pub mod stats;
pub mod stick;

pub use backend_http::{HttpBackend, HttpBackendBuilder, RecordedRequest};
pub use backend_raw::{RawBackend, RawSide, exchange_status};
pub use backend_tcp::{BlackHole, HalfCloser, NoAccept, Refusing, TcpBanner, TcpEcho};
pub use cfgcheck::{ExpectedError, first_alert_line, parse_expect_error_line};
pub use client::{
    HttpClient, Response, http_get, http_get_until_close, http_request, nothing_arrived,
    read_to_close, send_raw, send_raw_with, send_until_close,
};
pub use config::Config;
pub use daemon::{
    Daemon, DaemonBuilder, Gatehouse, Haproxy, check, gatehouse_bin, haproxy_bin, proxy_builder,
    reference_run, require_haproxy, start_proxy,
};

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Default time a helper waits for something (a port, a reply, a request)
/// before giving up and failing the test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Ports [`free_port`] handed out in this test binary.
static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());

/// A listener on 127.0.0.1 on a port the kernel chose, never one [`free_port`] handed
/// out: that port is released until its proxy binds it, and a test server taking it
/// meanwhile would answer the proxy's start-up probe in the proxy's place.
pub fn bind_local() -> TcpListener {
    let mut taken = Vec::new();
    loop {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("bind_local: cannot bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("bind_local: cannot read local address")
            .port();
        if !GIVEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&port)
        {
            return listener;
        }
        // Held until a good port is found, so the kernel does not offer it again.
        taken.push(listener);
    }
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago, never the same one
/// twice in a test binary (two proxies of parallel tests would share it silently:
/// listeners use SO_REUSEPORT). It is taken below the kernel's ephemeral range, where
/// port-0 binds (test servers) and outgoing connections never land: between its release
/// here and the proxy's bind, nothing else of the test run can take it.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// `n` consecutive free ports, the first returned (see [`free_port`]): none of them is
/// given to another test of this binary.
pub fn free_ports(n: usize) -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(usize::MAX);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<usize>().ok())
        .unwrap_or(32768);
    let (first, span) = if low > 12_000 {
        (10_000, low - 10_000)
    } else {
        (low.saturating_sub(2_000).max(1024), 2_000)
    };
    // Each test binary starts at its own place, so parallel runs rarely meet.
    let _ = NEXT.compare_exchange(
        usize::MAX,
        std::process::id() as usize * 7_919 % span,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..span {
        let at = NEXT.fetch_add(n, Ordering::SeqCst) % span;
        if at + n > span {
            continue;
        }
        let ports: Vec<u16> = (0..n).map(|i| (first + at + i) as u16).collect();
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if ports.iter().any(|p| given.contains(p)) {
            continue;
        }
        if ports
            .iter()
            .all(|&p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok())
        {
            given.extend(&ports);
            return ports[0];
        }
    }
    panic!("free_port: no free port in {first}..{}", first + span);
}

/// `127.0.0.1:port` as a socket address.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// A uniquely named directory under the system temp dir, removed (with its
/// contents) on drop unless `GATEHOUSE_KEEP_TEST_DIRS` is set.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `$TMPDIR/gatehouse-test-<tag>-<pid>-<nanos>-<counter>`.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let safe_tag: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = std::env::temp_dir().join(format!(
            "gatehouse-test-{safe_tag}-{}-{nanos}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create temp dir {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("GATEHOUSE_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Polls `cond` every 10 ms until it returns true or `timeout` passes;
/// returns whether it became true.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Path of a file under the crate's `tests/configs/` directory.
pub fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("configs")
}
