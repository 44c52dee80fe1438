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
    response_with(dir, days, &["-no_nonce"])
}

/// A fresh response as `response` makes, with `extra` arguments of `openssl ocsp`.
fn response_with(dir: &Path, days: &str, extra: &[&str]) -> Vec<u8> {
    let pki = Pki::get();
    let out = dir.join(format!("resp-{days}-{}.der", extra.join("")));
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
        .args(extra)
        .args(["-ndays", days, "-respout"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "openssl ocsp");
    std::fs::read(out).unwrap()
}

/// Waits until the stats socket at `sock` answers (it may come up after the frontend's
/// port).
fn answering(sock: &Path) {
    assert!(
        wait_until(std::time::Duration::from_secs(20), || !unix_cmd(
            sock,
            "show ssl ocsp-response"
        )
        .is_empty()),
        "the stats socket never answered"
    );
}

/// A gatehouse and a haproxy on one configuration serving a copy of site's stapled
/// certificate (with its `.ocsp` and `.issuer`), their admin sockets answering.
struct Pair {
    dir: TempDir,
    crt: std::path::PathBuf,
    port: u16,
    hport: u16,
    ours: std::path::PathBuf,
    theirs: std::path::PathBuf,
    _g: Gatehouse,
    _h: Haproxy,
}

impl Pair {
    fn start(tag: &str) -> Pair {
        let pki = Pki::get();
        let dir = TempDir::new(tag);
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
        answering(&ours);
        answering(&theirs);
        Pair {
            dir,
            crt,
            port,
            hport,
            ours,
            theirs,
            _g: g,
            _h: h,
        }
    }

    /// Sends `input` to both sockets: gatehouse's reply, asserted equal to haproxy's.
    fn both(&self, input: &str) -> String {
        let a = unix_cmd(&self.ours, input);
        assert_eq!(a, unix_cmd(&self.theirs, input), "{input}");
        a
    }
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
    let pair = Pair::start("admin-ssl-ocsp");
    let both = |input: &str| pair.both(input);
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

    let before = stapled_next_update(pair.port).expect("a stapled response");
    assert_eq!(
        stapled_next_update(pair.hport).as_deref(),
        Some(before.as_str())
    );
    // Valid 3 days instead of 30.
    let fresh = response(pair.dir.path(), "3");
    assert_eq!(
        both(&format!("set ssl ocsp-response {}", b64(&fresh))),
        "OCSP Response updated!\n\n"
    );
    let after = stapled_next_update(pair.port).expect("a stapled response");
    assert_ne!(after, before, "the new response is stapled");
    assert_eq!(
        stapled_next_update(pair.hport).as_deref(),
        Some(after.as_str())
    );
    // As a payload too.
    let again = response(pair.dir.path(), "30");
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
    assert_eq!(
        stapled_next_update(pair.port),
        stapled_next_update(pair.hport)
    );
    both("show ssl ocsp-response");
}

#[test]
fn show_ssl_ocsp_response_id_prints_the_response_byte_for_byte_as_haproxy() {
    use base64::Engine;
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let pair = Pair::start("admin-ssl-ocsp-show");
    let both = |input: &str| pair.both(input);
    let list = both("show ssl ocsp-response");
    let id = list
        .lines()
        .find_map(|l| l.strip_prefix("Certificate ID key : "))
        .expect("an ID")
        .to_owned();
    let show = || both(&format!("show ssl ocsp-response {id}"));
    // The file made by `openssl ocsp`: the CA signs and includes its certificate.
    let loaded = show();
    for part in [
        "OCSP Response Data:\n    OCSP Response Status: successful (0x0)\n",
        "    Response Type: Basic OCSP Response\n    Version: 1 (0x0)\n",
        "    Responder Id: O = Gatehouse Test, CN = Gatehouse Test CA\n",
        "      Hash Algorithm: sha1\n",
        "      Serial Number: 1002\n    Cert Status: good\n",
        " \n    Signature Algorithm: ecdsa-with-SHA256\n    Signature Value:\n        30:",
        "Certificate:\n    Data:\n        Version: 3 (0x2)\n",
        "                ASN1 OID: prime256v1\n                NIST CURVE: P-256\n",
        "            X509v3 Basic Constraints: critical\n                CA:TRUE\n",
        "-----BEGIN CERTIFICATE-----\n",
    ] {
        assert!(loaded.contains(part), "{part:?} in\n{loaded}");
    }
    assert!(
        loaded.ends_with("-----END CERTIFICATE-----\n\n"),
        "{loaded}"
    );
    assert!(
        !loaded.contains("\n\n-----"),
        "no empty line before the end"
    );
    let next_update = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("    Next Update: "))
            .map(str::to_owned)
    };
    // Its other spellings: upper case, trailing zero bytes; a path is no ID.
    assert_eq!(
        both(&format!("show ssl ocsp-response {}", id.to_uppercase())),
        loaded
    );
    assert_eq!(both(&format!("show ssl ocsp-response {id}0000")), loaded);
    for other in [
        format!("{id}0"),
        format!("{id}zz"),
        pair.crt.display().to_string(),
        "ab".repeat(129),
    ] {
        let r = both(&format!("show ssl ocsp-response {other}"));
        assert!(!r.contains("OCSP Response Data"), "{other}: {r}");
    }

    // Replaced: a response with a nonce, the responder named by its key, then one
    // without certificates.
    for (days, extra) in [
        ("3", &["-resp_key_id"][..]),
        ("4", &["-no_nonce", "-resp_no_certs"][..]),
    ] {
        let fresh = response_with(pair.dir.path(), days, extra);
        assert_eq!(
            both(&format!("set ssl ocsp-response {}", b64(&fresh))),
            "OCSP Response updated!\n\n"
        );
        let now = show();
        assert_ne!(next_update(&now), next_update(&loaded), "{now}");
        assert_eq!(now.contains("Certificate:"), extra.len() == 1, "{now}");
        if extra.len() == 1 {
            assert!(
                now.contains("    Response Extensions:\n        OCSP Nonce: \n"),
                "{now}"
            );
            assert!(
                !now.contains("Responder Id: O =") && now.contains("Responder Id: "),
                "{now}"
            );
        }
    }
}

#[test]
fn a_response_with_a_corrupted_byte_is_refused_where_haproxy_refuses_it() {
    use base64::Engine;
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let pair = Pair::start("admin-ssl-ocsp-corrupt");
    let good = std::fs::read(pair.dir.path().join("site.pem.ocsp")).unwrap();
    // Each byte in turn, its lowest or its highest bit flipped: a tag, a length, an
    // INTEGER's padding, an OID, a name's UTF-8, a byte of the embedded certificate…
    let mut refused = 0;
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= if i % 2 == 0 { 0x01 } else { 0x80 };
        let cmd = format!("set ssl ocsp-response {}", b64(&bad));
        let a = unix_cmd(&pair.ours, &cmd);
        assert_eq!(
            a,
            unix_cmd(&pair.theirs, &cmd),
            "byte {i} of {}",
            good.len()
        );
        if a != "OCSP Response updated!\n\n" {
            refused += 1;
        }
    }
    assert!(refused > good.len() / 4, "{refused} refused");
}
