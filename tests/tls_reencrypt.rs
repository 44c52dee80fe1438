//! Re-encryption to servers (`server … ssl`), against HAProxy 2.6 as the TLS server (a
//! real OpenSSL endpoint that reports what it saw): the server certificate verified
//! against `ca-file` (a wrong CA or a wrong name is a 503, never a silent insecure
//! connection), `verify none`, `ssl-server-verify`, `sni` evaluated per request with
//! idle connections kept per name, `alpn`, the client certificate `crt`, and health
//! checks over TLS.

mod support;
use support::pki::{Pki, curl};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// HAProxy terminating TLS with `site.pem` (asking for a client certificate of the test
/// CA, optionally) and answering what the handshake carried.
fn tls_server() -> (Daemon, u16) {
    let pki = Pki::get();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend tls\n  bind 127.0.0.1:{port} ssl crt {} ca-file {} verify optional alpn h2,http/1.1\n  \
         http-request return status 200 content-type text/plain lf-string \"sni=%[ssl_fc_sni] cn=%[ssl_c_s_dn(CN)] alpn=%[ssl_fc_alpn] host=%[req.hdr(host)]\"\n",
        pki.p("site.pem"),
        pki.p("ca.pem")
    );
    (Haproxy::start(&cfg, &[port]).0, port)
}

fn get(port: u16, host: &str) -> (u16, String) {
    let out = curl(&[
        "-H",
        &format!("Host: {host}"),
        "-w",
        "|%{http_code}",
        &format!("http://127.0.0.1:{port}/"),
    ])
    .expect("curl");
    let (body, code) = out.rsplit_once('|').unwrap();
    (code.parse().unwrap(), body.to_string())
}

fn proxy(server_opts: &str, global: &str) -> (Gatehouse, u16) {
    let port = free_port();
    let cfg = format!(
        "global\n{global}{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  server s1 {server_opts}\n"
    );
    (Gatehouse::start(&cfg, &[port]), port)
}

#[test]
fn reencryption_verifies_the_server_and_sends_sni_alpn_and_a_client_certificate() {
    require_haproxy();
    let pki = Pki::get();
    let (_srv, sp) = tls_server();
    let (_g, port) = proxy(
        &format!(
            "127.0.0.1:{sp} ssl verify required ca-file {} sni str(www.site.test) alpn http/1.1 crt {}",
            pki.p("ca.pem"),
            pki.p("alice.pem")
        ),
        "",
    );
    let (code, body) = get(port, "app.example");
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body,
        "sni=www.site.test cn=alice alpn=http/1.1 host=app.example"
    );
}

#[test]
fn a_server_certificate_that_does_not_verify_is_a_503() {
    require_haproxy();
    let pki = Pki::get();
    let (_srv, sp) = tls_server();
    // Another CA; the right CA but another name; then verify none, which connects.
    let (_a, wrong_ca) = proxy(
        &format!(
            "127.0.0.1:{sp} ssl verify required ca-file {} sni str(www.site.test)",
            pki.p("otherca.pem")
        ),
        "",
    );
    assert_eq!(get(wrong_ca, "x").0, 503);
    let (_b, wrong_name) = proxy(
        &format!(
            "127.0.0.1:{sp} ssl ca-file {} sni str(other.test)",
            pki.p("ca.pem")
        ),
        "",
    );
    assert_eq!(get(wrong_name, "x").0, 503);
    let (_c, none) = proxy(
        &format!("127.0.0.1:{sp} ssl verify none sni str(other.test)"),
        "",
    );
    let (code, body) = get(none, "x");
    assert_eq!(
        (code, body.as_str()),
        (200, "sni=other.test cn= alpn= host=x")
    );
    // Without `sni` nor `verifyhost`, only the chain is checked (HAProxy's rule), and no
    // name is sent.
    let (_d, chain_only) = proxy(
        &format!("127.0.0.1:{sp} ssl ca-file {}", pki.p("ca.pem")),
        "",
    );
    assert_eq!(
        get(chain_only, "x"),
        (200, "sni= cn= alpn= host=x".to_string())
    );
    let (_e, verifyhost) = proxy(
        &format!(
            "127.0.0.1:{sp} ssl ca-file {} verifyhost nope.test",
            pki.p("ca.pem")
        ),
        "",
    );
    assert_eq!(get(verifyhost, "x").0, 503);
}

#[test]
fn ssl_server_verify_sets_the_default_and_verify_without_ca_is_a_config_error() {
    require_haproxy();
    let (_srv, sp) = tls_server();
    let (_g, port) = proxy(&format!("127.0.0.1:{sp} ssl"), "  ssl-server-verify none\n");
    assert_eq!(get(port, "x").0, 200);
    let dir = TempDir::new("tls-server-verify");
    let bad = dir.write(
        "bad.cfg",
        format!("{DEFAULTS}backend b\n  server s1 127.0.0.1:{sp} ssl\n"),
    );
    let (code, _, err) = check(&gatehouse_bin(), &[&bad]);
    assert_ne!(code, 0);
    assert!(
        err.contains("bad.cfg:7") && err.contains("no CA file specified"),
        "{err}"
    );
}

#[test]
fn sni_follows_each_request_and_idle_connections_are_kept_per_name() {
    require_haproxy();
    let pki = Pki::get();
    let (_srv, sp) = tls_server();
    let (_g, port) = proxy(
        // `http-reuse always`: each request may take any idle connection of its key.
        &format!("127.0.0.1:{sp} ssl verify none sni req.hdr(host)\n  http-reuse always"),
        "",
    );
    let _ = pki;
    // Alternating names on keep-alive client connections: each request reaches the server
    // with its own name, whatever idle connection exists for the other.
    for host in ["a.test", "b.test", "a.test", "b.test"] {
        let (code, body) = get(port, host);
        assert_eq!(
            (code, body),
            (200, format!("sni={host} cn= alpn= host={host}"))
        );
    }
}

#[test]
fn health_checks_of_an_ssl_server_run_over_tls() {
    require_haproxy();
    let (_srv, sp) = tls_server();
    let plain = HttpBackend::start("plain");
    let port = free_port();
    // s1 answers the check over TLS; s2 speaks plain HTTP, so its TLS check fails and
    // it is taken out; s3 is s1 with `no-check-ssl`: its check speaks plain HTTP to a
    // TLS port and fails too. Every request then goes to s1.
    let cfg = format!(
        "global\n  ssl-server-verify none\n{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
         backend b\n  option httpchk GET /\n  server s1 127.0.0.1:{sp} ssl check inter 1s fall 1 rise 1\n  server s2 127.0.0.1:{} ssl check inter 1s fall 1 rise 1\n  server s3 127.0.0.1:{sp} ssl no-check-ssl check inter 1s fall 1 rise 1\n",
        plain.port()
    );
    let g = Gatehouse::start(&cfg, &[port]);
    assert!(
        wait_until(DEFAULT_TIMEOUT, || g
            .0
            .stderr()
            .contains("Server b/s2 is DOWN")
            && g.0.stderr().contains("Server b/s3 is DOWN")),
        "{}",
        g.0.stderr()
    );
    assert!(
        !g.0.stderr().contains("Server b/s1 is DOWN"),
        "{}",
        g.0.stderr()
    );
    for _ in 0..4 {
        assert_eq!(get(port, "x").0, 200);
    }
}
