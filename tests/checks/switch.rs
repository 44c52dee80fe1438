//! A server whose behaviour a test switches while it runs: answers HTTP 200 (its
//! name in the body) or 500, accepts and hangs, greets with a banner or stays silent,
//! or stops listening altogether (connections refused; those already in its backlog
//! are served first, as in a graceful stop) and comes back on its port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Reads a request, answers `200 OK` with its name, closes.
    Ok = 0,
    /// Reads a request, answers `500 Internal Server Error`, closes.
    Error = 1,
    /// Accepts and never answers.
    Hang = 2,
    /// Sends `220 ready\r\n` then reads until the peer closes.
    Banner = 3,
    /// Stops listening: connections are refused.
    Closed = 4,
}

/// A switchable server on a fixed loopback port.
pub struct Switch {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    /// The serving thread's view: listening or not.
    listening: Arc<AtomicBool>,
    /// Connections accepted so far (each check is one).
    accepted: Arc<std::sync::atomic::AtomicUsize>,
}

fn serve(mut s: TcpStream, mode: Mode, name: &str, held: &Mutex<Vec<TcpStream>>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    match mode {
        Mode::Ok | Mode::Error => {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let (status, body) = if mode == Mode::Ok {
                ("200 OK", name.to_owned())
            } else {
                ("500 Internal Server Error", "oops".to_owned())
            };
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
        Mode::Hang | Mode::Closed => held.lock().unwrap().push(s),
        Mode::Banner => {
            let _ = s.write_all(b"220 ready\r\n");
            let mut chunk = [0u8; 1024];
            while matches!(s.read(&mut chunk), Ok(n) if n > 0) {}
        }
    }
}

impl Switch {
    /// Starts serving in `mode`, as `name`.
    pub fn start(name: &str, mode: Mode) -> Switch {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let sw = Switch {
            addr,
            mode: Arc::new(AtomicU8::new(mode as u8)),
            stop: Arc::new(AtomicBool::new(false)),
            held: Arc::new(Mutex::new(Vec::new())),
            listening: Arc::new(AtomicBool::new(false)),
            accepted: Arc::default(),
        };
        let (listening, accepted) = (sw.listening.clone(), sw.accepted.clone());
        let (m, stop, held, name) = (
            sw.mode.clone(),
            sw.stop.clone(),
            sw.held.clone(),
            name.to_owned(),
        );
        std::thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            let mut last = Mode::Ok;
            while !stop.load(Ordering::Relaxed) {
                let mode = mode_of(m.load(Ordering::Relaxed));
                if mode == Mode::Closed {
                    // A graceful stop: connections already in the backlog are served
                    // (in the mode before) rather than reset with the socket.
                    if let Some(l) = listener.take() {
                        while let Ok((s, _)) = l.accept() {
                            s.set_nonblocking(false).unwrap();
                            accepted.fetch_add(1, Ordering::SeqCst);
                            let (held, name) = (held.clone(), name.clone());
                            std::thread::spawn(move || serve(s, last, &name, &held));
                        }
                    }
                    listening.store(false, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                if listener.is_none() {
                    match TcpListener::bind(addr) {
                        Ok(l) => {
                            l.set_nonblocking(true).unwrap();
                            listener = Some(l);
                            listening.store(true, Ordering::SeqCst);
                        }
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    }
                }
                last = mode;
                match listener.as_ref().unwrap().accept() {
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        accepted.fetch_add(1, Ordering::SeqCst);
                        let (held, name) = (held.clone(), name.clone());
                        std::thread::spawn(move || serve(s, mode, &name, &held));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        sw.set(mode);
        sw
    }

    /// Connections accepted so far.
    #[allow(dead_code)]
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Waits until `n` more connections than `since` were accepted (checks that ran).
    #[allow(dead_code)]
    pub fn wait_accepted(&self, since: usize, n: usize) {
        let done =
            crate::support::wait_until(Duration::from_secs(20), || self.accepted() >= since + n);
        assert!(done, "{} checks in 20 s", self.accepted() - since);
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes what new connections get (`Closed` also stops listening).
    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
        if mode != Mode::Hang {
            self.held.lock().unwrap().clear();
        }
        // Returns once the listening socket is closed or open again, so that no
        // connection lands in a backlog about to be dropped.
        let want = mode != Mode::Closed;
        while self.listening.load(Ordering::SeqCst) != want {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

fn mode_of(v: u8) -> Mode {
    match v {
        0 => Mode::Ok,
        1 => Mode::Error,
        2 => Mode::Hang,
        3 => Mode::Banner,
        _ => Mode::Closed,
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
