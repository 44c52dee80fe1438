//! Replacing the CA and CRL files a bind verifies client certificates with, over the
//! runtime API without a reload, as operators do it with socat: `new|set|commit|abort|
//! show|del ssl ca-file` and `… crl-file` — every reply byte for byte as HAProxy 2.6's
//! on the same files and commands — and the client certificates curl presents accepted
//! or refused by new handshakes from the commit on, while a connection opened before
//! goes on.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::pki::{Pki, curl_site};
use support::socat::unix_cmd;
use support::*;

/// A bind verifying client certificates with `ca` (and `crl`, if any).
fn cfg(port: u16, ca: &Path, crl: Option<&Path>) -> String {
    let pki = Pki::get();
    format!(
        "global\n  stats socket unix@admin.sock level admin\n  stats socket unix@user.sock level user\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port} ssl crt {} ca-file {} verify required{}\n  \
         http-request return status 200 content-type text/plain lf-string \"%[ssl_c_s_dn(CN)]\\n\"\n",
        pki.p("site.pem"),
        ca.display(),
        crl.map(|c| format!(" crl-file {}", c.display()))
            .unwrap_or_default()
    )
}

/// HAProxy's httpclient loads the system CAs as `@system-ca` unless told not to verify;
/// gatehouse has no httpclient.
fn haproxy_cfg(cfg: &str) -> String {
    cfg.replacen("global\n", "global\n  httpclient.ssl.verify none\n", 1)
}

/// The CN a new connection as `who` is answered with, `None` when refused.
fn who_gets_in(port: u16, who: &str) -> Option<String> {
    curl_site(port, Some(who), "/", &[]).map(|b| b.trim().to_owned())
}

/// Runs the same commands (with their payloads) on both sockets and compares replies.
fn same_replies(ours: &Path, theirs: &Path, steps: &[(String, Option<String>)]) {
    for (cmd, payload) in steps {
        let input = match payload {
            Some(p) => format!("{cmd} <<\n{}\n", p.trim_end()),
            None => cmd.clone(),
        };
        let a = unix_cmd(ours, &input);
        let b = unix_cmd(theirs, &input);
        assert_eq!(a, b, "{cmd}");
    }
}

/// An `openssl s_client` session as alice, kept open: requests go over the same TLS
/// connection.
struct Kept {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Kept {
    fn open(port: u16) -> Kept {
        let pki = Pki::get();
        let mut child = Command::new("openssl")
            .args(["s_client", "-quiet", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-servername", "www.site.test", "-cert"])
            .arg(pki.path("alice.crt"))
            .arg("-key")
            .arg(pki.path("alice.key"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_client");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Kept { child, lines }
    }

    /// Sends a request and returns the body line of the answer.
    fn ask(&mut self) -> String {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin
            .write_all(b"GET / HTTP/1.1\r\nHost: www.site.test\r\n\r\n")
            .unwrap();
        stdin.flush().unwrap();
        let mut blank = false;
        loop {
            let l = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("an answer on the kept connection");
            if blank {
                return l;
            }
            blank = l.trim_end().is_empty();
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut s = String::new();
        let _ = self
            .child
            .stdout
            .take()
            .map(|mut o| o.read_to_string(&mut s));
    }
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(Pki::get().path(name)).unwrap()
}

#[test]
fn a_committed_ca_file_changes_who_new_handshakes_accept_and_replies_read_as_haproxys() {
    let dir = TempDir::new("admin-ssl-cafile");
    let ca = dir.write("front-ca.pem", pem("ca.pem"));
    let path = ca.display().to_string();
    let port = free_port();
    let g = Gatehouse::start(&cfg(port, &ca, None), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&haproxy_cfg(&cfg(hport, &ca, None)), &[hport]);
    let ours = g.dir().join("admin.sock");
    let theirs = h.dir().join("admin.sock");

    for p in [port, hport] {
        assert_eq!(who_gets_in(p, "alice").as_deref(), Some("alice"));
        assert_eq!(who_gets_in(p, "eve"), None, "eve's CA is not trusted yet");
    }
    let mut kept = Kept::open(port);
    assert_eq!(kept.ask(), "alice");

    let other = pem("otherca.pem");
    let both = format!("{}{other}", pem("ca.pem"));
    let steps: Vec<(String, Option<String>)> = vec![
        ("show ssl ca-file".into(), None),
        (format!("show ssl ca-file {path}"), None),
        (format!("show ssl ca-file {path}:1"), None),
        (format!("show ssl ca-file {path}:2"), None),
        (format!("show ssl ca-file {path}:x"), None),
        ("show ssl ca-file /nowhere.pem".into(), None),
        ("set ssl ca-file".into(), None),
        ("set ssl ca-file /nowhere.pem".into(), Some(other.clone())),
        (format!("set ssl ca-file {path}"), Some("garbage".into())),
        ("commit ssl ca-file".into(), None),
        (format!("commit ssl ca-file {path}"), None),
        ("abort ssl ca-file".into(), None),
        (format!("abort ssl ca-file {path}"), None),
        (format!("set ssl ca-file {path}"), Some(both)),
        (format!("set ssl ca-file {path}"), Some(other.clone())),
        ("set ssl ca-file /other.pem".into(), Some(other.clone())),
        ("commit ssl ca-file /other.pem".into(), None),
        ("abort ssl ca-file /other.pem".into(), None),
        ("show ssl ca-file".into(), None),
        (format!("show ssl ca-file *{path}"), None),
        (format!("show ssl ca-file *{path}:1"), None),
        ("new ssl ca-file".into(), None),
        (format!("new ssl ca-file {path}"), None),
        ("new ssl ca-file runtime-ca.pem".into(), None),
        ("show ssl ca-file runtime-ca.pem".into(), None),
        ("del ssl ca-file".into(), None),
        (format!("del ssl ca-file {path}"), None),
        ("del ssl ca-file /nowhere.pem".into(), None),
        ("del ssl ca-file runtime-ca.pem".into(), None),
        ("show ssl ca-file".into(), None),
    ];
    same_replies(&ours, &theirs, &steps);

    // Nothing changed before the commit; the user level may not look nor change.
    assert_eq!(who_gets_in(port, "eve"), None);
    socat::assert_user_level_refused(
        g.dir(),
        "show ssl ca-file",
        &format!("commit ssl ca-file {path}"),
    );

    // The commit: one dot per certificate instance using the file, as HAProxy.
    let committed = format!("Committing {path}.\nSuccess!\n\n");
    same_replies(
        &ours,
        &theirs,
        &[
            (format!("commit ssl ca-file {path}"), None),
            ("show ssl ca-file".into(), None),
            (format!("show ssl ca-file {path}"), None),
        ],
    );
    assert_eq!(
        unix_cmd(&ours, "show ssl ca-file"),
        format!("# filename\n{path} - 1 certificate(s)\n\n")
    );
    let _ = committed;
    // New handshakes trust only the other CA now, on both.
    for p in [port, hport] {
        assert_eq!(who_gets_in(p, "eve").as_deref(), Some("eve"));
        assert_eq!(
            who_gets_in(p, "alice"),
            None,
            "alice's CA is no longer trusted"
        );
    }
    // The connection opened before goes on.
    assert_eq!(kept.ask(), "alice");
}

/// A CRL of the test CA revoking nothing, made with `openssl ca -gencrl` in `dir`.
fn empty_crl(dir: &Path) -> PathBuf {
    let pki = Pki::get();
    let work = dir.join("ca-empty");
    std::fs::create_dir_all(&work).unwrap();
    for f in ["ca.pem", "ca.key", "ca.cnf"] {
        std::fs::copy(pki.path(f), work.join(f)).unwrap();
    }
    std::fs::write(work.join("index.txt"), "").unwrap();
    std::fs::write(work.join("crlnumber"), "2000\n").unwrap();
    let st = Command::new("openssl")
        .args([
            "ca",
            "-config",
            "ca.cnf",
            "-gencrl",
            "-out",
            "empty-crl.pem",
        ])
        .current_dir(&work)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl ca -gencrl");
    work.join("empty-crl.pem")
}

#[test]
fn a_committed_crl_file_revokes_on_new_handshakes_and_replies_read_as_haproxys() {
    let dir = TempDir::new("admin-ssl-crlfile");
    let ca = dir.write("front-ca.pem", pem("ca.pem"));
    let empty = empty_crl(dir.path());
    let crl = dir.write("front-crl.pem", std::fs::read(&empty).unwrap());
    let path = crl.display().to_string();
    let port = free_port();
    let g = Gatehouse::start(&cfg(port, &ca, Some(&crl)), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&haproxy_cfg(&cfg(hport, &ca, Some(&crl))), &[hport]);
    let ours = g.dir().join("admin.sock");
    let theirs = h.dir().join("admin.sock");
    for p in [port, hport] {
        assert_eq!(who_gets_in(p, "mallory").as_deref(), Some("mallory"));
    }
    let revoking = pem("crl.pem");
    let steps: Vec<(String, Option<String>)> = vec![
        ("show ssl crl-file".into(), None),
        (format!("show ssl crl-file {path}"), None),
        (format!("show ssl crl-file {path}:1"), None),
        ("show ssl crl-file /nowhere.pem".into(), None),
        ("set ssl crl-file".into(), None),
        (
            "set ssl crl-file /nowhere.pem".into(),
            Some(revoking.clone()),
        ),
        (format!("set ssl crl-file {path}"), Some("garbage".into())),
        ("commit ssl crl-file".into(), None),
        (format!("commit ssl crl-file {path}"), None),
        ("abort ssl crl-file".into(), None),
        (format!("abort ssl crl-file {path}"), None),
        (format!("set ssl crl-file {path}"), Some(revoking.clone())),
        (format!("abort ssl crl-file {path}"), None),
        (format!("set ssl crl-file {path}"), Some(revoking.clone())),
        (format!("set ssl crl-file {path}"), Some(revoking.clone())),
        ("commit ssl crl-file /other.pem".into(), None),
        ("show ssl crl-file".into(), None),
        (format!("show ssl crl-file *{path}"), None),
        ("new ssl crl-file".into(), None),
        (format!("new ssl crl-file {path}"), None),
        ("new ssl crl-file runtime-crl.pem".into(), None),
        ("show ssl crl-file runtime-crl.pem".into(), None),
        ("show ssl crl-file".into(), None),
        (format!("del ssl crl-file {path}"), None),
        ("del ssl crl-file runtime-crl.pem".into(), None),
        ("del ssl crl-file runtime-crl.pem".into(), None),
    ];
    same_replies(&ours, &theirs, &steps);
    let detail = unix_cmd(&ours, &format!("show ssl crl-file *{path}"));
    assert!(
        detail.contains("Revoked Certificates:\n    Serial Number: 2002\n"),
        "{detail}"
    );
    assert_eq!(who_gets_in(port, "mallory").as_deref(), Some("mallory"));
    same_replies(
        &ours,
        &theirs,
        &[
            (format!("commit ssl crl-file {path}"), None),
            (format!("show ssl crl-file {path}"), None),
        ],
    );
    for p in [port, hport] {
        assert_eq!(who_gets_in(p, "mallory"), None, "mallory is revoked now");
        assert_eq!(who_gets_in(p, "alice").as_deref(), Some("alice"));
    }
}

#[test]
fn a_reload_reads_the_ca_file_again_as_haproxys_does() {
    let dir = TempDir::new("admin-ssl-cafile-reload");
    let ca = dir.write("front-ca.pem", pem("ca.pem"));
    let path = ca.display().to_string();
    let port = free_port();
    let mut g = Gatehouse::start(&cfg(port, &ca, None), &[port]);
    let sock = g.dir().join("admin.sock");
    assert_eq!(
        unix_cmd(
            &sock,
            &format!(
                "set ssl ca-file {path} <<\n{}\n",
                pem("otherca.pem").trim_end()
            )
        ),
        format!("transaction created for CA {path}!\n\n")
    );
    assert_eq!(
        unix_cmd(&sock, &format!("commit ssl ca-file {path}")),
        format!("Committing {path}.\nSuccess!\n\n")
    );
    assert_eq!(who_gets_in(port, "eve").as_deref(), Some("eve"));
    // The file was not written: the reload's new worker reads it again.
    g.reload_in_place();
    assert!(wait_until(Duration::from_secs(5), || who_gets_in(
        port, "alice"
    )
    .is_some()));
    assert_eq!(who_gets_in(port, "eve"), None);
    assert_eq!(
        unix_cmd(&sock, "show ssl ca-file"),
        format!("# filename\n{path} - 1 certificate(s)\n\n")
    );
}
