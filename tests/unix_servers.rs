//! Servers on unix sockets (`server NAME /path` and `unix@/path`): the server side is
//! generic over the stream, so HTTP (with keep-alive reuse of the idle connection) and
//! TCP mode reach a backend listening on a unix socket.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use support::{Gatehouse, HttpClient, TempDir, free_port, local};

/// A tiny HTTP/1.1 keep-alive server on a unix socket: answers every request with
/// `unix-ok` and counts the connections it accepted.
fn http_on_unix(path: &std::path::Path) -> Arc<AtomicUsize> {
    let l = UnixListener::bind(path).unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let c = conns.clone();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            c.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                loop {
                    let mut line = String::new();
                    // Request line and headers up to the blank line (no bodies here).
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nunix-ok");
                }
            });
        }
    });
    conns
}

#[test]
fn http_requests_reach_a_unix_socket_server_and_reuse_its_connection() {
    let dir = TempDir::new("unix-srv");
    let sock = dir.path().join("app.sock");
    let conns = http_on_unix(&sock);
    let port = free_port();
    // One thread: the server connection is back in the pool before the proxy reads
    // the second client's request. With two, the thread that sent the first client
    // its response may not have put the connection back yet when the other takes the
    // second request (a race the loaded machine lost).
    let cfg = format!(
        "global\n    nbthread 1\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
         backend be\n    http-reuse always\n    server app unix@{}\n",
        sock.display()
    );
    let _gh = Gatehouse::builder(&cfg).wait_port(port).start();
    let mut c = HttpClient::connect(local(port)).unwrap();
    for _ in 0..3 {
        let r = c.get("/", &[]).unwrap();
        assert_eq!((r.status, r.body_str().as_str()), (200, "unix-ok"));
    }
    // A second client: with `http-reuse always` its first request takes the idle
    // server connection from the pool.
    let mut c2 = HttpClient::connect(local(port)).unwrap();
    assert_eq!(c2.get("/", &[]).unwrap().body_str(), "unix-ok");
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "the server connection is reused"
    );
}

#[test]
fn tcp_mode_forwards_to_a_unix_socket_server() {
    let dir = TempDir::new("unix-tcp");
    let sock = dir.path().join("echo.sock");
    let l = UnixListener::bind(&sock).unwrap();
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut w = s.try_clone().unwrap();
            let mut r = s;
            let mut buf = [0u8; 64];
            let n = r.read(&mut buf).unwrap_or(0);
            let _ = w.write_all(&buf[..n]);
        }
    });
    let port = free_port();
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         listen db\n    bind 127.0.0.1:{port}\n    server echo {}\n",
        sock.display()
    );
    let _gh = Gatehouse::builder(&cfg).wait_port(port).start();
    let mut c = std::net::TcpStream::connect(local(port)).unwrap();
    c.write_all(b"ping over unix").unwrap();
    let mut got = [0u8; 14];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping over unix");
}
