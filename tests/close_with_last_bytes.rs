//! A connection that closes after its response (`Connection: close`) sends its end with
//! the response's last bytes: the FIN (and over TLS the `close_notify`) rides in the
//! segment that carries them, so the client is woken once for the response and the
//! close, and its host handles one packet each way less per connection (HAProxy 2.6
//! sends the FIN in a segment of its own). Seen from the client: the moment the last
//! byte of the response can be read, the end of the stream can be read too. Without
//! the merge that holds for only part of the connections (the FIN follows a few
//! microseconds later; on the machine this was written on, 152 of 200), so each case
//! asserts it for every one of 100 connections.

mod support;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use support::pki::Pki;
use support::*;

const CONNECTIONS: usize = 100;

fn config(bind: &str, be: u16) -> String {
    format!(
        "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind {bind}\n  default_backend b\n\
         backend b\n  server s1 127.0.0.1:{be}\n"
    )
}

/// Whether `body_so_far` holds a whole response (`Content-Length` or chunked).
fn complete(resp: &[u8]) -> bool {
    let Some(end) = resp.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&resp[..end]).to_ascii_lowercase();
    let body = &resp[end + 4..];
    if let Some(cl) = head.lines().find_map(|l| l.strip_prefix("content-length:")) {
        return body.len() >= cl.trim().parse::<usize>().unwrap();
    }
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    body.ends_with(b"0\r\n\r\n")
}

/// The end of the stream is already readable (a non-blocking read returns 0).
fn eof_pending(sock: &TcpStream) -> bool {
    sock.set_nonblocking(true).unwrap();
    let mut b = [0u8; 64];
    let r = (&*sock).read(&mut b);
    sock.set_nonblocking(false).unwrap();
    match r {
        Ok(0) => true,
        Ok(n) => panic!("{n} bytes after the response"),
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) => panic!("read: {e}"),
    }
}

/// Over plain TCP: how many of the connections had their end readable with the last
/// byte of the response.
fn plain_closes_with_response(port: u16) -> usize {
    let mut with = 0;
    for _ in 0..CONNECTIONS {
        let mut s = TcpStream::connect(local(port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut resp = Vec::new();
        let mut b = [0u8; 4096];
        while !complete(&resp) {
            let n = s.read(&mut b).unwrap();
            assert!(n > 0, "closed before the response ended");
            resp.extend_from_slice(&b[..n]);
        }
        assert!(resp.starts_with(b"HTTP/1.1 200"), "{resp:?}");
        with += usize::from(eof_pending(&s));
    }
    with
}

#[test]
fn a_closing_response_carries_the_fin_with_its_last_bytes() {
    let sized = HttpBackend::start("app");
    let chunked = HttpBackend::builder("chunked")
        .raw_reply(
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"[..],
        )
        .start();
    for (what, be) in [("content-length", &sized), ("chunked", &chunked)] {
        let port = free_port();
        let _g = Gatehouse::start(&config(&format!("127.0.0.1:{port}"), be.port()), &[port]);
        let with = plain_closes_with_response(port);
        assert_eq!(
            with,
            CONNECTIONS,
            "{what}: the FIN came apart from the response on {} of {CONNECTIONS} connections",
            CONNECTIONS - with
        );
    }
}

#[test]
fn over_tls_the_close_notify_and_fin_come_with_the_response() {
    let pki = Pki::get();
    let be = HttpBackend::start("app");
    let port = free_port();
    let bind = format!("127.0.0.1:{port} ssl crt {}", pki.p("site.pem"));
    let _g = Gatehouse::start(&config(&bind, be.port()), &[port]);
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_file_iter(pki.p("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let mut with = 0;
    for _ in 0..CONNECTIONS {
        let name = "www.site.test".try_into().unwrap();
        let mut conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
        let mut sock = TcpStream::connect(local(port)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).unwrap();
        }
        conn.writer()
            .write_all(b"GET / HTTP/1.1\r\nHost: www.site.test\r\nConnection: close\r\n\r\n")
            .unwrap();
        while conn.wants_write() {
            conn.complete_io(&mut sock).unwrap();
        }
        let mut resp = Vec::new();
        let mut b = [0u8; 4096];
        while !complete(&resp) {
            let n = conn.read_tls(&mut sock).unwrap();
            assert!(n > 0, "closed before the response ended");
            let state = conn.process_new_packets().unwrap();
            let mut left = state.plaintext_bytes_to_read();
            while left > 0 {
                let k = conn.reader().read(&mut b).unwrap();
                resp.extend_from_slice(&b[..k]);
                left -= k;
            }
        }
        assert!(resp.starts_with(b"HTTP/1.1 200"), "{resp:?}");
        // What is already in the socket: the close_notify record, then the end.
        sock.set_nonblocking(true).unwrap();
        let mut ended = false;
        loop {
            match conn.read_tls(&mut sock) {
                Ok(0) => {
                    ended = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        let closed = conn.process_new_packets().unwrap().peer_has_closed();
        with += usize::from(ended && closed);
    }
    assert_eq!(
        with,
        CONNECTIONS,
        "the close_notify and FIN came apart from the response on {} of {CONNECTIONS} connections",
        CONNECTIONS - with
    );
}
