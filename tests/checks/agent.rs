//! A small agent server for `agent-check`: on each connection it writes its current
//! line (set by the test while it runs), then records what the checker sent
//! (`agent-send`) and closes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running agent.
pub struct Agent {
    addr: SocketAddr,
    line: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<u8>>>,
    answered: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Agent {
    /// Starts an agent answering `line` (its CR LF is added).
    pub fn start(line: &str) -> Agent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let a = Agent {
            addr: l.local_addr().unwrap(),
            line: Arc::new(Mutex::new(line.to_owned())),
            received: Arc::default(),
            answered: Arc::default(),
            stop: Arc::default(),
        };
        let (line, received, answered, stop) = (
            a.line.clone(),
            a.received.clone(),
            a.answered.clone(),
            a.stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok((mut s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let reply = format!("{}\r\n", line.lock().unwrap());
                let _ = s.write_all(reply.as_bytes());
                answered.fetch_add(1, Ordering::SeqCst);
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut got = Vec::new();
                let mut chunk = [0u8; 256];
                while let Ok(n) = s.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&chunk[..n]);
                    if got.ends_with(b"\n") {
                        break;
                    }
                }
                if !got.is_empty() {
                    *received.lock().unwrap() = got;
                }
            }
        });
        a
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers `line` from now on; returns once a checker has read it (so the next
    /// state is the one this line causes).
    pub fn say(&self, line: &str) {
        *self.line.lock().unwrap() = line.to_owned();
        let n = self.answered.load(Ordering::SeqCst);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.answered.load(Ordering::SeqCst) < n + 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the agent is not asked"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// What the last checker sent before closing.
    #[allow(dead_code)] // not every test that runs an agent reads it
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
