//! HTTP checks over HTTP/2 (`check-proto h2`, the server's `proto h2`, `h2` picked by
//! the check's ALPN) against nginx, through gatehouse and HAProxy 2.6 on the same
//! configuration: the check's request reaches nginx as HTTP/2, and the same
//! `option log-health-checks` lines come out.

mod support;
use std::time::Duration;
use support::log_line::{durations_n, log_message};
use support::nginx::Nginx;
use support::pki::Pki;
use support::*;

const WAIT: Duration = Duration::from_secs(10);

/// The first `[WARNING]` line about `be/s1` containing `what`, the duration made `Nms`.
fn line(d: &Daemon, what: &str) -> String {
    let found = d.wait_stderr_line(WAIT, |l| {
        l.starts_with("[WARNING]") && l.contains("be/s1") && l.contains(what)
    });
    assert!(found.is_some(), "no {what:?} line:\n{}", d.stderr());
    durations_n(log_message(&found.unwrap()))
}

/// The first check's line with `server` options through haproxy or gatehouse (`host`:
/// the check sends a Host header).
fn first_check(haproxy: bool, server: &str, host: bool, what: &str) -> String {
    let send = if host {
        "    http-check send hdr Host app.test\n"
    } else {
        ""
    };
    let cfg = Config::new(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 2s\n\
         listen be\n    bind 127.0.0.1:{port}\n    option httpchk GET /health\n    option log-health-checks\n{send}\
         \x20   server s1 {server} check inter 1000 rise 1 fall 1\n",
    )
    .listen_port("port")
    .var("send", send)
    .var("server", server);
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    line(&d, what)
}

#[test]
fn http_checks_speak_h2_as_haproxy_chooses() {
    let pki = Pki::get();
    let [h2c, h2tls, h1] = [free_port(), free_port(), free_port()];
    let tls = Nginx::tls();
    let nginx = Nginx::start(
        &format!(
            "server {{\n    listen 127.0.0.1:{h2c} http2;\n    location / {{ return 200 ok; }}\n}}\n\
             server {{\n    listen 127.0.0.1:{h2tls} ssl http2;\n    {tls}    location / {{ return 200 ok; }}\n}}\n\
             server {{\n    listen 127.0.0.1:{h1};\n    location / {{ return 200 ok; }}\n}}\n"
        ),
        &[h2c, h2tls, h1],
    );
    let ca = pki.p("ca.pem");
    let passed = "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/1 UP.";
    for haproxy in [false, true] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        for server in [
            format!("127.0.0.1:{h2c} check-proto h2"),
            format!("127.0.0.1:{h2c} proto h2"),
            format!(
                "127.0.0.1:{h2tls} ssl verify required ca-file {ca} check-sni www.site.test check-alpn h2"
            ),
        ] {
            assert_eq!(
                first_check(haproxy, &server, true, "Health check"),
                passed,
                "{who}: {server}"
            );
        }
    }
    // Without `check-alpn`, a check offers no ALPN and speaks HTTP/1.1: it passes.
    // HAProxy 2.6 offers the server's `alpn`, gets `h2` and still speaks HTTP/1 (a
    // known difference, docs/compat.md).
    let server = format!(
        "127.0.0.1:{h2tls} ssl verify required ca-file {ca} check-sni www.site.test alpn h2,http/1.1"
    );
    assert_eq!(first_check(false, &server, true, "Health check"), passed);
    let theirs = first_check(true, &server, true, "Health check");
    assert!(theirs.contains("Layer7 invalid response"), "{theirs}");
    let h2_checks = nginx
        .access_log()
        .lines()
        .filter(|l| l.contains("\"GET /health HTTP/2.0\" 200"))
        .count();
    assert!(h2_checks >= 6, "{}", nginx.access_log());
    // Without a Host header, nginx refuses an HTTP/2 request that has no :authority:
    // the same line as HAProxy's (no reason phrase over HTTP/2).
    let server = format!("127.0.0.1:{h2c} check-proto h2");
    let ours = first_check(false, &server, false, "Health check");
    assert!(ours.contains("code: 400"), "{ours}");
    assert_eq!(ours, first_check(true, &server, false, "Health check"));
    // An HTTP/1-only server does not pass an HTTP/2 check, nor through HAProxy.
    let server = format!("127.0.0.1:{h1} check-proto h2");
    let ours = first_check(false, &server, true, "Health check");
    let theirs = first_check(true, &server, true, "Health check");
    assert!(ours.contains("failed"), "{ours}");
    assert!(theirs.contains("failed"), "{theirs}");
    assert_eq!(ours, theirs);
}
