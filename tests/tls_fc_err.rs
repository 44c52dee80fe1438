//! `ssl_fc_err` and `ssl_fc_err_str` in a `mode tcp` log line, compared with haproxy 2.6 on the
//! same configuration: 0 and nothing after a clean exchange (curl); and OpenSSL's code
//! and string for a client whose TLS record fails to decrypt in the middle of its
//! request (a rustls client that completes the handshake, sends a head, then a forged
//! application-data record on the raw socket), where haproxy 2.6.12 logs 0.

mod support;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use support::pki::{Pki, curl};
use support::*;

fn config(port: u16, be: u16, crt: &str) -> String {
    format!(
        "global\n  log stdout format raw local0\n\
         defaults\n  mode tcp\n  log global\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port} ssl crt {crt}\n\
         log-format \"fcerr=%[ssl_fc_err] str=%{{+Q}}[ssl_fc_err_str]\"\n  default_backend b\n\
         backend b\n  server s1 127.0.0.1:{be}\n"
    )
}

/// A TLS client that sends a POST head and part of its body, then a record that cannot
/// decrypt, and reads until the proxy closes.
fn forged_record(port: u16, ca: &str) {
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for c in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = "www.site.test".try_into().unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
    let mut sock = TcpStream::connect(local(port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    // The proxy sends its session tickets once it has read our Finished: waiting for
    // one keeps the handshake's last record apart from the records below. (When the
    // Finished, data and the bad record arrive in one read, gatehouse fails the
    // handshake and logs "SSL handshake failure", where HAProxy forwards the data and
    // logs the session with the error — docs/tls.md; the test met that once on a busy
    // machine.)
    while conn.tls13_tickets_received() == 0 {
        conn.complete_io(&mut sock).unwrap();
    }
    conn.writer()
        .write_all(
            b"POST /forged HTTP/1.1\r\nHost: www.site.test\r\nContent-Length: 100\r\n\r\nabc",
        )
        .unwrap();
    while conn.wants_write() {
        conn.complete_io(&mut sock).unwrap();
    }
    // An application-data record whose contents are no encryption of anything.
    let mut rec = vec![0x17, 0x03, 0x03, 0x00, 0x20];
    rec.extend_from_slice(&[0x42; 32]);
    sock.write_all(&rec).unwrap();
    let mut b = [0u8; 4096];
    while matches!(sock.read(&mut b), Ok(n) if n > 0) {}
}

#[test]
fn ssl_fc_err_reports_a_record_that_fails_to_decrypt_as_haproxy_does() {
    let pki = Pki::get();
    let be = HttpBackend::start("app");
    for haproxy in [false, true] {
        let port = free_port();
        let cfg = config(port, be.port(), &pki.p("site.pem"));
        let p = if haproxy {
            require_haproxy();
            Haproxy::start(&cfg, &[port]).0
        } else {
            Gatehouse::start(&cfg, &[port]).0
        };
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let url = format!("https://www.site.test:{port}/clean");
        let out = curl(&[
            "--cacert",
            &pki.p("ca.pem"),
            "--resolve",
            &format!("www.site.test:{port}:127.0.0.1"),
            &url,
        ]);
        assert_eq!(out.as_deref(), Some("app"), "{who}");
        let lines = p.wait_stdout_lines("fcerr=", 1, Duration::from_secs(10));
        assert_eq!(lines, ["fcerr=0 str=\"\""], "{who}");
        forged_record(port, &pki.p("ca.pem"));
        let lines = p.wait_stdout_lines("fcerr=", 2, Duration::from_secs(10));
        // haproxy 2.6.12 logs 0 here (its error stays unrecorded when the session ends
        // on this read); gatehouse keeps the error, with OpenSSL 3's code and text
        // (docs/tls.md).
        if !haproxy {
            assert_eq!(
                lines[1],
                "fcerr=167772441 str=\"error:0A000119:SSL routines::decryption failed or bad record mac\"",
                "{who}: {lines:?}"
            );
        }
    }
}
