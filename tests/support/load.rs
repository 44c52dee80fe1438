//! Clients that send `GET /` without pause while a test reloads or replaces the proxy,
//! counting answers, failures and `Connection: close` answers.

use super::HttpClient;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// Running clients: some keep their connection alive, the others open one per request.
pub struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    closes: Arc<AtomicUsize>,
    threads: Vec<thread::JoinHandle<Vec<String>>>,
}

/// What the clients saw, once stopped.
pub struct LoadResult {
    /// Requests answered 200.
    pub ok: usize,
    /// Refused connections, failed requests and other statuses.
    pub failed: usize,
    /// 200 answers carrying `Connection: close`.
    pub closes: usize,
    /// One line per failure.
    pub errors: Vec<String>,
}

impl Load {
    /// Starts `keep_alive` clients that reuse their connection (until the proxy answers
    /// `Connection: close`) and `per_request` clients that connect for each request.
    pub fn start(addr: SocketAddr, keep_alive: usize, per_request: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let closes = Arc::new(AtomicUsize::new(0));
        let kinds =
            std::iter::repeat_n(true, keep_alive).chain(std::iter::repeat_n(false, per_request));
        let threads = kinds
            .map(|reuse| {
                let (stop, ok, failed, closes) =
                    (stop.clone(), ok.clone(), failed.clone(), closes.clone());
                thread::spawn(move || client_loop(addr, reuse, &stop, &ok, &failed, &closes))
            })
            .collect();
        Load {
            stop,
            ok,
            failed,
            closes,
            threads,
        }
    }

    /// Requests answered 200 so far.
    pub fn ok(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    /// Stops the clients and returns what they saw.
    pub fn finish(self) -> LoadResult {
        self.stop.store(true, Ordering::Relaxed);
        let errors = self
            .threads
            .into_iter()
            .flat_map(|t| t.join().expect("client thread"))
            .collect();
        LoadResult {
            ok: self.ok.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            closes: self.closes.load(Ordering::Relaxed),
            errors,
        }
    }
}

/// One client's loop until `stop`; returns its errors.
fn client_loop(
    addr: SocketAddr,
    reuse: bool,
    stop: &AtomicBool,
    ok: &AtomicUsize,
    failed: &AtomicUsize,
    closes: &AtomicUsize,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut client: Option<HttpClient> = None;
    while !stop.load(Ordering::Relaxed) {
        let mut c = match client.take() {
            Some(c) => c,
            None => match HttpClient::connect(addr) {
                Ok(c) => c,
                Err(e) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    errors.push(format!("connect: {e}"));
                    continue;
                }
            },
        };
        match c.get("/", &[]) {
            Ok(r) if r.status == 200 => {
                ok.fetch_add(1, Ordering::Relaxed);
                if r.header("connection") == Some("close") {
                    closes.fetch_add(1, Ordering::Relaxed);
                } else if reuse {
                    client = Some(c);
                }
            }
            Ok(r) => {
                failed.fetch_add(1, Ordering::Relaxed);
                errors.push(format!("status {}", r.status));
            }
            Err(e) => {
                failed.fetch_add(1, Ordering::Relaxed);
                errors.push(format!("request: {e}"));
            }
        }
    }
    errors
}
