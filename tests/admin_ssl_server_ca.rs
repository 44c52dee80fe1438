//! The CA and CRL files of `server … ssl verify required` lines replaced over the runtime
//! API, as operators do it with socat, gatehouse and HAProxy 2.6 side by side on the same
//! configuration against a real OpenSSL TLS server (HAProxy serving `site.pem`): `show
//! ssl ca-file|crl-file` list the servers' files with the same bytes; `set` + `commit`
//! change what new connections to a server with a client certificate (`crt`) and its
//! checks trust — a server certificate that no longer verifies is a 503 and a check DOWN
//! with HAProxy's log line — while a client connection open before goes on over its
//! server connection; a server without `crt` keeps its CA, as HAProxy 2.6 links only
//! servers with a certificate to their CA files.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::client::HttpClient;
use support::log_line::{durations_n, log_message};
use support::pki::Pki;
use support::socat::unix_cmd;
use support::*;

const DEFAULTS: &str = "defaults\n  mode http\n  retries 0\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// HAProxy terminating TLS with `site.pem` (issued by the test CA) and answering `ok`.
fn tls_server() -> (Haproxy, u16) {
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend tls\n  bind 127.0.0.1:{port} ssl crt {}\n  \
         http-request return status 200 content-type text/plain string ok\n",
        Pki::get().p("site.pem")
    );
    (Haproxy::start(&cfg, &[port]), port)
}

/// HAProxy's httpclient loads the system CAs as `@system-ca` unless told not to verify;
/// gatehouse has no httpclient.
fn haproxy_cfg(cfg: &str) -> String {
    cfg.replacen("global\n", "global\n  httpclient.ssl.verify none\n", 1)
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(Pki::get().path(name)).unwrap()
}

/// The status of a request on a new client connection.
fn status(port: u16, path: &str) -> u16 {
    let mut c = HttpClient::connect(local(port)).expect("connect");
    c.get(path, &[("Host", "x")]).expect("a response").status
}

/// Sends `cmd` (with `payload`, if any) to a proxy's admin socket.
fn admin(dir: &Path, cmd: &str, payload: Option<&str>) -> String {
    let input = match payload {
        Some(p) => format!("{cmd} <<\n{}\n", p.trim_end()),
        None => cmd.to_owned(),
    };
    unix_cmd(&dir.join("admin.sock"), &input)
}

/// Runs the same commands on both proxies and compares the replies; returns ours.
fn same_replies(ours: &Path, theirs: &Path, steps: &[(String, Option<String>)]) -> Vec<String> {
    steps
        .iter()
        .map(|(cmd, payload)| {
            let a = admin(ours, cmd, payload.as_deref());
            let b = admin(theirs, cmd, payload.as_deref());
            assert_eq!(a, b, "{cmd}");
            a
        })
        .collect()
}

/// Two backends to the same TLS server: `b1`'s server presents a client certificate
/// (`crt`) and verifies with `linked`, `b2`'s has none and verifies with `unlinked`.
fn ca_cfg(port: u16, sp: u16, linked: &Path, unlinked: &Path) -> String {
    format!(
        "global\n  stats socket unix@admin.sock level admin\n{DEFAULTS}\
         frontend f\n  bind 127.0.0.1:{port}\n  use_backend b2 if {{ path_beg /b2 }}\n  default_backend b1\n\
         backend b1\n  server s1 127.0.0.1:{sp} ssl verify required ca-file {} crt {}\n\
         backend b2\n  server s2 127.0.0.1:{sp} ssl verify required ca-file {}\n",
        linked.display(),
        Pki::get().p("alice.pem"),
        unlinked.display()
    )
}

#[test]
fn a_committed_server_ca_file_changes_what_new_connections_trust_and_kept_ones_go_on() {
    require_haproxy();
    let (_srv, sp) = tls_server();
    let dir = TempDir::new("admin-ssl-server-ca");
    let linked = dir.write("srv-ca.pem", pem("ca.pem"));
    let unlinked = dir.write("plain-ca.pem", pem("ca.pem"));
    let (l, u) = (linked.display(), unlinked.display());
    let port = free_port();
    let g = Gatehouse::start(&ca_cfg(port, sp, &linked, &unlinked), &[port]);
    let hport = free_port();
    let h = Haproxy::start(
        &haproxy_cfg(&ca_cfg(hport, sp, &linked, &unlinked)),
        &[hport],
    );
    let (ours, theirs) = (g.dir(), h.dir());

    for p in [port, hport] {
        assert_eq!(status(p, "/"), 200, "port {p}");
        assert_eq!(status(p, "/b2"), 200, "port {p}");
    }
    let mut kept: Vec<HttpClient> = [port, hport]
        .iter()
        .map(|p| HttpClient::connect(local(*p)).unwrap())
        .collect();
    for k in &mut kept {
        assert_eq!(k.get("/", &[("Host", "x")]).unwrap().status, 200);
    }

    let other = pem("otherca.pem");
    let replies = same_replies(
        ours,
        theirs,
        &[
            ("show ssl ca-file".into(), None),
            (format!("show ssl ca-file {l}"), None),
            (format!("show ssl ca-file {u}"), None),
            (format!("set ssl ca-file {l}"), Some(other.clone())),
            ("show ssl ca-file".into(), None),
            (format!("commit ssl ca-file {l}"), None),
            (format!("set ssl ca-file {u}"), Some(other.clone())),
            (format!("commit ssl ca-file {u}"), None),
            ("show ssl ca-file".into(), None),
            (format!("show ssl ca-file {u}"), None),
        ],
    );
    assert_eq!(
        replies[0],
        format!("# filename\n{u} - 1 certificate(s)\n{l} - 1 certificate(s)\n\n")
    );
    assert!(replies[1].contains("Status: Used\n"), "{}", replies[1]);
    assert!(replies[2].contains("Status: Unused\n"), "{}", replies[2]);
    // One dot: the server with `crt`; none for the one without.
    assert_eq!(replies[5], format!("Committing {l}.\nSuccess!\n\n"));
    assert_eq!(replies[7], format!("Committing {u}\nSuccess!\n\n"));
    assert!(replies[9].contains("Other CA"), "{}", replies[9]);

    for p in [port, hport] {
        // New connections to s1 trust only the other CA now: the site's certificate
        // fails verification.
        assert_eq!(status(p, "/"), 503, "port {p}");
        // s2 has no `crt`: HAProxy 2.6 keeps its CA.
        assert_eq!(status(p, "/b2"), 200, "port {p}");
    }
    // The client connections open before go on over their server connections.
    for k in &mut kept {
        assert_eq!(k.get("/", &[("Host", "x")]).unwrap().status, 200);
    }

    let back = same_replies(
        ours,
        theirs,
        &[
            (format!("set ssl ca-file {l}"), Some(pem("ca.pem"))),
            (format!("commit ssl ca-file {l}"), None),
        ],
    );
    assert_eq!(back[1], format!("Committing {l}.\nSuccess!\n\n"));
    for p in [port, hport] {
        assert_eq!(status(p, "/"), 200, "port {p}");
    }

    // A file used only by servers without `crt` is in no instance: HAProxy deletes it
    // (its servers keep verifying as before); one linked to a server is in use.
    let del = same_replies(
        ours,
        theirs,
        &[
            (format!("del ssl ca-file {l}"), None),
            (format!("del ssl ca-file {u}"), None),
            ("show ssl ca-file".into(), None),
            (format!("new ssl ca-file {u}"), None),
            ("show ssl ca-file".into(), None),
        ],
    );
    assert_eq!(
        del[0],
        format!("Can't remove the CA file: CA file '{l}' in use, can't be deleted!\n\n\n")
    );
    assert_eq!(del[1], format!("CA file '{u}' deleted!\n\n"));
    assert_eq!(del[2], format!("# filename\n{l} - 1 certificate(s)\n\n"));
    for p in [port, hport] {
        assert_eq!(status(p, "/b2"), 200, "port {p}");
    }
}

/// A CRL of the test CA made with `openssl ca -gencrl` in `dir`, revoking the site's
/// certificate when `revoke_site`.
fn crl(dir: &Path, revoke_site: bool) -> PathBuf {
    let pki = Pki::get();
    let work = dir.join(if revoke_site {
        "ca-revoked"
    } else {
        "ca-empty"
    });
    std::fs::create_dir_all(&work).unwrap();
    for f in ["ca.pem", "ca.key", "ca.cnf", "site.crt"] {
        std::fs::copy(pki.path(f), work.join(f)).unwrap();
    }
    std::fs::write(work.join("index.txt"), "").unwrap();
    std::fs::write(work.join("crlnumber"), "3000\n").unwrap();
    let openssl = |args: &[&str]| {
        let st = Command::new("openssl")
            .args(args)
            .current_dir(&work)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "openssl {args:?}");
    };
    if revoke_site {
        openssl(&["ca", "-config", "ca.cnf", "-revoke", "site.crt"]);
    }
    openssl(&["ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem"]);
    work.join("crl.pem")
}

/// The `Server b3/s3 is …` lines of a proxy's stderr, as compared.
fn state_lines(d: &Daemon) -> Vec<String> {
    d.stderr()
        .lines()
        .filter(|l| l.contains("Server b3/s3 is "))
        .map(|l| durations_n(log_message(l)))
        .collect()
}

#[test]
fn a_committed_server_crl_file_revoking_the_server_fails_requests_and_checks_until_set_back() {
    require_haproxy();
    let (_srv, sp) = tls_server();
    let dir = TempDir::new("admin-ssl-server-crl");
    let empty = std::fs::read_to_string(crl(dir.path(), false)).unwrap();
    let revoked = std::fs::read_to_string(crl(dir.path(), true)).unwrap();
    let file = dir.write("srv-crl.pem", &empty);
    let f = file.display();
    let pki = Pki::get();
    // b1's server takes requests; b3's, with the same files, is checked.
    let cfg = |port: u16| {
        let opts = format!(
            "ssl verify required ca-file {} crl-file {f} crt {}",
            pki.p("ca.pem"),
            pki.p("alice.pem")
        );
        format!(
            "global\n  stats socket unix@admin.sock level admin\n{DEFAULTS}\
             frontend f\n  bind 127.0.0.1:{port}\n  default_backend b1\n\
             backend b1\n  server s1 127.0.0.1:{sp} {opts}\n\
             backend b3\n  server s3 127.0.0.1:{sp} {opts} check inter 1s fall 1 rise 1\n"
        )
    };
    let port = free_port();
    let g = Gatehouse::start(&cfg(port), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&haproxy_cfg(&cfg(hport)), &[hport]);
    let (ours, theirs) = (g.dir(), h.dir());
    for p in [port, hport] {
        assert_eq!(status(p, "/"), 200, "port {p}");
    }

    let replies = same_replies(
        ours,
        theirs,
        &[
            ("show ssl crl-file".into(), None),
            (format!("show ssl crl-file {f}"), None),
            (format!("set ssl crl-file {f}"), Some(revoked.clone())),
            (format!("commit ssl crl-file {f}"), None),
            (format!("show ssl crl-file {f}"), None),
        ],
    );
    assert_eq!(replies[0], format!("# filename\n{f}\n\n"));
    assert!(replies[1].contains("Status: Used\n"), "{}", replies[1]);
    // Two servers with `crt` use the file: two dots.
    assert_eq!(replies[3], format!("Committing {f}..\nSuccess!\n\n"));
    assert!(replies[4].contains("Serial Number: 1002"), "{}", replies[4]);

    for p in [port, hport] {
        assert_eq!(
            status(p, "/"),
            503,
            "port {p}: the site's certificate is revoked"
        );
    }
    let down = |d: &Daemon| state_lines(d).iter().any(|l| l.contains("is DOWN"));
    assert!(
        wait_until(DEFAULT_TIMEOUT, || down(&g) && down(&h)),
        "ours: {}\ntheirs: {}",
        g.stderr(),
        h.stderr()
    );

    same_replies(
        ours,
        theirs,
        &[
            (format!("set ssl crl-file {f}"), Some(empty.clone())),
            (format!("commit ssl crl-file {f}"), None),
        ],
    );
    for p in [port, hport] {
        assert_eq!(status(p, "/"), 200, "port {p}");
    }
    let up = |d: &Daemon| state_lines(d).iter().any(|l| l.contains("is UP"));
    assert!(
        wait_until(DEFAULT_TIMEOUT, || up(&g) && up(&h)),
        "ours: {}\ntheirs: {}",
        g.stderr(),
        h.stderr()
    );
    let ours_lines = state_lines(&g);
    assert_eq!(ours_lines, state_lines(&h));
    assert_eq!(
        ours_lines[0],
        "Server b3/s3 is DOWN, reason: Layer6 invalid response, info: \"SSL handshake failure\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
}

#[test]
fn an_in_place_reload_reads_the_server_ca_file_again() {
    require_haproxy();
    let (_srv, sp) = tls_server();
    let dir = TempDir::new("admin-ssl-server-ca-reload");
    let linked = dir.write("srv-ca.pem", pem("ca.pem"));
    let unlinked = dir.write("plain-ca.pem", pem("ca.pem"));
    let l = linked.display();
    let port = free_port();
    let mut g = Gatehouse::start(&ca_cfg(port, sp, &linked, &unlinked), &[port]);
    let ours = g.dir().to_owned();
    assert_eq!(
        admin(
            &ours,
            &format!("set ssl ca-file {l}"),
            Some(&pem("otherca.pem"))
        ),
        format!("transaction created for CA {l}!\n\n")
    );
    assert_eq!(
        admin(&ours, &format!("commit ssl ca-file {l}"), None),
        format!("Committing {l}.\nSuccess!\n\n")
    );
    assert_eq!(status(port, "/"), 503);
    // The file was not written: the reload reads it again.
    g.signal(libc::SIGUSR2);
    assert!(
        wait_until(DEFAULT_TIMEOUT, || g.stderr().contains("Loading success.")),
        "{}",
        g.stderr()
    );
    assert!(wait_until(DEFAULT_TIMEOUT, || status(port, "/") == 200));
    let shown = admin(&ours, &format!("show ssl ca-file {l}"), None);
    assert!(shown.contains("CN=Gatehouse Test CA"), "{shown}");
}
