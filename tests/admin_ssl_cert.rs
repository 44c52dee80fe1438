//! Replacing a served certificate over the runtime API without a reload, as operators
//! do it with socat: `set ssl cert FILE <<` (the PEM bundle, `FILE.key`, base64
//! `FILE.ocsp`), `show ssl cert [*]FILE`, `commit ssl cert`, `abort ssl cert` — every
//! reply byte for byte as HAProxy 2.6's on the same files, and the certificate that
//! `openssl s_client` receives changing at the commit, not before.

mod support;

use std::path::Path;
use std::time::Duration;
use support::pki::{Pki, s_client};
use support::socat::unix_cmd;
use support::*;

fn cfg(port: u16, crt: &Path) -> String {
    format!(
        "global\n  stats socket unix@admin.sock level admin\n  stats socket unix@user.sock level user\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port} ssl crt {}\n  \
         http-request return status 200 content-type text/plain string ok\n",
        crt.display()
    )
}

/// The CN of the certificate a client asking for `sni` gets.
fn served_cn(port: u16, sni: &str) -> Option<String> {
    s_client(port, &["-servername", sni], "").subject_cn()
}

/// A PEM file's blocks of one kind (`CERTIFICATE`, `PRIVATE KEY`).
fn blocks(pem: &str, kind: &str) -> String {
    let begin = format!("-----BEGIN {kind}-----");
    let end = format!("-----END {kind}-----");
    let mut out = String::new();
    let mut rest = pem;
    while let Some(i) = rest.find(&begin) {
        let j = rest[i..].find(&end).expect("end of block") + i + end.len();
        out.push_str(&rest[i..j]);
        out.push('\n');
        rest = &rest[j..];
    }
    out
}

#[test]
fn a_committed_certificate_serves_new_handshakes_and_replies_read_as_haproxys() {
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-cert");
    let crt = dir.write(
        "front.pem",
        std::fs::read(pki.path("default.pem")).expect("default.pem"),
    );
    let path = crt.display().to_string();
    let site = std::fs::read_to_string(pki.path("site.pem")).unwrap();
    let wild = std::fs::read_to_string(pki.path("wild.pem")).unwrap();
    let ca = std::fs::read_to_string(pki.path("ca.pem")).unwrap();
    let ocsp = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(pki.path("stapled/site.pem.ocsp")).unwrap())
    };

    let port = free_port();
    let g = Gatehouse::start(&cfg(port, &crt), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&cfg(hport, &crt), &[hport]);

    // The same commands on both, in order: (command, payload).
    let steps: Vec<(String, Option<String>)> = vec![
        ("show ssl cert".into(), None),
        (format!("show ssl cert {path}"), None),
        (format!("show ssl cert *{path}"), None),
        ("set ssl cert /nowhere.pem".into(), Some(site.clone())),
        (format!("set ssl cert {path}"), Some("garbage".into())),
        (format!("commit ssl cert {path}"), None),
        (format!("abort ssl cert {path}"), None),
        // A certificate without its key cannot be committed.
        (
            format!("set ssl cert {path}"),
            Some(blocks(&wild, "CERTIFICATE")),
        ),
        ("show ssl cert".into(), None),
        (format!("commit ssl cert {path}"), None),
        // Another's key does not match it.
        (
            format!("set ssl cert {path}.key"),
            Some(blocks(&site, "PRIVATE KEY")),
        ),
        (format!("commit ssl cert {path}"), None),
        ("abort ssl cert /other.pem".into(), None),
        (format!("abort ssl cert {path}"), None),
        // The site's bundle with its CA (the issuer of its OCSP response), then the
        // response.
        (format!("set ssl cert {path}"), Some(format!("{site}{ca}"))),
        (format!("set ssl cert {path}.ocsp"), Some(ocsp)),
        (format!("show ssl cert *{path}"), None),
        ("show ssl cert".into(), None),
        ("commit ssl cert /other.pem".into(), None),
    ];
    let run = |sock: &Path, cmd: &str, payload: &Option<String>| match payload {
        Some(p) => unix_cmd(sock, &format!("{cmd} <<\n{}\n", p.trim_end())),
        None => unix_cmd(sock, cmd),
    };
    for (cmd, payload) in &steps {
        let ours = run(&g.dir().join("admin.sock"), cmd, payload);
        let theirs = run(&h.dir().join("admin.sock"), cmd, payload);
        assert_eq!(ours, theirs, "{cmd}");
    }
    let gs = |c: &str| unix_cmd(&g.dir().join("admin.sock"), c);
    let detail = gs(&format!("show ssl cert *{path}"));
    assert!(detail.contains("Status: Unused\n"), "{detail}");
    assert!(
        detail.contains("Subject Alternative Name: DNS:www.site.test, DNS:site.test\n"),
        "{detail}"
    );
    // The OCSP response's CertID, as HAProxy keys it (a SHA-1 CertID starts so).
    assert!(
        detail.contains("OCSP Response Key: 303b300906052b0e03021a0500"),
        "{detail}"
    );
    assert!(
        detail.contains("Chain Subject: /O=Gatehouse Test/CN=Gatehouse Test CA\n"),
        "{detail}"
    );

    // Nothing changed before the commit.
    assert_eq!(
        served_cn(port, "www.site.test").as_deref(),
        Some("default.test")
    );
    // The user level may not look, nor change anything.
    socat::assert_user_level_refused(g.dir(), "show ssl cert", &format!("commit ssl cert {path}"));

    let committed = format!("Committing {path}.\nSuccess!\n\n");
    assert_eq!(gs(&format!("commit ssl cert {path}")), committed);
    assert_eq!(
        unix_cmd(
            &h.dir().join("admin.sock"),
            &format!("commit ssl cert {path}")
        ),
        committed
    );
    // New handshakes get the new certificate, by its names and as the default one.
    for p in [port, hport] {
        assert_eq!(
            served_cn(p, "www.site.test").as_deref(),
            Some("www.site.test")
        );
        assert_eq!(served_cn(p, "other.test").as_deref(), Some("www.site.test"));
        // With the OCSP response set in the same transaction stapled.
        let stapled = s_client(p, &["-servername", "www.site.test", "-status"], "");
        assert!(
            stapled.out.contains("OCSP Response Status: successful"),
            "{}",
            stapled.out
        );
    }
    let shown = gs(&format!("show ssl cert {path}"));
    assert_eq!(
        shown,
        unix_cmd(
            &h.dir().join("admin.sock"),
            &format!("show ssl cert {path}")
        )
    );
    assert!(
        shown.starts_with(&format!("Filename: {path}\nStatus: Used\nSerial: 1002\n")),
        "{shown}"
    );
    assert_eq!(gs("show ssl cert"), format!("# filename\n{path}\n\n"));
}

#[test]
fn a_reload_serves_the_file_again_as_haproxys_does() {
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-cert-reload");
    let crt = dir.write("front.pem", std::fs::read(pki.path("default.pem")).unwrap());
    let path = crt.display().to_string();
    let port = free_port();
    let mut g = Gatehouse::start(&cfg(port, &crt), &[port]);
    let sock = g.dir().join("admin.sock");
    let site = std::fs::read_to_string(pki.path("site.pem")).unwrap();
    assert_eq!(
        unix_cmd(
            &sock,
            &format!("set ssl cert {path} <<\n{}\n", site.trim_end())
        ),
        format!("Transaction created for certificate {path}!\n\n")
    );
    assert!(unix_cmd(&sock, &format!("commit ssl cert {path}")).ends_with("Success!\n\n"));
    assert_eq!(served_cn(port, "x.test").as_deref(), Some("www.site.test"));
    // The file was not written: a reload reads it again (write the file too).
    g.reload_in_place();
    assert!(wait_until(Duration::from_secs(5), || served_cn(
        port, "x.test"
    )
    .as_deref()
        == Some("default.test")));
    // Written and committed, it stays.
    std::fs::write(&crt, &site).unwrap();
    g.reload_in_place();
    assert_eq!(served_cn(port, "x.test").as_deref(), Some("www.site.test"));
    assert_eq!(
        unix_cmd(&sock, "show ssl cert"),
        format!("# filename\n{path}\n\n")
    );
}
