//! The stapled OCSP responses over the runtime API, as HAProxy 2.6 answers:
//! `show ssl ocsp-response` lists them by certificate ID, and `set ssl ocsp-response`
//! (base64 on the command line or as a payload) replaces one after the same checks as
//! at load — `openssl s_client -status` then gets the new response on a new handshake.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use support::pki::{Pki, s_client};
use support::socat::unix_cmd;
use support::*;

fn cfg(port: u16, crt: &Path) -> String {
    format!(
        "global\n  stats socket unix@admin.sock level admin\n\
         defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n\
         frontend f\n  bind 127.0.0.1:{port} ssl crt {}\n  \
         http-request return status 200 content-type text/plain string ok\n",
        crt.display()
    )
}

/// A fresh response of the test CA for site's certificate, valid `days` days.
fn response(dir: &Path, days: &str) -> Vec<u8> {
    let pki = Pki::get();
    let out = dir.join(format!("resp-{days}.der"));
    let st = Command::new("openssl")
        .args(["ocsp", "-index"])
        .arg(pki.path("ocsp-index.txt"))
        .arg("-rsigner")
        .arg(pki.path("ca.pem"))
        .arg("-rkey")
        .arg(pki.path("ca.key"))
        .arg("-CA")
        .arg(pki.path("ca.pem"))
        .arg("-issuer")
        .arg(pki.path("ca.pem"))
        .arg("-cert")
        .arg(pki.path("site.crt"))
        .args(["-no_nonce", "-ndays", days, "-respout"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl ocsp");
    std::fs::read(out).unwrap()
}

/// The `Next Update` of the response stapled to a new handshake.
fn stapled_next_update(port: u16) -> Option<String> {
    let c = s_client(port, &["-servername", "www.site.test", "-status"], "");
    c.out
        .lines()
        .find(|l| l.trim_start().starts_with("Next Update:"))
        .map(|l| l.trim().to_owned())
}

#[test]
fn a_set_ocsp_response_is_stapled_by_new_handshakes_and_replies_read_as_haproxys() {
    use base64::Engine;
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let pki = Pki::get();
    let dir = TempDir::new("admin-ssl-ocsp");
    for f in ["site.pem", "site.pem.ocsp", "site.pem.issuer"] {
        dir.write(f, std::fs::read(pki.path(&format!("stapled/{f}"))).unwrap());
    }
    let crt = dir.path().join("site.pem");
    let port = free_port();
    let g = Gatehouse::start(&cfg(port, &crt), &[port]);
    let hport = free_port();
    let h = Haproxy::start(&cfg(hport, &crt), &[hport]);
    let ours = g.dir().join("admin.sock");
    let theirs = h.dir().join("admin.sock");
    let both = |input: &str| {
        let a = unix_cmd(&ours, input);
        assert_eq!(a, unix_cmd(&theirs, input), "{input}");
        a
    };
    let list = both("show ssl ocsp-response");
    assert!(
        list.starts_with("# Certificate IDs\nCertificate ID key : 303b300906052b0e03021a0500"),
        "{list}"
    );
    assert!(list.ends_with("   Serial Number: 1002\n\n"), "{list}");
    both("show ssl ocsp-response 00");
    both("set ssl ocsp-response");
    both("set ssl ocsp-response QUFB");
    both("set ssl ocsp-response !!!");

    let before = stapled_next_update(port).expect("a stapled response");
    assert_eq!(stapled_next_update(hport).as_deref(), Some(before.as_str()));
    // Valid 3 days instead of 30.
    let fresh = response(dir.path(), "3");
    assert_eq!(
        both(&format!("set ssl ocsp-response {}", b64(&fresh))),
        "OCSP Response updated!\n\n"
    );
    let after = stapled_next_update(port).expect("a stapled response");
    assert_ne!(after, before, "the new response is stapled");
    assert_eq!(stapled_next_update(hport).as_deref(), Some(after.as_str()));
    // As a payload too.
    let again = response(dir.path(), "30");
    assert_eq!(
        both(&format!(
            "set ssl ocsp-response <<\n{}\n",
            base64::engine::general_purpose::STANDARD
                .encode(&again)
                .as_bytes()
                .chunks(64)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("\n")
        )),
        "OCSP Response updated!\n\n"
    );
    assert_eq!(stapled_next_update(port), stapled_next_update(hport));
    both("show ssl ocsp-response");
}
