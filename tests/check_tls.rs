//! Checks over TLS (`check-ssl`, `check-sni`, `check-alpn`, `verify`, `ca-file`)
//! against a real TLS server (`openssl s_server -www`) with certificates made by
//! `openssl req`: the HTTP check passes over TLS when the certificate verifies, fails
//! with HAProxy's "Layer6 invalid response" when it does not, and `verify required`
//! (the default) without a `ca-file` is refused at load as HAProxy refuses it. The
//! same configurations run through haproxy for the reference.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::log_line::{durations_n, log_message};
use support::{Daemon, TempDir, check, free_port, gatehouse_bin, proxy_builder, wait_until};

const WAIT: Duration = Duration::from_secs(20);

fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for `app.test` signed by it, and another CA, in
/// `dir`.
fn certificates(dir: &TempDir) {
    let subj = |cn: &str| format!("/CN={cn}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "other.key",
            "-out",
            "other.pem",
            "-days",
            "2",
            "-subj",
            &subj("another CA"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            &subj("gatehouse test CA"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            &subj("app.test"),
        ],
    );
    dir.write("san.ext", "subjectAltName=DNS:app.test\n");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

/// `openssl s_server -www` on a free port: answers `GET /` with a 200 status page.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(dir: &TempDir) -> TlsServer {
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("s_server.log")).unwrap();
        let child = Command::new("openssl")
            .args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args([
                // Three connections (the start probe and two checks; in mode tcp the
                // proxy's start-up probe, relayed, and one check), then it exits, so
                // that its buffered output reaches the log.
                "-cert", "srv.pem", "-key", "srv.key", "-www", "-alpn", "http/1.1", "-naccept", "3",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start openssl s_server");
        let up = wait_until(WAIT, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "openssl s_server did not listen");
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `[WARNING]` message about `be/s1` containing `what`, durations made `Nms`.
fn line(d: &Daemon, what: &str) -> String {
    let found = d.wait_stderr_line(WAIT, |l| {
        l.starts_with("[WARNING]") && l.contains("be/s1") && l.contains(what)
    });
    assert!(found.is_some(), "no {what:?} line:\n{}", d.stderr());
    durations_n(log_message(&found.unwrap()))
}

/// `opts` on the server line of an HTTPS check; with `TCP:` first, a `tcp-check` rule
/// set over `tcp-check connect ssl …` (the rest) instead. Only the first check's line
/// counts: the timeouts and the interval (which bounds a check's connection and TLS
/// handshake in HAProxy) are long enough for a loaded machine, so that it is never a
/// timeout.
fn config(dir: &TempDir, tls: &TlsServer, opts: &str) -> support::Config {
    let template = match opts.strip_prefix("TCP:") {
        Some(connect) => format!(
            "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    timeout check 5s\n\
             listen be\n    bind 127.0.0.1:{{port}}\n    option tcp-check\n    option log-health-checks\n\
             \x20   tcp-check connect {connect}\n    tcp-check send \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    tcp-check expect string \"200 ok\"\n\
             \x20   server s1 127.0.0.1:{{tls}} check inter 2s rise 1 fall 1 verify required ca-file {{dir}}/ca.pem\n"
        ),
        None => "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    timeout check 5s\n\
         listen be\n    bind 127.0.0.1:{port}\n    option httpchk GET /\n    option log-health-checks\n\
         \x20   server s1 127.0.0.1:{tls} check inter 2s rise 1 fall 1 check-ssl {opts}\n"
            .to_owned(),
    };
    support::Config::new(&template)
        .var("dir", dir.path().display())
        .listen_port("port")
        .var("tls", tls.port)
        .var(
            "opts",
            opts.replace("{dir}", &dir.path().display().to_string()),
        )
}

/// The first check's line with `opts` through haproxy or gatehouse.
fn first_check(haproxy: bool, opts: &str, what: &str) -> String {
    let dir = TempDir::new("check-tls");
    certificates(&dir);
    let tls = TlsServer::start(&dir);
    let cfg = config(&dir, &tls, opts);
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    line(&d, what)
}

/// The first check's line, and what `openssl s_server` printed.
fn first_check_and_server_log(haproxy: bool, opts: &str, what: &str) -> (String, String) {
    let dir = TempDir::new("check-tls");
    certificates(&dir);
    let tls = TlsServer::start(&dir);
    let cfg = config(&dir, &tls, opts);
    let d = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let l = line(&d, what);
    let read = || std::fs::read_to_string(dir.path().join("s_server.log")).unwrap_or_default();
    // Its statistics end its output, once it has served its connections.
    wait_until(WAIT, || read().contains("server accepts that finished"));
    (l, read())
}

const VERIFIED: &str =
    "check-sni app.test check-alpn http/1.1,http/1.0 verify required ca-file {dir}/ca.pem";
const WRONG_NAME: &str = "check-sni other.test verify required ca-file {dir}/ca.pem";
const WRONG_CA: &str = "check-sni app.test ca-file {dir}/other.pem";
const TCP_SSL: &str = "TCP:ssl sni app.test alpn http/1.1";
const TCP_SSL_WRONG_NAME: &str = "TCP:ssl sni other.test";

#[test]
fn an_https_check_passes_when_the_certificate_verifies() {
    let (l, server_log) = first_check_and_server_log(false, VERIFIED, "Health check");
    assert_eq!(
        l,
        "Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/1 UP."
    );
    // `check-alpn` is offered as written.
    assert!(
        server_log.contains("ALPN protocols advertised by the client: http/1.1, http/1.0"),
        "{server_log}"
    );
    // No SNI: the chain is verified, not the name.
    let l = first_check(false, "ca-file {dir}/ca.pem", "Health check");
    assert!(l.contains("succeeded"), "{l}");
    // `verify none` takes any certificate.
    let l = first_check(false, "check-sni other.test verify none", "Health check");
    assert!(l.contains("succeeded"), "{l}");
}

#[test]
fn a_certificate_for_another_name_or_from_another_ca_fails_the_check_at_layer6() {
    assert_eq!(
        first_check(false, WRONG_NAME, "Health check"),
        "Health check for server be/s1 failed, reason: Layer6 invalid response, info: \"Server presented an SSL certificate different from the expected one\", check duration: Nms, status: 0/1 DOWN."
    );
    assert_eq!(
        first_check(false, WRONG_CA, "Health check"),
        "Health check for server be/s1 failed, reason: Layer6 invalid response, info: \"SSL handshake failure\", check duration: Nms, status: 0/1 DOWN."
    );
}

#[test]
fn tcp_check_connect_ssl_runs_its_steps_over_tls() {
    let l = first_check(false, TCP_SSL, "Health check");
    assert!(
        l.starts_with("Health check for server be/s1 succeeded"),
        "{l}"
    );
    assert_eq!(
        first_check(false, TCP_SSL_WRONG_NAME, "Health check"),
        "Health check for server be/s1 failed, reason: Layer6 invalid response, info: \"Server presented an SSL certificate different from the expected one at step 1 of tcp-check (connect)\", check duration: Nms, status: 0/1 DOWN."
    );
}

#[test]
fn tls_checks_log_the_same_lines_through_haproxy() {
    for (opts, what) in [
        (VERIFIED, "Health check"),
        (WRONG_NAME, "Health check"),
        (WRONG_CA, "Health check"),
        (TCP_SSL, "Health check"),
        (TCP_SSL_WRONG_NAME, "Health check"),
    ] {
        assert_eq!(
            first_check(false, opts, what),
            first_check(true, opts, what),
            "{opts}"
        );
    }
}

#[test]
fn verify_required_without_a_ca_file_is_refused_at_load() {
    let dir = TempDir::new("check-tls-cfg");
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         backend be\n    server s1 127.0.0.1:{} check check-ssl\n",
        free_port()
    );
    let path = dir.write("haproxy.cfg", &cfg);
    let (code, out, err) = check(&gatehouse_bin(), &[&path]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("verify is enabled by default but no CA file specified."),
        "{err}"
    );
    let (hcode, hout, herr) = check(&support::require_haproxy(), &[&path]);
    assert_ne!(hcode, 0, "{hout}{herr}");
    assert!(
        herr.contains("verify is enabled by default but no CA file specified."),
        "{herr}"
    );
}
